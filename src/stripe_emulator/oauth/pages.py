"""The HTML a person sees on the emulator's Connect pages (our own markup, no assets fetched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f9fc;
color:#1a1f36;margin:0}main{max-width:480px;margin:48px auto;background:#fff;border-radius:8px;
box-shadow:0 2px 8px rgba(0,0,0,.08);padding:32px}h1{font-size:20px;margin:0 0 8px}
.brand{display:flex;align-items:center;gap:12px;margin-bottom:20px}.brand img{width:40px;
height:40px;border-radius:6px}.muted{color:#697386;font-size:14px}label.choice{display:flex;
gap:10px;align-items:center;border:1px solid #e3e8ee;border-radius:6px;padding:10px;margin:8px 0;
cursor:pointer}.actions{display:flex;gap:12px;margin-top:24px}button{font:inherit;padding:10px 16px;
border-radius:6px;border:1px solid #635bff;cursor:pointer}button.allow{background:#635bff;
color:#fff}button.deny{background:#fff;color:#635bff}input[type=text],input[type=email]{
font:inherit;width:100%;box-sizing:border-box;padding:8px;border:1px solid #e3e8ee;
border-radius:6px;margin-top:4px}.error{color:#cd3d64}.scope{background:#f6f9fc;padding:8px 12px;
border-radius:6px}
"""


@dataclass(frozen=True)
class AccountChoice:
    """An account the person may connect."""

    id: str
    name: str
    connected: bool


def _page(title: str, body: str) -> bytes:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return html.encode()


def _brand(name: str, icon: str | None) -> str:
    image = f'<img src="{escape(icon)}" alt="">' if icon else ""
    return f'<div class="brand">{image}<div><strong>{escape(name)}</strong></div></div>'


def consent_page(
    *,
    platform_name: str,
    platform_icon: str | None,
    hidden: Mapping[str, str],
    accounts: Sequence[AccountChoice],
    prefill: Mapping[str, str],
    scope: str,
) -> bytes:
    """Render the page where a person picks an account and allows or denies access."""
    hidden_inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items()
    )
    choices = []
    for index, account in enumerate(accounts):
        checked = " checked" if index == 0 else ""
        note = ' <span class="muted">(already connected)</span>' if account.connected else ""
        choices.append(
            f'<label class="choice"><input type="radio" name="account" '
            f'value="{escape(account.id)}"{checked}><span><strong>{escape(account.name)}</strong>'
            f'{note}<br><span class="muted">{escape(account.id)}</span></span></label>'
        )
    checked_new = "" if accounts else " checked"
    fields = "".join(
        f'<label class="muted">{escape(label)}<input type="{kind}" name="stripe_user[{key}]" '
        f'value="{escape(prefill.get(key, ""))}"></label>'
        for key, label, kind in (
            ("business_name", "Business name", "text"),
            ("email", "Email", "email"),
            ("country", "Country", "text"),
        )
    )
    access = "read your Stripe data" if scope == "read_only" else "read and write your Stripe data"
    body = (
        _brand(platform_name, platform_icon)
        + f"<h1>Connect {escape(platform_name)} to Stripe</h1>"
        + f'<p class="scope">{escape(platform_name)} will be able to <strong>{access}</strong>'
        + f" (<code>{escape(scope)}</code>).</p>"
        + '<form method="post" action="/oauth/authorize">'
        + hidden_inputs
        + "<p>Choose the account to connect:</p>"
        + "".join(choices)
        + f'<label class="choice"><input type="radio" name="account" value="new"{checked_new}>'
        + "<span><strong>Create a new account</strong></span></label>"
        + fields
        + '<div class="actions"><button class="allow" type="submit" name="decision" '
        + 'value="allow">Connect</button><button class="deny" type="submit" name="decision" '
        + 'value="deny">Deny access</button></div></form>'
    )
    return _page(f"Connect {platform_name}", body)


def error_page(message: str) -> bytes:
    """Render an error that is shown instead of redirecting anywhere."""
    body = f'<h1>Something went wrong</h1><p class="error">{escape(message)}</p>'
    return _page("Stripe Connect error", body)


def applications_page(account_id: str, apps: Sequence[tuple[str, str, str]]) -> bytes:
    """Render the connected account's list of authorized applications with revoke buttons."""
    rows = "".join(
        f'<form method="post" action="/dashboard/{escape(account_id)}/applications/'
        f'{escape(client_id)}/revoke" class="choice"><span><strong>{escape(name)}</strong>'
        f'<br><span class="muted">{escape(scope)}</span></span>'
        '<button class="deny" type="submit">Revoke access</button></form>'
        for client_id, name, scope in apps
    )
    body = f"<h1>Authorized applications</h1><p class='muted'>{escape(account_id)}</p>" + (
        rows or "<p>No application has access to this account.</p>"
    )
    return _page("Authorized applications", body)
