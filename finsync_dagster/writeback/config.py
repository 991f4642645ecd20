"""What write-back may do on its own: the ``write_back`` section of ``finsync.yaml``.

Each rule says what becomes of one kind of reconciliation outcome: ``auto`` plans the write at once,
``review`` leaves it in the report for a person (who can plan it from the console), ``off`` ignores it.
Money differences, ambiguous matches, low-confidence suggestions and suspected duplicates are never rules:
nothing here can make finsync act on them.

``owners`` says, per entity and field, which system's value wins when a matched pair differs; a field
with no owner is reported and never written. Nothing about money has an owner.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Mode = Literal["auto", "review", "off"]
System = Literal["freshbooks", "infor"]

# The customer fields a matched pair's FreshBooks side owns by default: who to contact and where.
CONTACT_AND_ADDRESS = (
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "address_line3",
    "city",
    "region",
    "postal_code",
    "country_code",
)
# Fields an owner may be given: data about a party, never amounts, dates of documents or statuses.
OWNABLE = {"customers": frozenset({"name", "first_name", "last_name", "vat_number", *CONTACT_AND_ADDRESS})}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rules(_Strict):
    """Which reconciliation outcomes become writes by themselves."""

    customers_to_m3: Mode = Field(
        default="auto", description="FreshBooks client with no M3 customer: CRS610MI/Add"
    )
    invoices_to_m3: Mode = Field(
        default="auto", description="FreshBooks invoice with no M3 order: a batch customer order (OIS100MI)"
    )
    payments_to_m3: Mode = Field(
        default="auto", description="FreshBooks payment with no M3 cash receipt: an ARS040MI payment batch"
    )
    expenses_to_m3: Mode = Field(
        default="auto", description="FreshBooks expense with no GL entry: a GLS840MI batch"
    )
    suppliers_to_m3: Mode = Field(
        default="auto", description="FreshBooks bill vendor with no M3 supplier: CRS620MI/AddSupplier"
    )
    bills_to_m3: Mode = Field(
        default="auto",
        description="FreshBooks bill with no M3 supplier invoice: an APS450MI batch, approved when balanced",
    )
    customers_to_freshbooks: Mode = Field(default="auto", description="M3 customer with no FreshBooks client")
    invoice_status_to_freshbooks: Mode = Field(
        default="auto",
        description="M3 delivered and invoiced an order from a FreshBooks invoice: mark it sent",
    )
    field_changes: Mode = Field(
        default="auto", description="matched records that differ in a field with an owner"
    )
    shop_orders_to_freshbooks: Mode = Field(
        default="auto",
        description="shop order with no FreshBooks invoice: its client (matched by e-mail) and invoice; "
        "a pair without a shop: section has no shop orders, so nothing",
    )


class M3Postings(_Strict):
    """M3 codes the write-back's batches use; they are the company's own configuration."""

    payment_batch_type: str = Field(default="BT1", description="ARS040MI BOPE of the cash receipt batches")
    expense_offset_account: str = Field(
        default="1100",
        description="GL account (AIT1) each expense is credited to: the bank or a clearing account",
    )
    gl_interface: str = Field(
        default="FINSYNC", max_length=15, description="GLS840MI INTN naming finsync's batches"
    )


def _default_owners() -> dict[str, dict[str, System]]:
    freshbooks: System = "freshbooks"
    return {"customers": dict.fromkeys(CONTACT_AND_ADDRESS, freshbooks)}


class WriteBackConfig(_Strict):
    """The ``write_back`` section: rules, field owners and M3 posting codes."""

    rules: Rules = Rules()
    owners: dict[str, dict[str, System]] = Field(default_factory=lambda: _default_owners())
    m3: M3Postings = M3Postings()
    max_attempts: int = Field(
        default=8, ge=1, le=50, description="transient failures before an action is dead"
    )
    recheck_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="how often a waiting action looks again (e.g. for M3's AR invoice)",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="how long a pusher's claim on an action lasts between renewals; a worker never sends "
        "on a claim older than this",
    )
    hang_seconds: float = Field(
        default=600.0,
        ge=0,
        le=86400,
        description="how long past its lease a live but stalled pusher of this host keeps its claims "
        "before another takes them over (a killed one loses them at once)",
    )

    @field_validator("owners")
    @classmethod
    def _owned_fields_exist(cls, owners: dict[str, dict[str, System]]) -> dict[str, dict[str, System]]:
        for entity, fields in owners.items():
            if entity not in OWNABLE:
                raise ValueError(f"no field of {entity!r} can have an owner; only {', '.join(OWNABLE)}")
            unknown = sorted(set(fields) - OWNABLE[entity])
            if unknown:
                raise ValueError(
                    f"{entity}: {', '.join(unknown)} cannot have an owner; choose among "
                    f"{', '.join(sorted(OWNABLE[entity]))} (money and statuses are never overwritten)"
                )
        return owners

    def owner(self, entity: str, field: str) -> System | None:
        return self.owners.get(entity, {}).get(field)
