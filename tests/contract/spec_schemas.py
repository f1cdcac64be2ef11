"""Load Stripe's OpenAPI spec once and validate emulator responses against it.

The spec is 2023-08-16; the emulator answers in 2026-08-26.dahlia. `EXEMPT` lists each field
that legitimately differs between the two versions, with the reason.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SPEC_RELATIVE = "stripe-oracles/openapi/spec3.2023-08-16.yaml"

# (schema name, field) → why the emulator's shape differs from the 2023-08-16 spec. Every entry
# is confirmed by test_exemptions_match_the_pinned_sdk: an extra field is declared by the pinned
# stripe-python model, a no-longer-required field is absent from it.
ACCOUNTS_V2 = "added with Accounts v2 (2025)"
BASIL = "basil (2025-03-31) moved billing periods, payment status and parents"
LATER = "added after 2023-08-16; declared by the pinned SDK model"
EXEMPT_EXTRA: dict[tuple[str, str], str] = {
    ("customer", "business_name"): "added 2025 (customer names split)",
    ("customer", "individual_name"): "added 2025 (customer names split)",
    ("customer", "customer_account"): ACCOUNTS_V2,
    ("discount", "source"): "clover (2025-09-30) moved coupon to discount.source.coupon",
    ("discount", "customer_account"): ACCOUNTS_V2,
    ("promotion_code", "promotion"): "clover (2025-09-30) moved coupon to promotion.coupon",
    ("promotion_code", "customer_account"): ACCOUNTS_V2,
    ("product", "marketing_features"): "2024 renamed product.features to marketing_features",
    ("recurring", "meter"): "billing meters added 2024",
    ("recurring", "trial_period_days"): "in the pinned model (fixtures3 price.recurring)",
    ("discount", "subscription_item"): "item-level discounts added after 2023-08-16",
    ("deleted_discount", "subscription_item"): "item-level discounts added after 2023-08-16",
    ("deleted_discount", "source"): "clover (2025-09-30) moved coupon to discount.source",
    ("deleted_discount", "customer_account"): ACCOUNTS_V2,
    ("product", "type"): "in the pinned model (fixtures3 product.type)",
    ("tax_rate", "jurisdiction_level"): LATER,
    ("account_business_profile", "annual_revenue"): "added 2024",
    ("account_business_profile", "estimated_worker_count"): "added 2024",
    ("account_business_profile", "minority_owned_business_designation"): "added 2025",
    ("plan", "meter"): "billing meters added 2024",
    ("tax_rate", "flat_amount"): "flat-amount tax rates added 2024",
    ("tax_rate", "rate_type"): "flat-amount tax rates added 2024",
    ("account_settings", "invoices"): "absent from this emulator's settings (not needed)",
    # Payments.
    ("application_fee", "fee_source"): LATER,
    ("balance_transaction", "balance_type"): LATER,
    ("billing_details", "tax_id"): LATER,
    ("charge", "source"): "kept in the pinned model for legacy Sources (always null here)",
    ("charge_outcome", "advice_code"): LATER,
    ("charge_outcome", "network_advice_code"): LATER,
    ("charge_outcome", "network_decline_code"): LATER,
    ("payment_method_details_card", "amount_authorized"): LATER,
    ("payment_method_details_card", "authorization_code"): LATER,
    ("payment_method_details_card", "extended_authorization"): LATER,
    ("payment_method_details_card", "incremental_authorization"): LATER,
    ("payment_method_details_card", "multicapture"): LATER,
    ("payment_method_details_card", "network_transaction_id"): LATER,
    ("payment_method_details_card", "overcapture"): LATER,
    ("payment_method_details_card", "regulated_status"): LATER,
    ("payment_intent", "customer_account"): ACCOUNTS_V2,
    ("payment_intent", "excluded_payment_method_types"): LATER,
    ("payment_intent", "payment_method_configuration_details"): LATER,
    ("payment_intent", "source"): "kept in the pinned model for legacy Sources (always null here)",
    ("payment_method", "allow_redisplay"): LATER,
    ("payment_method", "customer_account"): ACCOUNTS_V2,
    ("payment_method_card", "display_brand"): LATER,
    ("payment_method_card", "regulated_status"): LATER,
    ("setup_intent", "customer_account"): ACCOUNTS_V2,
    ("setup_intent", "excluded_payment_method_types"): LATER,
    ("setup_intent", "payment_method_configuration_details"): LATER,
    ("refund", "customer"): LATER,
    ("refund", "destination_details"): LATER,
    ("dispute", "enhanced_eligibility_types"): LATER,
    ("dispute", "network_reason_code"): LATER,
    ("dispute_evidence", "enhanced_evidence"): LATER,
    ("dispute_evidence_details", "enhanced_eligibility"): LATER,
    ("dispute_payment_method_details_card", "case_type"): LATER,
    # Billing.
    ("automatic_tax", "disabled_reason"): LATER,
    ("automatic_tax", "liability"): "Stripe Tax liability added 2024",
    ("automatic_tax", "provider"): LATER,
    ("invoice", "amount_overpaid"): LATER,
    ("invoice", "amount_paid_off_stripe"): LATER,
    ("invoice", "automatically_finalizes_at"): LATER,
    ("invoice", "customer_account"): ACCOUNTS_V2,
    ("invoice", "issuer"): "Connect invoice issuer added 2024",
    ("invoice", "parent"): BASIL,
    ("invoice", "rendering"): LATER,
    ("invoice", "total_pretax_credit_amounts"): "billing credits added 2024",
    ("invoice", "total_taxes"): "basil replaced total_tax_amounts with total_taxes",
    ("invoiceitem", "customer_account"): ACCOUNTS_V2,
    ("invoiceitem", "net_amount"): LATER,
    ("invoiceitem", "parent"): BASIL,
    ("invoiceitem", "pricing"): "basil moved price/plan into pricing",
    ("invoiceitem", "proration_details"): LATER,
    ("invoiceitem", "quantity_decimal"): LATER,
    ("line_item", "invoice"): LATER,
    ("line_item", "parent"): BASIL,
    ("line_item", "pretax_credit_amounts"): "billing credits added 2024",
    ("line_item", "pricing"): "basil moved price/plan into pricing",
    ("line_item", "quantity_decimal"): LATER,
    ("line_item", "subtotal"): LATER,
    ("line_item", "taxes"): "basil replaced tax_amounts with taxes",
    ("subscription", "billing_cycle_anchor_config"): LATER,
    ("subscription", "billing_mode"): LATER,
    ("subscription", "customer_account"): ACCOUNTS_V2,
    ("subscription", "discounts"): "multiple discounts added 2023-10",
    ("subscription", "invoice_settings"): LATER,
    ("subscription_automatic_tax", "disabled_reason"): LATER,
    ("subscription_automatic_tax", "liability"): "Stripe Tax liability added 2024",
    ("subscription_item", "current_period_end"): BASIL,
    ("subscription_item", "current_period_start"): BASIL,
    ("subscription_item", "discounts"): "item-level discounts added after 2023-08-16",
    ("subscription_item", "plan"): "in the pinned model (the legacy view of the price)",
    ("tax_id", "owner"): LATER,
    ("test_helpers.test_clock", "status_details"): LATER,
}
# (schema name, field) that the 2023 spec requires but the pinned version removed.
EXEMPT_REQUIRED: dict[tuple[str, str], str] = {
    ("discount", "coupon"): "clover (2025-09-30) removed discount.coupon",
    ("promotion_code", "coupon"): "clover (2025-09-30) removed promotion_code.coupon",
    ("product", "features"): "2024 renamed product.features to marketing_features",
    ("deleted_discount", "coupon"): "clover (2025-09-30) removed discount.coupon",
    ("invoice", "paid"): "basil (2025-03-31) removed invoice.paid",
    ("invoice", "paid_out_of_band"): "basil (2025-03-31) removed invoice.paid_out_of_band",
    ("invoice", "total_tax_amounts"): "basil replaced total_tax_amounts with total_taxes",
    ("line_item", "proration"): "basil moved proration into parent.*_details",
    ("line_item", "type"): "basil removed line.type (parent.type says it)",
    ("subscription", "current_period_end"): "basil moved current periods to the items",
    ("subscription", "current_period_start"): "basil moved current periods to the items",
}
# Paths added after 2023-08-16 (validated as far as their objects are, in their own tests).
EXEMPT_PATHS: dict[str, str] = {
    "/v1/invoice_payments": "invoice payments added with basil (2025-03-31)",
}
# (schema name, field) that the pinned version made nullable.
EXEMPT_NULLABLE: dict[tuple[str, str], str] = {
    ("refund", "description"): "Optional[str] in the pinned model; null when none was given",
}


def _convert(node: Any, name: str | None = None) -> Any:
    """Turn OpenAPI 3.0 schema dialect into JSON Schema, closing objects to unknown fields."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: _convert(value)
        for key, value in node.items()
        if not key.startswith("x-") and key != "nullable"
    }
    if "properties" in result and "additionalProperties" not in result:
        result["additionalProperties"] = False
    if name is not None:
        for (schema, field), _ in EXEMPT_EXTRA.items():
            if schema == name and "properties" in result:
                result["properties"][field] = {}
        result["required"] = [
            field for field in result.get("required", []) if (name, field) not in EXEMPT_REQUIRED
        ]
        for (schema, field), _ in EXEMPT_NULLABLE.items():
            if schema == name and field in result.get("properties", {}):
                result["properties"][field] = {
                    "anyOf": [result["properties"][field], {"type": "null"}]
                }
    if node.get("nullable"):
        return {"anyOf": [result, {"type": "null"}]}
    return result


class Spec:
    """The converted spec and a way to find the schema of an operation's response."""

    def __init__(self, path: Path) -> None:
        raw = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        schemas = raw["components"]["schemas"]
        self.components = {
            "schemas": {name: _convert(schema, name) for name, schema in schemas.items()}
        }
        self.paths: dict[str, Any] = raw["paths"]
        self._patterns = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in self.paths
        ]
        self._validators: dict[tuple[str, str | None, int], Draft202012Validator] = {}
        self._templates: dict[str, str | None] = {}
        self._error_validator = Draft202012Validator(
            {"$ref": "#/components/schemas/error", "components": self.components}
        )

    def template(self, path: str) -> str | None:
        """Return the spec's path template that serves a concrete path, if any."""
        if path not in self._templates:
            found = next((t for pattern, t in self._patterns if pattern.match(path)), None)
            self._templates[path] = found
        return self._templates[path]

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any]:
        """Return the JSON schema of a response, from the operation that serves the path."""
        template = self.template(path)
        if template is None:
            raise LookupError(f"no operation of the spec serves {path}")
        operation = self.paths[template][method.lower()]
        responses = operation["responses"]
        response = responses.get(str(status)) or responses["default"]
        schema = copy.deepcopy(response["content"]["application/json"]["schema"])
        return _convert(schema)

    def validator(self, method: str, path: str, status: int) -> Draft202012Validator:
        """Return the (cached) validator for one operation's response with this status."""
        key = (method, self.template(path), status)
        found = self._validators.get(key)
        if found is None:
            schema = {**self.response_schema(method, path, status), "components": self.components}
            found = self._validators[key] = Draft202012Validator(schema)
        return found

    def check(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Return the problems of any API response: errors against Stripe's error envelope when
        the spec has no such operation, everything else against its operation's schema."""
        template = self.template(path)
        operation = self.paths[template].get(method.lower()) if template is not None else None
        if operation is None:
            if status >= 400:
                return list(self._errors(self._error_validator, method, path, status, body))
            for prefix, _reason in EXEMPT_PATHS.items():
                if path.startswith(prefix):
                    return []
            return [f"{method} {path} -> {status}: no operation of the 2023-08-16 spec serves it"]
        return list(self.errors(method, path, status, body))

    def errors(self, method: str, path: str, status: int, body: Any) -> Iterator[str]:
        """Yield a message per schema violation of a response body."""
        yield from self._errors(self.validator(method, path, status), method, path, status, body)

    def _errors(
        self, validator: Draft202012Validator, method: str, path: str, status: int, body: Any
    ) -> Iterator[str]:
        if self.valid(validator.schema, body):
            return
        for error in validator.iter_errors(body):
            deepest = _cause(error)
            where = "/".join(str(p) for p in deepest.absolute_path)
            yield f"{method} {path} -> {status} at {where or '<root>'}: {deepest.message[:200]}"

    def valid(self, schema: dict[str, Any], value: Any) -> bool:
        """Whether `value` satisfies `schema`: the spec's keywords only, about 50x faster than
        jsonschema (which is asked for the messages once this says no). test_fast_check_agrees
        keeps the two in step."""
        ref = schema.get("$ref")
        if ref is not None:
            return self.valid(self.components["schemas"][ref.rsplit("/", 1)[1]], value)
        any_of = schema.get("anyOf")
        if any_of is not None and not any(self.valid(branch, value) for branch in any_of):
            return False
        kind = schema.get("type")
        if kind is not None and not _is_type(value, kind):
            return False
        if "enum" in schema and not any(_same(value, v) for v in schema["enum"]):
            return False
        if isinstance(value, str):
            return _valid_string(schema, value)
        if isinstance(value, dict):
            return self._valid_object(schema, value)
        if isinstance(value, list) and "items" in schema:
            return all(self.valid(schema["items"], item) for item in value)
        return True

    def _valid_object(self, schema: dict[str, Any], value: dict[str, Any]) -> bool:
        if any(name not in value for name in schema.get("required", ())):
            return False
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            sub = properties.get(name)
            if sub is None:
                sub = extra
            if sub is False or (isinstance(sub, dict) and not self.valid(sub, item)):
                return False
        return True


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    raise ValueError(f"unknown schema type {kind!r}")


def _same(value: Any, allowed: Any) -> bool:
    # JSON Schema tells true from 1, which Python's == does not.
    return isinstance(value, bool) == isinstance(allowed, bool) and value == allowed


def _valid_string(schema: dict[str, Any], value: str) -> bool:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    pattern = schema.get("pattern")
    return pattern is None or re.search(pattern, value) is not None


def _cause(error: ValidationError) -> ValidationError:
    """Descend through anyOf (nullable, expandable) to the branch that explains the failure.

    A value that is an object fails the `null` and `string` branches by type; the branch that
    matters is the one whose type matched and that failed on something inside.
    """
    while error.context:
        inside = [e for e in error.context if e.validator != "type"]
        error = best_match(inside or error.context)
    return error


@cache
def load_spec(path: Path) -> Spec:
    """Load and convert the spec (about five seconds), once per process."""
    return Spec(path)
