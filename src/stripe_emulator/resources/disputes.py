"""Disputes (`dp_…`): opened by the dispute test cards; evidence, test outcomes, close."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing import ledger
from stripe_emulator.errors import invalid
from stripe_emulator.params import AnyHash, Bool, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, present
from stripe_emulator.resources.shapes import METADATA, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
UPDATE = Obj(fields={"evidence": AnyHash(), "metadata": METADATA, "submit": Bool()})
# Evidence text that decides a test-mode dispute, as Stripe documents it.
WINNING, LOSING = "winning_evidence", "losing_evidence"
CLOSED = ("won", "lost", "warning_closed", "prevented")


def new_dispute(ctx: Ctx, charge: JsonObject, *, reason: str, status: str) -> JsonObject:
    """Return a new (unsaved) dispute of the whole charge."""
    card = charge["payment_method_details"]["card"]
    return {
        "id": ctx.new_id("dp", 24),
        "object": "dispute",
        "amount": charge["amount_captured"] or charge["amount"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": ctx.now() + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": ctx.livemode,
        "metadata": {},
        "network_reason_code": None,
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": card["brand"],
                "case_type": "inquiry" if status.startswith("warning_") else "chargeback",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": reason,
        "status": status,
    }


DISPUTE = Resource(
    object="dispute",
    path="/v1/disputes",
    id_prefix="dp",
    id_length=24,
    list_filters={
        "charge": ListFilter("k1", Str()),
        "payment_intent": ListFilter("k2", Str()),
    },
    slots=lambda obj: (obj["charge"], obj["payment_intent"]),
    expandable={"charge": "charge", "payment_intent": "payment_intent"},
)


def _save(ctx: Ctx, dispute: JsonObject) -> None:
    ctx.store.update(ctx.scope, "dispute", dispute, DISPUTE.slots(dispute))


def _reinstate(ctx: Ctx, dispute: JsonObject) -> None:
    txn = ledger.record(
        ctx,
        kind="adjustment",
        amount=dispute["amount"],
        currency=dispute["currency"],
        source=dispute["id"],
        description=f"Chargeback reversal for {dispute['charge']}",
    )
    dispute["balance_transactions"].append(txn)


def _decide(ctx: Ctx, dispute: JsonObject, evidence: dict[str, Any]) -> str | None:
    text = evidence.get("uncategorized_text")
    inquiry = dispute["status"].startswith("warning_")
    if text == WINNING:
        if not inquiry:
            _reinstate(ctx, dispute)
        return "warning_closed" if inquiry else "won"
    if text == LOSING:
        return "warning_closed" if inquiry else "lost"
    return None


def update(ctx: Ctx) -> JsonObject:
    """`POST /v1/disputes/{id}`: stage or submit evidence; test evidence decides the outcome."""
    params = ctx.coerce(UPDATE)
    dispute = load(ctx, DISPUTE, ctx.path_params["id"])
    if dispute["status"] in CLOSED:
        raise invalid("This dispute is already closed.", param="dispute")
    before = events.snapshot(dispute)
    if "metadata" in params:
        dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
    evidence = params.get("evidence") or {}
    unknown = [key for key in evidence if key not in EVIDENCE_FIELDS]
    if unknown:
        raise invalid(f"Received unknown parameter: evidence[{unknown[0]}]", param="evidence")
    dispute["evidence"].update(evidence)
    outcome = None
    if evidence and params.get("submit", True):
        dispute["evidence_details"]["has_evidence"] = True
        dispute["evidence_details"]["submission_count"] += 1
        inquiry = dispute["status"].startswith("warning_")
        dispute["status"] = "warning_under_review" if inquiry else "under_review"
        outcome = _decide(ctx, dispute, evidence)
    _save(ctx, dispute)
    previous = events.previous_attributes(before, dispute)
    if previous:
        events.emit(ctx, "charge.dispute.updated", dispute, previous=previous)
    if outcome is not None:
        _close(ctx, dispute, outcome)
    return present(ctx, DISPUTE, dispute, ctx.expand_paths())


def _close(ctx: Ctx, dispute: JsonObject, status: str) -> None:
    before = events.snapshot(dispute)
    dispute["status"] = status
    _save(ctx, dispute)
    if status == "won":
        events.emit(ctx, "charge.dispute.funds_reinstated", dispute)
    events.emit(
        ctx, "charge.dispute.closed", dispute, previous=events.previous_attributes(before, dispute)
    )


def close(ctx: Ctx) -> JsonObject:
    """`POST /v1/disputes/{id}/close`: accept the dispute, which is then lost."""
    ctx.coerce(Obj())
    dispute = load(ctx, DISPUTE, ctx.path_params["id"])
    if dispute["status"] in CLOSED:
        raise invalid("This dispute is already closed.", param="dispute")
    inquiry = dispute["status"].startswith("warning_")
    _close(ctx, dispute, "warning_closed" if inquiry else "lost")
    return present(ctx, DISPUTE, dispute, ctx.expand_paths())


def register(emulator: Emulator) -> None:
    """Add disputes."""
    emulator.add_resource(DISPUTE)
    emulator.router.add("POST", "/v1/disputes/{id}", update)
    emulator.router.add("POST", "/v1/disputes/{id}/close", close)
