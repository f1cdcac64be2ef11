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
from jsonschema.exceptions import best_match

SPEC_RELATIVE = "stripe-oracles/openapi/spec3.2023-08-16.yaml"

# (schema name, field) → why the emulator's shape differs from the 2023-08-16 spec.
EXEMPT_EXTRA: dict[tuple[str, str], str] = {
    ("customer", "business_name"): "added 2025 (customer names split)",
    ("customer", "individual_name"): "added 2025 (customer names split)",
    ("customer", "customer_account"): "added with Accounts v2 (2025)",
    ("discount", "source"): "clover (2025-09-30) moved coupon to discount.source.coupon",
    ("discount", "customer_account"): "added with Accounts v2 (2025)",
    ("promotion_code", "promotion"): "clover (2025-09-30) moved coupon to promotion.coupon",
    ("promotion_code", "customer_account"): "added with Accounts v2 (2025)",
    ("product", "marketing_features"): "2024 renamed product.features to marketing_features",
    ("recurring", "meter"): "billing meters added 2024",
    ("recurring", "trial_period_days"): "in the pinned model (fixtures3 price.recurring)",
    ("discount", "subscription_item"): "item-level discounts added after 2023-08-16",
    ("deleted_discount", "subscription_item"): "item-level discounts added after 2023-08-16",
    ("deleted_discount", "source"): "clover (2025-09-30) moved coupon to discount.source",
    ("deleted_discount", "customer_account"): "added with Accounts v2 (2025)",
    ("product", "type"): "in the pinned model (fixtures3 product.type)",
    ("tax_rate", "jurisdiction_level"): "added after 2023-08-16",
    ("account_business_profile", "annual_revenue"): "added 2024",
    ("account_business_profile", "estimated_worker_count"): "added 2024",
    ("account_business_profile", "minority_owned_business_designation"): "added 2025",
    ("plan", "meter"): "billing meters added 2024",
    ("tax_rate", "flat_amount"): "flat-amount tax rates added 2024",
    ("tax_rate", "rate_type"): "flat-amount tax rates added 2024",
    ("account_settings", "invoices"): "absent from this emulator's settings (not needed)",
}
# (schema name, field) that the 2023 spec requires but the pinned version removed.
EXEMPT_REQUIRED: dict[tuple[str, str], str] = {
    ("discount", "coupon"): "clover (2025-09-30) removed discount.coupon",
    ("promotion_code", "coupon"): "clover (2025-09-30) removed promotion_code.coupon",
    ("product", "features"): "2024 renamed product.features to marketing_features",
    ("deleted_discount", "coupon"): "clover (2025-09-30) removed discount.coupon",
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

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any]:
        """Return the JSON schema of a response, from the operation that serves the path."""
        template = next(t for pattern, t in self._patterns if pattern.match(path))
        operation = self.paths[template][method.lower()]
        responses = operation["responses"]
        response = responses.get(str(status)) or responses["default"]
        schema = copy.deepcopy(response["content"]["application/json"]["schema"])
        return _convert(schema)

    def errors(self, method: str, path: str, status: int, body: Any) -> Iterator[str]:
        """Yield a message per schema violation of a response body."""
        schema = {**self.response_schema(method, path, status), "components": self.components}
        validator = Draft202012Validator(schema)
        for error in validator.iter_errors(body):
            # anyOf (nullable, expandable) hides the real cause; report the deepest one.
            deepest = best_match([error, *error.context]) if error.context else error
            while deepest.context:
                deepest = best_match(deepest.context)
            where = "/".join(str(p) for p in deepest.absolute_path)
            yield f"{method} {path} -> {status} at {where or '<root>'}: {deepest.message[:200]}"


@cache
def load_spec(path: Path) -> Spec:
    """Load and convert the spec (about five seconds), once per process."""
    return Spec(path)
