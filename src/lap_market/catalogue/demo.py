"""Demo offers: LMA's commissioned services and contractors' competing offers, published."""

from datetime import date
from typing import Any

from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.accounts.schemas import OrganisationUpdate
from lap_market.accounts.service import update_organisation
from lap_market.catalogue import service
from lap_market.catalogue.models import Offer
from lap_market.catalogue.schemas import OfferCreate
from lap_market.demo import DemoContext
from lap_market.modeling import pk

# (title, description, category, unit, tiers, capacity, lead time days, valid until)
DemoOffer = tuple[str, str, str, str, list[tuple[str, str]], str | None, int, date | None]
UNTIL = date(2028, 12, 31)

OFFERS: dict[str, list[DemoOffer]] = {
    "lma@lap.example": [
        (
            "LMA strongroom storage (shelving)",
            "BS EN 16893 strongrooms at Clerkenwell with environmental monitoring, pest management "
            "and retrieval to the LMA search room within two working days.",
            "storage",
            "linear_metre_year",
            [("1", "12.50"), ("100", "11.00"), ("500", "9.80"), ("2000", "9.10")],
            "8000",
            30,
            None,
        ),
        (
            "LMA strongroom storage (boxed)",
            "Boxed records in standard archive boxes in LMA strongrooms, barcoded and tracked.",
            "storage",
            "box_year",
            [("1", "2.20"), ("500", "1.80"), ("2500", "1.45")],
            "40000",
            30,
            None,
        ),
        (
            "LMA conservation studio (per item)",
            "Assessment and interventive conservation of paper and parchment items by accredited "
            "conservators (ICON).",
            "conservation",
            "item",
            [("1", "85.00"), ("50", "72.00"), ("200", "64.00")],
            "1500",
            45,
            UNTIL,
        ),
        (
            "LMA conservation studio (per hour)",
            "Conservator time for surveys, condition checking, packaging and bespoke repairs.",
            "conservation",
            "hour",
            [("1", "58.00"), ("100", "52.00"), ("400", "47.00")],
            "3000",
            30,
            UNTIL,
        ),
        (
            "LMA digitisation service",
            "Capture of documents, volumes and maps to FADGI 3-star, with TIFF masters and JPEG "
            "access copies.",
            "digitisation",
            "image",
            [("1", "1.40"), ("1000", "0.95"), ("10000", "0.70"), ("50000", "0.55")],
            "250000",
            20,
            None,
        ),
        (
            "LMA archive skills training",
            "One-day courses for borough staff and volunteers: handling, packaging, disaster "
            "response and cataloguing.",
            "training",
            "delegate_place",
            [("1", "140.00"), ("10", "120.00"), ("30", "95.00")],
            "600",
            14,
            None,
        ),
    ],
    "thames@lap.example": [
        (
            "Thames secure records storage",
            "Archive-grade racked storage in Dartford with controlled temperature and humidity "
            "and a twice-daily van service to central London.",
            "storage",
            "linear_metre_year",
            [("1", "13.80"), ("250", "11.40"), ("1000", "9.40"), ("5000", "8.95")],
            "20000",
            14,
            None,
        ),
        (
            "Thames boxed records storage",
            "Standard archive boxes stored, barcoded and delivered on request.",
            "storage",
            "box_year",
            [("1", "2.50"), ("1000", "1.65"), ("10000", "1.20")],
            None,
            10,
            None,
        ),
        (
            "Thames bulk storage by volume",
            "Large-format and bulk collections stored by cubic metre.",
            "storage",
            "cubic_metre_year",
            [("1", "48.00"), ("50", "42.00"), ("200", "36.50")],
            "1500",
            21,
            UNTIL,
        ),
    ],
    "bankside@lap.example": [
        (
            "Bankside paper and parchment conservation",
            "Interventive conservation of documents, maps and seals by an ICON-accredited studio.",
            "conservation",
            "item",
            [("1", "95.00"), ("25", "78.00"), ("150", "61.00")],
            "800",
            30,
            UNTIL,
        ),
        (
            "Bankside conservator hours",
            "Conservator time for surveys, emergency response and exhibition preparation.",
            "conservation",
            "hour",
            [("1", "65.00"), ("80", "55.00"), ("300", "44.50")],
            "2000",
            20,
            None,
        ),
    ],
    "capital@lap.example": [
        (
            "Capital Imaging archive digitisation",
            "High-volume overhead and flatbed capture to FADGI 3-star with OCR and metadata.",
            "digitisation",
            "image",
            [("1", "2.00"), ("2000", "0.85"), ("20000", "0.60"), ("100000", "0.45")],
            "1000000",
            15,
            None,
        ),
        (
            "Capital Imaging volume digitisation",
            "Whole bound volumes captured, including conservation-safe cradling.",
            "digitisation",
            "item",
            [("1", "38.00"), ("100", "31.00"), ("500", "26.00")],
            "5000",
            20,
            UNTIL,
        ),
    ],
    "heritage@lap.example": [
        (
            "Heritage Skills delegate places",
            "Accredited courses in preservation, digital preservation and records management, "
            "delivered in London venues.",
            "training",
            "delegate_place",
            [("1", "180.00"), ("12", "135.00"), ("40", "90.00")],
            "900",
            21,
            None,
        ),
        (
            "Heritage Skills in-house course days",
            "A trainer on your site for a day, up to 15 delegates.",
            "training",
            "course_day",
            [("1", "950.00"), ("5", "850.00"), ("20", "760.00")],
            "120",
            28,
            None,
        ),
    ],
}


def seed(session: Session, ctx: DemoContext) -> None:
    """Create and publish the demo offers of each provider that has none yet."""
    for email, offers in OFFERS.items():
        actor: User = ctx.users[email]
        has_offers = session.exec(
            select(Offer.id).where(Offer.provider_id == actor.organisation_id)
        ).first()
        if has_offers is not None:
            continue
        for title, description, category, unit, tiers, capacity, lead, until in offers:
            data: dict[str, Any] = {
                "category": category,
                "title": title,
                "description": description,
                "unit": unit,
                "tiers": [{"min_quantity": q, "unit_price": p} for q, p in tiers],
                "capacity": capacity,
                "lead_time_days": lead,
                "valid_from": date(2026, 1, 1),
                "valid_until": until,
            }
            offer = service.create_offer(session, actor, data=OfferCreate.model_validate(data))
            service.publish_offer(session, actor, pk(offer))
    seed_selling_borough(session, ctx)


SELLING_BOROUGH = "E09000007"  # Camden: spare strongroom space, sold to the other members
SELLER_OFFER: dict[str, Any] = {
    "category": "storage",
    "title": "Camden Local Studies spare strongroom capacity",
    "description": "Spare bays in Camden's BS EN 16893 strongroom at Holborn, sold to other "
    "members while Camden's own collections grow into them.",
    "unit": "linear_metre_year",
    "tiers": [{"min_quantity": "1", "unit_price": "9.40"},
              {"min_quantity": "100", "unit_price": "8.60"}],
    "capacity": "350",
    "lead_time_days": 30,
    "valid_from": date(2026, 1, 1),
    "valid_until": None,
}


def seed_selling_borough(session: Session, ctx: DemoContext) -> None:
    """Camden sells spare storage (the admin lets it; its manager lists the offer) while it
    also buys storage: its demand sits in the demo storage tender (issue 17's rules)."""
    admin, manager = ctx.users["admin@lap.example"], ctx.users["camden@lap.example"]
    borough = ctx.borough(SELLING_BOROUGH)
    if not borough.can_provide:
        update_organisation(session, admin, pk(borough), OrganisationUpdate(can_provide=True))
        session.flush()
        session.refresh(manager)
    if session.exec(select(Offer.id).where(Offer.provider_id == borough.id)).first() is None:
        offer = service.create_offer(
            session, manager, data=OfferCreate.model_validate(SELLER_OFFER)
        )
        service.publish_offer(session, manager, pk(offer))
