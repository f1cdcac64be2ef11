"""The only package that imports `stripe`: clients, OAuth, webhook verification, error policy."""
