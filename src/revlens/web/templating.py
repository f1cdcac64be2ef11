"""Jinja2 templates with the branding and the CSRF token available on every page."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from revlens.config import Settings
from revlens.web.sessions import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def make_templates(settings: Settings) -> Jinja2Templates:
    """Return the templates of the app, with `brand` and `csrf_token(request)` as globals."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["brand"] = {
        "name": settings.branding_name,
        "logo_url": settings.branding_logo_url or "/static/logo.svg",
        "icon_url": settings.branding_icon_url or "/static/icon.svg",
        "primary_color": settings.branding_primary_color,
        "support_url": settings.branding_support_url,
    }
    templates.env.globals["csrf_token"] = csrf_token
    return templates
