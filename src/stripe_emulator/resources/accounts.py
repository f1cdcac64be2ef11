"""Accounts: the platform itself (`GET /v1/account`) and the accounts connected to it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.http_types import Handler, RawJson
from stripe_emulator.params import AnyHash, Currency, Enum, Obj, Str
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.crud import deleted_stub, load, present
from stripe_emulator.resources.shapes import METADATA, merge_metadata
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

BUSINESS_PROFILE = AnyHash()
SETTINGS = AnyHash()
_EDITABLE = {
    "account_token": Str(),
    "business_profile": BUSINESS_PROFILE,
    "business_type": Enum(
        values=("company", "government_entity", "individual", "non_profit"), emptyable=True
    ),
    "capabilities": AnyHash(),
    "company": AnyHash(),
    "default_currency": Currency(),
    "documents": AnyHash(),
    "email": Str(emptyable=True),
    "external_account": Str(),
    "groups": AnyHash(),
    "individual": AnyHash(),
    "metadata": METADATA,
    "settings": SETTINGS,
    "tos_acceptance": AnyHash(),
}
CREATE = Obj(
    fields={
        **_EDITABLE,
        "controller": AnyHash(),
        "country": Str(max_length=2),
        "type": Enum(values=("custom", "express", "standard")),
    }
)
UPDATE = Obj(fields=_EDITABLE)

_PROFILE_KEYS = (
    "annual_revenue",
    "estimated_worker_count",
    "mcc",
    "minority_owned_business_designation",
    "name",
    "product_description",
    "support_address",
    "support_email",
    "support_phone",
    "support_url",
    "url",
)


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = None if value == "" else value
    return merged


def account_object(
    ctx_now: int, account_id: str, *, livemode: bool, params: JsonObject, type_: str = "standard"
) -> JsonObject:
    """Return an account shaped like Stripe's (fixtures3 `account`)."""
    country = params.get("country", "US")
    currency = params.get("default_currency") or {
        "US": "usd",
        "GB": "gbp",
        "CA": "cad",
        "AU": "aud",
        "JP": "jpy",
    }.get(country, "eur")
    standard = type_ == "standard"
    requirements: JsonObject = {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }
    account: JsonObject = {
        "id": account_id,
        "object": "account",
        "business_profile": dict.fromkeys(_PROFILE_KEYS),
        "business_type": params.get("business_type"),
        "capabilities": {"card_payments": "active", "transfers": "active"} if standard else {},
        "charges_enabled": standard,
        "controller": {"is_controller": True, "type": "application"}
        if not standard
        else {"type": "account"},
        "country": country,
        "created": ctx_now,
        "default_currency": currency,
        "details_submitted": standard,
        "email": params.get("email"),
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": dict(requirements),
        "metadata": {},
        "payouts_enabled": standard,
        "requirements": dict(requirements),
        "settings": {
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
            },
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": type_,
    }
    del livemode  # accounts are not mode-specific objects; the connection is
    return apply_changes(account, params)


def apply_changes(account: JsonObject, params: JsonObject) -> JsonObject:
    """Merge editable fields into an account."""
    for key in ("business_profile", "settings", "tos_acceptance", "capabilities"):
        if key in params and isinstance(params[key], dict):
            account[key] = _deep_merge(account.get(key) or {}, params[key])
    for key in ("business_type", "email", "default_currency"):
        if key in params:
            account[key] = params[key]
    if "metadata" in params:
        account["metadata"] = merge_metadata(account["metadata"], params["metadata"])
    name = account["business_profile"].get("name")
    if account["settings"]["dashboard"].get("display_name") is None and name:
        account["settings"]["dashboard"]["display_name"] = name
    return account


def _platform_ctx(ctx: Ctx) -> Ctx:
    if ctx.on_behalf:
        raise invalid("You cannot perform this request as a connected account.")
    return dataclasses.replace(ctx, scope=Scope(ctx.emulator.platform.account_id, ctx.livemode))


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Create a connected account and connect it to the platform in the key's mode."""
    account = account_object(
        ctx.now(),
        object_id,
        livemode=ctx.livemode,
        params=params,
        type_=params.get("type", "standard"),
    )
    ctx.emulator.connections.connect(
        object_id, livemode=ctx.livemode, scope="read_write", now=ctx.now()
    )
    return account


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a connected account."""
    return apply_changes(obj, params)


def on_delete(ctx: Ctx, obj: JsonObject) -> None:
    """Disconnect a deleted account (live Standard accounts cannot be deleted)."""
    if ctx.livemode and obj["type"] == "standard":
        raise ApiError(
            400,
            "Standard accounts created in live mode cannot be deleted via the API.",
            param="account",
        )
    ctx.emulator.connections.revoke(obj["id"], now=ctx.now())


ACCOUNT = Resource(
    object="account",
    path="/v1/accounts",
    id_prefix="acct",
    id_length=16,
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    on_delete=on_delete,
    expandable={},
)


def platform_account(ctx: Ctx) -> JsonObject:
    """Return the platform's own account object."""
    platform = ctx.emulator.platform
    account = account_object(
        platform.created,
        platform.account_id,
        livemode=ctx.livemode,
        params={"business_profile": {"name": "revlens emulator platform"}},
    )
    stored = ctx.store.meta_get("platform_account")
    return account if stored is None else _deep_merge(account, _loads(stored))


def _loads(text: str) -> dict[str, Any]:
    import orjson

    loaded: dict[str, Any] = orjson.loads(text)
    return loaded


def get_account(ctx: Ctx) -> JsonObject:
    """`GET /v1/account`: the platform, or the connected account named by `Stripe-Account`."""
    ctx.coerce(Obj())
    platform_id = ctx.emulator.platform.account_id
    if ctx.scope.account == platform_id:
        return present(ctx, ACCOUNT, platform_account(ctx), ctx.expand_paths())
    # With Stripe-Account, or with the account's own key (an OAuth access token).
    platform_ctx = dataclasses.replace(ctx, scope=Scope(platform_id, ctx.livemode))
    obj = load(platform_ctx, ACCOUNT, ctx.scope.account)
    return present(ctx, ACCOUNT, obj, ctx.expand_paths())


def _scoped(handler: Handler, template: str) -> Handler:
    check_connection = "{id}" in template

    def wrapped(ctx: Ctx) -> JsonObject | RawJson:
        platform_ctx = _platform_ctx(ctx)
        account_id = ctx.path_params.get("id")
        if (
            check_connection
            and account_id is not None
            and account_id != (ctx.emulator.platform.account_id)
        ):
            row = platform_ctx.store.get(platform_ctx.scope, "account", account_id)
            if row is not None and row.deleted and ctx.request.method == "GET":
                return deleted_stub(row.load())
            if not ctx.emulator.connections.is_active(account_id, livemode=ctx.livemode):
                from stripe_emulator.auth import bearer_key, mask_key

                key = bearer_key(ctx.request) or ""
                raise ApiError(
                    403,
                    f"The provided key '{mask_key(key)}' does not have access to account "
                    f"'{account_id}' (or that account does not exist). Application access may "
                    "have been revoked.",
                    code="account_invalid",
                )
        return handler(platform_ctx)

    return wrapped


def register(emulator: Emulator) -> None:
    """Add account endpoints; all act in the platform's scope whatever `Stripe-Account` says."""
    emulator.add_resource(ACCOUNT, wrap=_scoped)
    emulator.router.add("GET", "/v1/account", get_account)
