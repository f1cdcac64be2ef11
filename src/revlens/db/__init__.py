"""Database access: engine factory, units of work, the declarative base and migrations."""
