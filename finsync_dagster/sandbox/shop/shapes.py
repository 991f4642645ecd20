"""Records rendered in the Admin REST API's field names and forms (2025-10, contract sections 3.5-3.11).

Money is a decimal string with two places and has a ``*_set`` twin in the shop's and the buyer's currency;
tax ``rate`` is a JSON number; times are ISO 8601 with the shop's UTC offset, to the second.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from finsync_dagster.sandbox.shop.models import (
    Address,
    Customer,
    Fulfillment,
    LineItem,
    Order,
    Refund,
    Transaction,
)
from finsync_dagster.sandbox.shop.pricing import Totals, money_text

SHOP_ZONE = ZoneInfo("America/New_York")


def shop_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, SHOP_ZONE).isoformat(timespec="seconds")


def gid(kind: str, record_id: int) -> str:
    return f"gid://shopify/{kind}/{record_id}"


def money_set(shop: Decimal, presentment: Decimal, order: Order) -> dict[str, Any]:
    return {
        "shop_money": {"amount": money_text(shop), "currency_code": order.currency},
        "presentment_money": {"amount": money_text(presentment), "currency_code": order.presentment_currency},
    }


def _rate(value: Decimal) -> Any:
    # A JSON number (contract 3.5): 0.0825 rather than "0.0825".
    return float(value)


def address(value: Address | None) -> dict[str, Any] | None:
    if value is None:
        return None
    data = asdict(value)
    data["name"] = f"{value.first_name} {value.last_name}".strip()
    return data


def customer(value: Customer | None) -> dict[str, Any] | None:
    if value is None:
        return None
    default = address(value.address)
    if default is not None:
        default = {"id": value.id + 1_000_000, "customer_id": value.id, **default, "default": True}
        default["country_name"] = default["country"]
    return {
        "id": value.id,
        "admin_graphql_api_id": gid("Customer", value.id),
        "email": value.email,
        "first_name": value.first_name,
        "last_name": value.last_name,
        "phone": value.phone,
        "state": "enabled" if value.email else "disabled",
        "note": value.note,
        "verified_email": bool(value.email),
        "tax_exempt": value.tax_exempt,
        "tax_exemptions": [],
        "tags": value.tags,
        "currency": value.currency,
        "created_at": shop_time(value.created_at),
        "updated_at": shop_time(value.updated_at),
        "default_address": default,
    }


def transaction(value: Transaction, order: Order) -> dict[str, Any]:
    return {
        "id": value.id,
        "admin_graphql_api_id": gid("OrderTransaction", value.id),
        "order_id": order.id,
        "kind": value.kind,
        "status": value.status,
        "amount": money_text(value.amount),
        "currency": order.presentment_currency,
        "gateway": value.gateway,
        "authorization": value.authorization,
        "parent_id": value.parent_id,
        "payment_id": f"{order.name}.{order.all_transactions().index(value) + 1}",
        "processed_at": shop_time(value.created_at),
        "created_at": shop_time(value.created_at),
        "test": order.test,
        "error_code": None,
        "message": None,
        "source_name": "web",
        "receipt": {},
        "user_id": None,
        "device_id": None,
        "location_id": None,
        "manual_payment_gateway": value.gateway == "manual",
    }


def refund(value: Refund, order: Order) -> dict[str, Any]:
    lines = []
    for line in value.lines:
        item = order.line(line.line_item_id)
        lines.append(
            {
                "id": line.id,
                "line_item_id": line.line_item_id,
                "quantity": line.quantity,
                "restock_type": line.restock_type,
                "location_id": None,
                # JSON numbers here, as Shopify's own fixtures show (contract 3.6).
                "subtotal": float(line.subtotal),
                "total_tax": float(line.total_tax),
                "subtotal_set": money_set(order.to_shop(line.subtotal), line.subtotal, order),
                "total_tax_set": money_set(order.to_shop(line.total_tax), line.total_tax, order),
                "line_item": _line(item, order, None) if item is not None else None,
            }
        )
    adjustments = []
    if value.shipping:
        adjustments.append(_adjustment(value, order, "shipping_refund", value.shipping))
    if value.adjustment:
        adjustments.append(_adjustment(value, order, "refund_discrepancy", value.adjustment))
    return {
        "id": value.id,
        "admin_graphql_api_id": gid("Refund", value.id),
        "order_id": order.id,
        "created_at": shop_time(value.created_at),
        "processed_at": shop_time(value.created_at),
        "note": value.note,
        "restock": False,
        "user_id": None,
        "refund_line_items": lines,
        "transactions": [transaction(t, order) for t in value.transactions],
        "order_adjustments": adjustments,
        "duties": [],
        "additional_fees": [],
        "total_duties_set": money_set(Decimal(0), Decimal(0), order),
        "total_additional_fees_set": money_set(Decimal(0), Decimal(0), order),
    }


def _adjustment(value: Refund, order: Order, kind: str, amount: Decimal) -> dict[str, Any]:
    return {
        "id": value.id * 10 + (1 if kind == "shipping_refund" else 2),
        "order_id": order.id,
        "refund_id": value.id,
        "kind": kind,
        "reason": "Shipping refund" if kind == "shipping_refund" else "Refund discrepancy",
        "amount": money_text(-amount),
        "tax_amount": "0.00",
        "amount_set": money_set(-order.to_shop(amount), -amount, order),
        "tax_amount_set": money_set(Decimal(0), Decimal(0), order),
    }


def fulfillment(value: Fulfillment, order: Order, number: int) -> dict[str, Any]:
    return {
        "id": value.id,
        "admin_graphql_api_id": gid("Fulfillment", value.id),
        "order_id": order.id,
        "name": f"{order.name}.{number}",
        "status": "success",
        "service": "manual",
        "location_id": 0,
        "shipment_status": None,
        "tracking_company": value.tracking_company,
        "tracking_number": value.tracking_number,
        "tracking_numbers": [value.tracking_number] if value.tracking_number else [],
        "tracking_url": None,
        "tracking_urls": [],
        "created_at": shop_time(value.created_at),
        "updated_at": shop_time(value.created_at),
        "line_items": [
            {**_line(item, order, None), "quantity": quantity}
            for line_id, quantity in value.lines.items()
            if (item := order.line(line_id)) is not None
        ],
    }


def _tax_lines(order: Order, tax: Decimal, tax_presentment: Decimal) -> list[dict[str, Any]]:
    if tax == 0 and tax_presentment == 0:
        return []
    return [
        {
            "title": order.tax_title,
            "rate": _rate(order.tax_rate),
            "price": money_text(tax),
            "price_set": money_set(tax, tax_presentment, order),
            "channel_liable": False,
        }
    ]


def _line(item: LineItem, order: Order, priced: tuple[Any, Any] | None) -> dict[str, Any]:
    product = item.product
    shop, presentment = priced if priced is not None else (None, None)
    data: dict[str, Any] = {
        "id": item.id,
        "admin_graphql_api_id": gid("LineItem", item.id),
        "product_id": product.product_id,
        "variant_id": product.variant_id,
        "sku": product.sku,
        "title": product.title,
        "variant_title": product.variant_title,
        "name": f"{product.title} - {product.variant_title}" if product.variant_title else product.title,
        "vendor": product.vendor,
        "quantity": item.quantity,
        "current_quantity": item.current_quantity,
        "fulfillable_quantity": max(0, item.current_quantity - item.fulfilled),
        "fulfillment_status": item.fulfillment_status,
        "fulfillment_service": "manual",
        "requires_shipping": product.requires_shipping,
        "taxable": product.taxable,
        "gift_card": False,
        "grams": product.grams,
        "product_exists": True,
        "variant_inventory_management": "shopify",
        "price": money_text(item.price_shop),
        "price_set": money_set(item.price_shop, item.price_presentment, order),
        "total_discount": "0.00",
        "total_discount_set": money_set(Decimal(0), Decimal(0), order),
        "properties": [],
        "duties": [],
        "attributed_staffs": [],
    }
    if shop is not None and presentment is not None:
        data["tax_lines"] = _tax_lines(order, shop.tax, presentment.tax)
        data["discount_allocations"] = (
            [
                {
                    "amount": money_text(shop.discount),
                    "amount_set": money_set(shop.discount, presentment.discount, order),
                    "discount_application_index": 0,
                }
            ]
            if shop.discount or presentment.discount
            else []
        )
    return data


def order(value: Order, owner: Customer | None) -> dict[str, Any]:
    """The full REST order (contract section 7's shape)."""
    shop, presentment = value.totals(), value.totals(presentment=True)
    discount = value.discount
    return {
        "id": value.id,
        "admin_graphql_api_id": gid("Order", value.id),
        "name": value.name,
        "number": value.number,
        "order_number": 1000 + value.number,
        "confirmation_number": value.confirmation_number,
        "email": value.email,
        "contact_email": value.email,
        "phone": value.phone,
        "created_at": shop_time(value.created_at),
        "updated_at": shop_time(value.updated_at),
        "processed_at": shop_time(value.processed_at),
        "cancelled_at": shop_time(value.cancelled_at),
        "cancel_reason": value.cancel_reason,
        "closed_at": shop_time(value.closed_at),
        "currency": value.currency,
        "presentment_currency": value.presentment_currency,
        "taxes_included": False,
        "tax_exempt": False,
        "estimated_taxes": False,
        "test": value.test,
        "financial_status": value.financial_status,
        "fulfillment_status": value.fulfillment_status,
        "source_name": value.source_name,
        "payment_gateway_names": [value.gateway],
        "tags": value.tags,
        "note": value.note,
        "po_number": None,
        "note_attributes": [],
        "buyer_accepts_marketing": False,
        "total_weight": sum(line.product.grams * line.quantity for line in value.lines),
        **_totals(value, shop, presentment),
        "discount_codes": (
            [{"code": discount.code, "amount": money_text(shop.discounts), "type": discount.kind}]
            if discount is not None
            else []
        ),
        "discount_applications": (
            [
                {
                    "target_type": "line_item",
                    "type": "discount_code",
                    "value": f"{discount.value:.1f}"
                    if discount.kind == "percentage"
                    else money_text(discount.value),
                    "value_type": discount.kind,
                    "allocation_method": "across",
                    "target_selection": "all",
                    "code": discount.code,
                }
            ]
            if discount is not None
            else []
        ),
        "tax_lines": _tax_lines(value, shop.tax, presentment.tax),
        "customer": customer(owner),
        "billing_address": address(value.billing_address),
        "shipping_address": address(value.shipping_address),
        "line_items": [
            _line(item, value, (s, p))
            for item, s, p in zip(value.lines, shop.lines, presentment.lines, strict=True)
        ],
        "shipping_lines": [
            {
                "id": value.id + 17,
                "title": value.shipping_title,
                "code": value.shipping_title.upper().replace(" ", "_"),
                "source": "shopify",
                "price": money_text(shop.shipping),
                "price_set": money_set(shop.shipping, presentment.shipping, value),
                "discounted_price": money_text(shop.shipping),
                "discounted_price_set": money_set(shop.shipping, presentment.shipping, value),
                "is_removed": value.shipping_removed,
                "carrier_identifier": None,
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
        "fulfillments": [fulfillment(f, value, n) for n, f in enumerate(value.fulfillments, start=1)],
        "refunds": [refund(r, value) for r in value.refunds],
        "payment_terms": None,
        "company": None,
    }


def _totals(value: Order, shop: Totals, presentment: Totals) -> dict[str, Any]:
    pairs = {
        "total_line_items_price": (shop.line_items, presentment.line_items),
        "total_discounts": (shop.discounts, presentment.discounts),
        "subtotal_price": (shop.subtotal, presentment.subtotal),
        "total_tax": (shop.tax, presentment.tax),
        "total_price": (shop.total, presentment.total),
        "current_subtotal_price": (shop.current_subtotal, presentment.current_subtotal),
        "current_total_discounts": (shop.current_discounts, presentment.current_discounts),
        "current_total_tax": (shop.current_tax, presentment.current_tax),
        "current_total_price": (shop.current_total, presentment.current_total),
    }
    data: dict[str, Any] = {}
    for name, (in_shop, in_presentment) in pairs.items():
        data[name] = money_text(in_shop)
        data[f"{name}_set"] = money_set(in_shop, in_presentment, value)
    data["total_shipping_price_set"] = money_set(shop.shipping, presentment.shipping, value)
    data["total_outstanding"] = money_text(value.outstanding_shop)
    return data


def webhook(value: Any) -> dict[str, Any]:
    return {
        "id": value.id,
        "address": value.address,
        "topic": value.topic,
        "created_at": shop_time(value.created_at),
        "updated_at": shop_time(value.updated_at),
        "format": "json",
        "fields": list(value.fields),
        "metafield_namespaces": [],
        "api_version": value.api_version,
        "private_metafield_namespaces": [],
    }


def trim(record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """``fields=a,b`` keeps those top-level keys only (unknown names are ignored)."""
    if not fields:
        return record
    return {key: value for key, value in record.items() if key in fields}
