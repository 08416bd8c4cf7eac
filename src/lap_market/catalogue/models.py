"""Service categories, their units, and providers' offers with versioned price tiers."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col

from lap_market.modeling import fk, id_field, long_text, pence, quantity, text, timestamp


class OfferStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Category(SQLModel, table=True):
    id: int | None = id_field()
    code: str = Field(max_length=30, unique=True)
    name: str = text(100)
    cpv_code: str = text(12)
    cpv_description: str = text(200)


class CategoryUnit(SQLModel, table=True):
    """A unit a category may be bought in; per-year units are priced pro rata over the term."""

    __table_args__ = (sa.UniqueConstraint("category_id", "code"),)

    id: int | None = id_field()
    category_id: int = fk("category.id")
    code: str = text(40)
    name: str = text(100)
    per_year: bool = Field(default=False)
    whole: bool = Field(default=True)  # whole units only (boxes, images), or to 2 places


class Offer(SQLModel, table=True):
    """A provider's service. Rates live in versions; the offer points at its current one."""

    id: int | None = id_field()
    provider_id: int = fk("organisation.id")
    category_id: int = fk("category.id")
    unit_id: int = fk("categoryunit.id")
    title: str = text(200)
    description: str = long_text(default="")
    capacity: Decimal | None = quantity(nullable=True)
    # Taken by contracts; a conditional UPDATE keeps two buyers from taking the same last unit.
    capacity_used: Decimal = quantity(default=Decimal("0"))
    lead_time_days: int = Field(default=0)
    valid_from: date
    valid_until: date | None = Field(default=None, nullable=True)
    status: str = Field(default=OfferStatus.DRAFT, max_length=20, index=True)
    commissioned: bool = Field(default=False)
    current_version: int = Field(default=1)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    published_at: datetime | None = timestamp(nullable=True)
    withdrawn_at: datetime | None = timestamp(nullable=True)


class OfferVersion(SQLModel, table=True):
    """One set of rates of an offer. Never changed once its offer has been published."""

    __table_args__ = (sa.UniqueConstraint("offer_id", "number"),)

    id: int | None = id_field()
    offer_id: int = fk("offer.id")
    number: int
    unit_id: int = fk("categoryunit.id")
    created_at: datetime = timestamp()
    published_at: datetime | None = timestamp(nullable=True)


class OfferTier(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("version_id", "min_quantity"),)

    id: int | None = id_field()
    version_id: int = fk("offerversion.id")
    min_quantity: Decimal = quantity()
    unit_price_pence: int = pence()


class OfferPriceBand(SQLModel, table=True):
    """A tier of an offer's current version as the range of quantities it prices.

    Kept by database triggers (migration 0002_search) from the tiers, so every writer keeps
    it right. Price at a quantity becomes a range lookup rather than a calculation, which
    lets the database walk ``(unit_id, unit_price_pence)`` in price order and stop at a page.
    """

    __table_args__ = (sa.Index("ix_offerpriceband_unit_price", "unit_id", "unit_price_pence"),)

    offer_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True
        )
    )
    tier_min_quantity: Decimal = Field(
        sa_column=sa.Column(sa.Numeric(14, 2, asdecimal=True), primary_key=True)
    )
    unit_id: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    # The first tier also prices quantities below its minimum (fractions of a unit).
    lower_quantity: Decimal = quantity()
    upper_quantity: Decimal | None = quantity(nullable=True)  # exclusive; None: no limit
    unit_price_pence: int = pence()


class CatalogueState(SQLModel, table=True):
    """One row whose ``generation`` database triggers bump on any change to what offers a
    search can count (migration 0002_search), so counts can be kept until it moves."""

    id: int = Field(primary_key=True)
    generation: int = Field(sa_type=sa.BigInteger, default=0)


# Browsing walks these in order instead of sorting the catalogue (migration 0002_search).
sa.Index(
    "ix_offer_live_category",
    col(Offer.category_id),
    col(Offer.status),
    col(Offer.valid_from),
    col(Offer.valid_until),
)
sa.Index(
    "ix_offer_live_unit",
    col(Offer.unit_id),
    col(Offer.status),
    col(Offer.valid_from),
    col(Offer.valid_until),
)
sa.Index("ix_offer_title_key", sa.func.lower(Offer.title), col(Offer.id))
sa.Index(
    "ix_offer_category_title_key",
    col(Offer.category_id),
    sa.func.lower(Offer.title),
    col(Offer.id),
)
