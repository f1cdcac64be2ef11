"""The web app: FastAPI routes, Jinja2 templates and static files."""
