"""Play customer stories against an emulator in time order, recording the ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.billing.dunning import BillingSettings
from stripe_emulator.billing.periods import add_interval, next_boundary
from stripe_emulator.resources.discounts import add_months
from stripe_emulator.scenario.catalog import ADDONS, COUPONS, AccountCatalog, price_specs
from stripe_emulator.scenario.stories import DAY, Step
from stripe_emulator.scenario.truth import (
    CustomerTruth,
    SubscriptionTruth,
    coupon_truth,
    price_truth,
)
from stripe_emulator.scenario.wire import Api

JsonObject = dict[str, Any]
SETTINGS = BillingSettings()
# When each failed attempt happens, counted from the renewal (the documented retry schedule).
ATTEMPTS = [0]
for _days in SETTINGS.retry_days:
    ATTEMPTS.append(ATTEMPTS[-1] + _days)


@dataclass
class Live:
    """A customer's subscription as the driver knows it."""

    truth: SubscriptionTruth
    anchor: int
    interval: str
    count: int
    items: dict[str, str] = field(default_factory=dict)  # price key → item id
    quantities: dict[str, int] = field(default_factory=dict)
    discounts: list[JsonObject] = field(default_factory=list)
    ended: bool = False


@dataclass
class Player:
    """One customer being played: catalog, truth, and the live subscription."""

    catalog: AccountCatalog
    truth: CustomerTruth
    customer: str | None = None
    live: Live | None = None
    # Steps a step planned for later (a card that fails before a renewal, then is fixed).
    pending: list[Step] = field(default_factory=list)


class Driver:
    """Runs steps through the public API; the clock is moved by the caller."""

    def __init__(self, api: Api, end: int) -> None:
        self.api = api
        self.end = end
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # ---- accounts and catalogs --------------------------------------------------------------

    def open_account(self, country: str, currency: str, index: int) -> AccountCatalog:
        """Create a connected account with the plan mix and coupons."""
        account = self.api.call(
            "POST",
            "/v1/accounts",
            {
                "type": "standard",
                "country": country,
                "default_currency": currency,
                "business_profile": {"name": f"SaaS {index}"},
            },
        )["id"]
        catalog = AccountCatalog(account, currency)
        product = self.api.call("POST", "/v1/products", {"name": "Subscription"}, account)["id"]
        for spec in price_specs():
            params = {**spec.params, "currency": currency, "product": product, "expand": ["tiers"]}
            price = self.api.call("POST", "/v1/prices", params, account)
            catalog.prices[spec.key] = price["id"]
            catalog.price_json[price["id"]] = price_truth(price)
        for key, terms in COUPONS.items():
            wanted = dict(terms)
            if "amount_off" in wanted:
                wanted["currency"] = currency
            coupon = self.api.call("POST", "/v1/coupons", wanted, account)
            catalog.coupons[key] = coupon["id"]
            catalog.coupon_json[coupon["id"]] = coupon_truth(coupon)
        return catalog

    # ---- steps ------------------------------------------------------------------------------

    def play(self, player: Player, step: Step) -> None:
        """Run one step at the current instant."""
        getattr(self, f"_{step.kind}")(player, step)

    def _signup(self, player: Player, step: Step) -> None:
        args, catalog, account = step.args, player.catalog, player.catalog.account
        if player.customer is None:
            params: JsonObject = {"email": f"{player.truth.story}@example.test"}
            player.customer = self.api.call("POST", "/v1/customers", params, account)["id"]
            player.truth.id = player.customer
            if args.get("card"):
                self._attach_default(player, args["card"])
        keys, params = self._subscription_params(player, args)
        sub = self.api.call("POST", "/v1/subscriptions", params, account)
        now = step.at
        price = catalog.price_json[catalog.prices[args["plan"]]]
        truth = SubscriptionTruth(sub["id"], catalog.currency)
        player.truth.subscriptions.append(truth)
        trial_end = sub["trial_end"]
        live = Live(truth, trial_end or now, price["interval"], price["interval_count"])
        listed = sub["items"]
        if listed["has_more"]:
            listed = self.api.call(
                "GET", "/v1/subscription_items", {"subscription": sub["id"], "limit": 100}, account
            )
        by_price = {data["price"]["id"]: data["id"] for data in listed["data"]}
        live.items = {key: by_price[catalog.prices[key]] for key in keys}
        live.quantities = {
            key: item.get("quantity", 1) for key, item in zip(keys, params["items"], strict=True)
        }
        if args.get("coupon"):
            coupon_id = catalog.coupons[args["coupon"]]
            coupon = catalog.coupon_json[coupon_id]
            ends = (
                add_months(now, coupon["duration_in_months"])
                if coupon["duration"] == "repeating"
                else None
            )
            live.discounts = [{"coupon": coupon_id, "start": now, "end": ends}]
        player.live = live
        status = sub["status"]
        truth.change(
            now, self._next(), status=status, items=self._items(player), discounts=live.discounts
        )
        if trial_end:
            after = (
                "active"
                if args.get("card")
                else ("paused" if args.get("pause_on_missing") else "past_due")
            )
            truth.change(trial_end, self._next(), status=after)
            if after == "past_due":
                truth.change(trial_end + ATTEMPTS[-1] * DAY, self._next(), status="canceled")
                live.ended = True

    def _subscription_params(
        self, player: Player, args: JsonObject
    ) -> tuple[list[str], JsonObject]:
        """Return the price keys and `POST /v1/subscriptions` parameters of a signup."""
        catalog = player.catalog
        keys = [args["plan"]]
        if args.get("addons"):
            keys += [f"addon{n}" for n in range(ADDONS)]
        if args.get("metered"):
            keys.append("metered")
        items: list[JsonObject] = []
        for key in keys:
            item: JsonObject = {"price": catalog.prices[key]}
            if key != "metered":
                item["quantity"] = args["quantity"] if key == args["plan"] else 1
            items.append(item)
        params: JsonObject = {"customer": player.customer, "items": items}
        if args.get("coupon"):
            params["discounts"] = [{"coupon": catalog.coupons[args["coupon"]]}]
        if args.get("trial_days"):
            params["trial_period_days"] = args["trial_days"]
            if args.get("pause_on_missing"):
                params["trial_settings"] = {"end_behavior": {"missing_payment_method": "pause"}}
        return keys, params

    def _items(self, player: Player) -> list[JsonObject]:
        live, catalog = player.live, player.catalog
        assert live is not None
        return [
            {"price": catalog.prices[key], "quantity": live.quantities[key]} for key in live.items
        ]

    def _change_price(self, player: Player, step: Step) -> None:
        live = player.live
        if live is None or live.ended:
            return
        old_key = next(iter(live.items))
        new_key = step.args["plan"]
        item_id = live.items.pop(old_key)
        quantity = live.quantities.pop(old_key)
        self.api.call(
            "POST",
            f"/v1/subscriptions/{live.truth.id}",
            {"items": [{"id": item_id, "price": player.catalog.prices[new_key]}]},
            player.catalog.account,
        )
        live.items = {new_key: item_id, **live.items}
        live.quantities = {new_key: quantity, **live.quantities}
        live.truth.change(step.at, self._next(), items=self._items(player))

    def _set_quantity(self, player: Player, step: Step) -> None:
        live = player.live
        if live is None or live.ended:
            return
        key = next(iter(live.items))
        self.api.call(
            "POST",
            f"/v1/subscriptions/{live.truth.id}",
            {"items": [{"id": live.items[key], "quantity": step.args["quantity"]}]},
            player.catalog.account,
        )
        live.quantities[key] = step.args["quantity"]
        live.truth.change(step.at, self._next(), items=self._items(player))

    def _cancel_now(self, player: Player, step: Step) -> None:
        live = player.live
        if live is None or live.ended:
            return
        self.api.call("DELETE", f"/v1/subscriptions/{live.truth.id}", None, player.catalog.account)
        live.truth.change(step.at, self._next(), status="canceled")
        live.ended = True

    def _cancel_at_period_end(self, player: Player, step: Step) -> None:
        live = player.live
        if live is None or live.ended:
            return
        self.api.call(
            "POST",
            f"/v1/subscriptions/{live.truth.id}",
            {"cancel_at_period_end": True},
            player.catalog.account,
        )
        live.truth.change(self.period_end(live, step.at), self._next(), status="canceled")
        live.ended = True

    def period_end(self, live: Live, at: int) -> int:
        """Return the end of the period running at `at`."""
        if at < live.anchor:
            return live.anchor
        return next_boundary(live.anchor, at, live.interval, live.count)

    def renewal(self, live: Live, index: int) -> int:
        """Return the instant of the subscription's `index`-th renewal (1-based)."""
        return add_interval(live.anchor, live.interval, live.count * index)

    def _card_fails(self, player: Player, step: Step) -> None:
        """Plan a card that fails from a renewal on (the steps after are scheduled here)."""
        live = player.live
        if live is None or live.ended:
            return
        renewal = self.renewal(live, step.args["renewal"])
        if renewal + (ATTEMPTS[-1] + 1) * DAY > self.end:
            return
        player.pending = [Step(renewal - DAY, "set_card", {"card": "pm_card_chargeCustomerFail"})]
        live.truth.change(renewal, self._next(), status="past_due")
        if step.args["recover"]:
            player.pending.append(
                Step(renewal + ATTEMPTS[1] * DAY + DAY, "set_card", {"card": "pm_card_visa"})
            )
            live.truth.change(renewal + ATTEMPTS[2] * DAY, self._next(), status="active")
        else:
            live.truth.change(renewal + ATTEMPTS[-1] * DAY, self._next(), status="canceled")
            live.ended = True

    def _set_card(self, player: Player, step: Step) -> None:
        self._attach_default(player, step.args["card"])

    def _attach_default(self, player: Player, card: str) -> None:
        """Save a test card on the customer and make it the default, as an integration does.

        Naming the test token itself as the default would make every renewal charge a
        fresh card (a new payment method and `payment_method.attached` per invoice).
        """
        account = player.catalog.account
        method = self.api.call(
            "POST", f"/v1/payment_methods/{card}/attach", {"customer": player.customer}, account
        )
        self.api.call(
            "POST",
            f"/v1/customers/{player.customer}",
            {"invoice_settings": {"default_payment_method": method["id"]}},
            account,
        )

    def _refund(self, player: Player, step: Step) -> None:
        charges = self.api.call(
            "GET", "/v1/charges", {"customer": player.customer, "limit": 1}, player.catalog.account
        )["data"]
        if charges and charges[0]["status"] == "succeeded":
            self.api.call(
                "POST", "/v1/refunds", {"charge": charges[0]["id"]}, player.catalog.account
            )
