"""Authorization codes and the tokens they grant, kept in the platform's store partition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stripe_emulator.store import Condition, Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

CODE_TYPE = "oauth_code"
GRANT_TYPE = "oauth_grant"
CODE_LIFETIME_S = 300  # [unverified] at Stripe; five minutes is the common belief
SCOPES = ("read_only", "read_write")


@dataclass(frozen=True)
class Grant:
    """What one token exchange issued."""

    refresh_token: str
    access_token: str
    account: str
    scope: str
    livemode: bool
    code: str | None
    revoked: bool

    def to_json(self, created: int) -> dict[str, Any]:
        """Return the stored form."""
        return {
            "id": self.refresh_token,
            "created": created,
            "access_token": self.access_token,
            "account": self.account,
            "scope": self.scope,
            "livemode": self.livemode,
            "code": self.code,
            "revoked": self.revoked,
        }


def scope_covers(granted: str, wanted: str) -> bool:
    """Whether a token of scope `granted` may be narrowed (or kept) to `wanted`."""
    return SCOPES.index(wanted) <= SCOPES.index(granted)


class Grants:
    """Codes and tokens of the platform, in both modes."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def _scope(self, livemode: bool) -> Scope:
        return Scope(self._emulator.platform.account_id, livemode)

    def issue_code(
        self, *, account: str, scope: str, livemode: bool, redirect_uri: str, now: int
    ) -> str:
        """Store and return a new single-use authorization code."""
        code = self._emulator.ids.make("ac", 32)
        record = {
            "id": code,
            "created": now,
            "account": account,
            "scope": scope,
            "livemode": livemode,
            "redirect_uri": redirect_uri,
            "used": False,
        }
        self._emulator.store.insert(self._scope(livemode), CODE_TYPE, record)
        return code

    def code(self, code: str) -> dict[str, Any] | None:
        """Return a stored code in either mode, or None."""
        for livemode in (False, True):
            row = self._emulator.store.get(self._scope(livemode), CODE_TYPE, code)
            if row is not None:
                return row.load()
        return None

    def mark_code_used(self, record: dict[str, Any]) -> None:
        """Remember that a code was exchanged."""
        self._emulator.store.update(
            self._scope(record["livemode"]), CODE_TYPE, {**record, "used": True}
        )

    def issue(
        self, *, account: str, scope: str, livemode: bool, code: str | None, now: int
    ) -> Grant:
        """Store and return a new access and refresh token pair."""
        mode = "live" if livemode else "test"
        grant = Grant(
            refresh_token=self._emulator.ids.make("rt", 40),
            access_token=self._emulator.ids.make(f"sk_{mode}", 40),
            account=account,
            scope=scope,
            livemode=livemode,
            code=code,
            revoked=False,
        )
        self._emulator.store.insert(
            self._scope(livemode), GRANT_TYPE, grant.to_json(now), (grant.access_token, account)
        )
        return grant

    def by_refresh_token(self, token: str) -> Grant | None:
        """Return the grant of a refresh token, or None."""
        for livemode in (False, True):
            row = self._emulator.store.get(self._scope(livemode), GRANT_TYPE, token)
            if row is not None:
                return _grant(row.load())
        return None

    def by_access_token(self, token: str) -> Grant | None:
        """Return the live (not revoked) grant of an access token, or None."""
        livemode = token.startswith("sk_live_")
        page = self._emulator.store.list_page(
            self._scope(livemode), GRANT_TYPE, limit=1, conditions=[Condition("k1", (token,))]
        )
        if not page.rows:
            return None
        grant = _grant(page.rows[0].load())
        return None if grant.revoked else grant

    def revoke(self, *, account: str | None = None, code: str | None = None) -> int:
        """Revoke the grants of an account or of a code; return how many were live."""
        revoked = 0
        for livemode in (False, True):
            conditions = [Condition("k2", (account,))] if account is not None else []
            page = self._emulator.store.list_page(
                self._scope(livemode), GRANT_TYPE, limit=10_000, conditions=conditions
            )
            for row in page.rows:
                record = row.load()
                if record["revoked"] or (code is not None and record["code"] != code):
                    continue
                record["revoked"] = True
                self._emulator.store.update(
                    self._scope(livemode),
                    GRANT_TYPE,
                    record,
                    (record["access_token"], record["account"]),
                )
                revoked += 1
        return revoked

    def resolve_key(self, key: str) -> tuple[str, bool] | None:
        """Resolve an OAuth access token to (connected account, livemode) while it is live."""
        if not key.startswith(("sk_test_", "sk_live_")):
            return None
        grant = self.by_access_token(key)
        if grant is None:
            return None
        if not self._emulator.connections.is_active(grant.account, livemode=grant.livemode):
            return None
        return grant.account, grant.livemode


def _grant(record: dict[str, Any]) -> Grant:
    return Grant(
        refresh_token=record["id"],
        access_token=record["access_token"],
        account=record["account"],
        scope=record["scope"],
        livemode=record["livemode"],
        code=record["code"],
        revoked=record["revoked"],
    )
