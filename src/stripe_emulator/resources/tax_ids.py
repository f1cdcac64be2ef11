"""Customer tax ids (`txi_…`) under `/v1/customers/{id}/tax_ids`, and `tax_id_data` on create.

Stripe validates each value's format per type; the emulator checks only the type and that a value
is given, and reports verification as `unavailable` (documented in the README).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.errors import resource_missing
from stripe_emulator.lists import CREATED, PAGINATION, embedded_list, fetch_page, list_envelope
from stripe_emulator.params import Enum, Obj, Str
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.crud import load, new_id, save
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

# The tax id types of the API (the country is the code before the underscore, `eu_vat` aside).
TYPES = (
    "ad_nrt", "ae_trn", "al_tin", "am_tin", "ao_tin", "ar_cuit", "au_abn", "au_arn", "aw_tin",
    "az_tin", "ba_tin", "bb_tin", "bd_bin", "bf_ifu", "bg_uic", "bh_vat", "bj_ifu", "bo_tin",
    "br_cnpj", "br_cpf", "bs_tin", "by_tin", "ca_bn", "ca_gst_hst", "ca_pst_bc", "ca_pst_mb",
    "ca_pst_sk", "ca_qst", "cd_nif", "ch_uid", "ch_vat", "cl_tin", "cm_niu", "cn_tin", "co_nit",
    "cr_tin", "cv_nif", "de_stn", "do_rcn", "ec_ruc", "eg_tin", "es_cif", "et_tin", "eu_oss_vat",
    "eu_vat", "gb_vat", "ge_vat", "gn_nif", "hk_br", "hr_oib", "hu_tin", "id_npwp", "il_vat",
    "in_gst", "is_vat", "jp_cn", "jp_rn", "jp_trn", "ke_pin", "kg_tin", "kh_tin", "kr_brn",
    "kz_bin", "la_tin", "li_uid", "li_vat", "ma_vat", "md_vat", "me_pib", "mk_vat", "mr_nif",
    "mx_rfc", "my_frp", "my_itn", "my_sst", "ng_tin", "no_vat", "no_voec", "np_pan", "nz_gst",
    "om_vat", "pe_ruc", "ph_tin", "ro_tin", "rs_pib", "ru_inn", "ru_kpp", "sa_vat", "sg_gst",
    "sg_uen", "si_tin", "sn_ninea", "sr_fin", "sv_nit", "th_vat", "tj_tin", "tr_tin", "tw_vat",
    "tz_vat", "ua_vat", "ug_tin", "us_ein", "uy_ruc", "uz_tin", "uz_vat", "ve_rif", "vn_tin",
    "za_vat", "zm_tin", "zw_tin",
)  # fmt: skip
CREATE = Obj(
    fields={"type": Enum(values=TYPES), "value": Str(max_length=5000)},
    required=("type", "value"),
)

TAX_ID = Resource(
    object="tax_id",
    id_prefix="txi",
    id_length=24,
    listable=False,
    slots=lambda obj: (obj["customer"],),
    expandable={"customer": "customer"},
)


def _country(type_: str, value: str) -> str | None:
    if type_ in ("eu_vat", "eu_oss_vat"):
        prefix = value[:2].upper()
        return "GR" if prefix == "EL" else prefix if prefix.isalpha() else None
    return type_.split("_", 1)[0].upper()


def add_tax_id(ctx: Ctx, customer: str, params: JsonObject) -> JsonObject:
    """Create a tax id for a customer and emit `customer.tax_id.created`."""
    tax_id: JsonObject = {
        "id": new_id(ctx, TAX_ID, {}),
        "object": "tax_id",
        "country": _country(params["type"], params["value"]),
        "created": ctx.now(),
        "customer": customer,
        "livemode": ctx.livemode,
        "owner": {"customer": customer, "type": "customer"},
        "type": params["type"],
        "value": params["value"],
        "verification": {"status": "unavailable", "verified_address": None, "verified_name": None},
    }
    save(ctx, TAX_ID, tax_id, new=True)
    return tax_id


def _customer(ctx: Ctx) -> str:
    from stripe_emulator.resources.customers import CUSTOMER

    customer_id = ctx.path_params["id"]
    row = ctx.store.get(ctx.scope, CUSTOMER.stored_as, customer_id)
    if row is None or row.deleted:
        raise resource_missing("customer", customer_id, param="customer")
    return customer_id


def _owned(ctx: Ctx, customer: str) -> JsonObject:
    tax_id = load(ctx, TAX_ID, ctx.path_params["tax_id"])
    if tax_id["customer"] != customer:
        raise resource_missing("tax id", ctx.path_params["tax_id"])
    return tax_id


def tax_ids_list(ctx: Ctx, customer: str, *, limit: int = 10) -> JsonObject:
    """The `tax_ids` list embedded in a customer (returned only when expanded)."""
    return embedded_list(
        ctx,
        TAX_ID,
        url=f"/v1/customers/{customer}/tax_ids",
        conditions=[Condition("k1", (customer,))],
        present=lambda tax_id: tax_id,
        limit=limit,
    )


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/customers/{id}/tax_ids`."""
    params = ctx.coerce(CREATE)
    return add_tax_id(ctx, _customer(ctx), params)


def retrieve(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/tax_ids/{tax_id}`."""
    ctx.coerce(Obj())
    return _owned(ctx, _customer(ctx))


def delete(ctx: Ctx) -> JsonObject:
    """`DELETE /v1/customers/{id}/tax_ids/{tax_id}`."""
    ctx.coerce(Obj())
    tax_id = _owned(ctx, _customer(ctx))
    save(ctx, TAX_ID, tax_id, new=False, deleted=True)
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


def list_(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/tax_ids`: newest first, paged."""
    params = ctx.coerce(Obj(fields={**PAGINATION, **CREATED}))
    customer = _customer(ctx)
    page = fetch_page(ctx, TAX_ID, params, [Condition("k1", (customer,))])
    data = [row.load() for row in page.rows]
    return list_envelope(f"/v1/customers/{customer}/tax_ids", data, page.has_more)


def register(emulator: Emulator) -> None:
    """Add tax ids and their routes under customers."""
    emulator.registry.add(TAX_ID)
    emulator.router.add("POST", "/v1/customers/{id}/tax_ids", create)
    emulator.router.add("GET", "/v1/customers/{id}/tax_ids", list_)
    emulator.router.add("GET", "/v1/customers/{id}/tax_ids/{tax_id}", retrieve)
    emulator.router.add("DELETE", "/v1/customers/{id}/tax_ids/{tax_id}", delete)
