"""Shop (Shopify) staging tables: orders and their lines, columns named after the API's fields.

Money arrives as decimal strings in the shop's currency, with ``*_set`` twins holding the buyer's
(presentment) currency; both are kept, exact to the cent (``Kind.AMOUNT``). Times carry the shop's UTC
offset and become UTC here. The customer, addresses, discounts, taxes, shipping, transactions, refunds and
fulfilments stay in ``_raw`` beside the columns taken out of them. An order deleted in the shop vanishes
from its lists, so only a full read flags it.
"""

from __future__ import annotations

from dataclasses import dataclass

from finsync_dagster.staging.columns import ChildSpec, Column, Kind, TableSpec

C = Column
_A, _T, _I, _B = Kind.AMOUNT, Kind.ISO_TS, Kind.INT, Kind.BOOL
_UPDATED = "TRY_CAST(json_extract_string(raw, '$.updated_at') AS TIMESTAMPTZ)"


def _presentment(name: str) -> Column:
    return C(
        f"{name}_presentment",
        _A,
        path=f"{name}_set.presentment_money.amount",
        description=f"{name} in the buyer's currency (presentment_currency)",
    )


ORDERS = TableSpec(
    name="shop_orders",
    system="shop",
    description="Shop orders with totals in the shop's and the buyer's currency, statuses and customer; "
    "lines are in shop_order_lines.",
    id_expression="json_extract_string(raw, '$.id')",
    updated_expression=_UPDATED,
    columns=(
        C("name", description="order name, e.g. WEB-1001"),
        C("order_number", _I),
        C("email"),
        C("customer_id", _I, path="customer.id"),
        C("customer_email", path="customer.email"),
        C("customer_first_name", path="customer.first_name"),
        C("customer_last_name", path="customer.last_name"),
        C("company", path="billing_address.company", description="the billing address's company"),
        C("billing_country_code", path="billing_address.country_code"),
        C("shipping_country_code", path="shipping_address.country_code"),
        C("currency", description="the shop's currency"),
        C("presentment_currency", description="the currency the buyer paid in"),
        C("financial_status"),
        C("fulfillment_status"),
        C("cancel_reason"),
        C("source_name"),
        C("tags"),
        C("test", _B, description="a test order: never invoiced"),
        C("taxes_included", _B),
        C("total_line_items_price", _A),
        C("total_discounts", _A),
        C("subtotal_price", _A),
        C("total_shipping", _A, path="total_shipping_price_set.shop_money.amount"),
        C("total_tax", _A),
        C("total_price", _A),
        C("total_outstanding", _A),
        C("current_subtotal_price", _A),
        C("current_total_tax", _A),
        C("current_total_price", _A),
        _presentment("subtotal_price"),
        C(
            "total_shipping_presentment",
            _A,
            path="total_shipping_price_set.presentment_money.amount",
            description="total_shipping in the buyer's currency",
        ),
        _presentment("total_tax"),
        _presentment("total_price"),
        _presentment("current_total_price"),
        C("created_at", _T),
        C("processed_at", _T, description="the accounting date"),
        C("cancelled_at", _T),
        C("closed_at", _T),
        C("updated_at", _T),
    ),
)

ORDER_LINES = TableSpec(
    name="shop_order_lines",
    system="shop",
    description="Shop order lines (line items); order_id is the parent order.",
    id_expression="json_extract_string(raw, '$.id')",
    updated_expression="parent_updated",
    deleted_expression="parent_deleted",
    parent_column="order_id",
    parent_expression="parent_id",
    columns=(
        C("sku"),
        C("title"),
        C("variant_title"),
        C("product_id", _I),
        C("variant_id", _I),
        C("quantity", _I, description="as ordered (and added by edits)"),
        C("current_quantity", _I, description="after edits and refunds"),
        C("fulfillable_quantity", _I),
        C("fulfillment_status"),
        C("price", _A, description="unit price before discounts, shop currency"),
        _presentment("price"),
        C("taxable", _B),
        C("requires_shipping", _B),
        C("gift_card", _B),
    ),
)
ORDER_LINES_CHILD = ChildSpec(table=ORDER_LINES, list_path="$.line_items")


@dataclass(frozen=True)
class ShopListing:
    """Where a staging table's rows come from: a shop listing, read incrementally by ``updated_at_min``."""

    resource: str
    child: ChildSpec | None = None


# staging table -> (its spec, the listing it comes from); keyed as FRESHBOOKS_TABLES and INFOR_TABLES are.
SHOP_TABLES: dict[str, tuple[TableSpec, ShopListing]] = {
    ORDERS.name: (ORDERS, ShopListing("orders", ORDER_LINES_CHILD)),
}
