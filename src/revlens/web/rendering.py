"""Render a template with what every page needs to know about the caller."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from revlens.web.sessions import signed_in_account


def render(
    templates: Jinja2Templates, request: Request, name: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """Return the page; `signed_in` tells the layout whether to offer signing out."""
    context.setdefault("signed_in", signed_in_account(request) is not None)
    return templates.TemplateResponse(request, name, context, status_code=status)


def message(
    templates: Jinja2Templates,
    request: Request,
    *,
    heading: str,
    text: str,
    status: int,
    retry: bool = False,
    tone: str = "error",
) -> HTMLResponse:
    """Return a page that explains what happened and what to do next."""
    return render(
        templates,
        request,
        "message.html",
        status=status,
        heading=heading,
        text=text,
        retry=retry,
        tone=tone,
    )
