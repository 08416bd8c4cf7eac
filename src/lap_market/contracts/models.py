"""Call-off and direct-commissioning contracts, and call-off issue batches."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, pence, quantity, text, timestamp, to_one

if TYPE_CHECKING:
    from lap_market.accounts.models import Organisation, User
    from lap_market.catalogue.models import Category, CategoryUnit, Offer, OfferVersion
    from lap_market.tenders.models import Lot, Tender


class ContractKind(StrEnum):
    CALL_OFF = "call_off"
    DIRECT = "direct"


class ContractStatus(StrEnum):
    ISSUED = "issued"
    ACTIVE = "active"
    TERMINATED = "terminated"


class Contract(SQLModel, table=True):
    id: int | None = id_field()
    reference: str = Field(max_length=40, unique=True)
    # The number at the end of a direct contract's reference, kept as an integer so the next
    # one is MAX + 1 numerically ("LAP-DC-2026-10000" sorts before "…-9999" as a string).
    reference_number: int | None = Field(default=None, nullable=True)
    kind: str = text(20)
    buyer_id: int = fk("organisation.id")
    supplier_id: int = fk("organisation.id")
    tender_id: int | None = Field(default=None, foreign_key="tender.id", index=True, nullable=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True, nullable=True)
    award_id: int | None = Field(default=None, foreign_key="award.id", nullable=True)
    # At most one contract per demand. Issuing a lot twice writes nothing new because the
    # lot's conditional status update lets one issuer through; this key is the backstop.
    demand_id: int | None = Field(default=None, foreign_key="demand.id", unique=True, nullable=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id", index=True, nullable=True)
    offer_version_id: int | None = Field(default=None, foreign_key="offerversion.id", nullable=True)
    category_id: int = fk("category.id", index=False)
    unit_id: int = fk("categoryunit.id", index=False)
    description: str = long_text(default="")
    quantity: Decimal = quantity()
    unit_price_pence: int = pence()
    value_pence: int = pence()
    vat_pence: int = pence()
    total_pence: int = pence()
    # What the borough would have paid alone at the catalogue's best rate, for the savings report.
    standalone_value_pence: int | None = pence(nullable=True)
    start_date: date
    end_date: date
    payment_terms: str = text(200, default="30 days from receipt of a valid invoice")
    status: str = Field(default=ContractStatus.ISSUED, max_length=20, index=True)
    issued_at: datetime = timestamp()
    issued_by_id: int = fk("user.id", index=False)
    buyer_accepted_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    buyer_accepted_at: datetime | None = timestamp(nullable=True)
    supplier_accepted_by_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    supplier_accepted_at: datetime | None = timestamp(nullable=True)
    pdf_sha256: str = text(64, default="")
    # The buyer's purchase-order number, printed on the contract and quoted on invoices.
    po_number: str | None = text(40, nullable=True)
    # Contract management (see lap_market.contract_management): what changes in effect have
    # made of the value, end date and quantity (null: as issued), the running total of
    # invoices (kept here so one conditional UPDATE refuses an invoice past the value even in
    # a race), and termination.
    current_value_pence: int | None = pence(nullable=True)
    current_end_date: date | None = Field(default=None, nullable=True)
    current_quantity: Decimal | None = Field(
        default=None,
        sa_type=sa.Numeric(14, 2, asdecimal=True),
        nullable=True,
    )
    invoiced_pence: int = Field(
        default=0,
        sa_type=sa.BigInteger,
        sa_column_kwargs={"server_default": "0"},
    )
    # A call-off under a framework: which one, and by which route (direct_award or
    # further_competition); null for a tender's call-offs and direct commissions.
    framework_id: int | None = Field(
        default=None, foreign_key="framework.id", index=True, nullable=True
    )
    call_off_route: str | None = Field(default=None, max_length=30, nullable=True)
    terminated_on: date | None = Field(default=None, nullable=True)
    terminated_at: datetime | None = timestamp(nullable=True)
    termination_reason: str | None = text(20, nullable=True)
    termination_explanation: str | None = long_text(nullable=True)

    # Read-only, loaded on purpose (``service.READ_RELATIONS``) where a view reads them.
    buyer: "Organisation" = to_one("Contract", "buyer_id")
    supplier: "Organisation" = to_one("Contract", "supplier_id")
    tender: Optional["Tender"] = to_one("Contract", "tender_id")
    lot: Optional["Lot"] = to_one("Contract", "lot_id")
    offer: Optional["Offer"] = to_one("Contract", "offer_id")
    offer_version: Optional["OfferVersion"] = to_one("Contract", "offer_version_id")
    category: "Category" = to_one("Contract", "category_id")
    unit: "CategoryUnit" = to_one("Contract", "unit_id")
    buyer_accepted_by: Optional["User"] = to_one("Contract", "buyer_accepted_by_id")
    supplier_accepted_by: Optional["User"] = to_one("Contract", "supplier_accepted_by_id")


class ContractDocument(SQLModel, table=True):
    """A rendered contract PDF, kept byte-for-byte so every download matches its SHA-256.

    Version 1 is the document as issued and is never changed. Each acceptance adds a new
    version whose acceptance block shows who accepted and when; the record's SHA-256 names
    the latest, and every earlier version stays downloadable.
    """

    __table_args__ = (sa.UniqueConstraint("contract_id", "version"),)

    id: int | None = id_field()
    contract_id: int = fk("contract.id")
    version: int = Field(default=1)
    reason: str = text(60, default="issued")
    content: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = text(64)
    created_at: datetime = timestamp()


class CallOffBatch(SQLModel, table=True):
    """Progress of issuing one lot's call-offs, polled by the page and the CLI."""

    id: int | None = id_field()
    lot_id: int = fk("lot.id")
    total: int = Field(default=0)
    done: int = Field(default=0)
    status: str = text(20, default="running")
    error: str | None = long_text(nullable=True)
    started_by_id: int = fk("user.id", index=False)
    started_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)
