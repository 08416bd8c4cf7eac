"""Demo demand: borough managers in 14 boroughs and their needs across the four categories,
left ``submitted`` so aggregation has something real to pool."""

import random
import re
from datetime import date
from decimal import Decimal

from sqlmodel import Session, func, select

from lap_market.accounts.models import Role, User
from lap_market.demand import service
from lap_market.demand.models import Demand
from lap_market.demand.schemas import DemandCreate
from lap_market.demo import DemoContext, ensure_user

# GSS code, manager's name. Camden and Hackney's managers come with the base demo users.
BOROUGHS: list[tuple[str, str]] = [
    ("E09000007", "Chloe Camden"), ("E09000012", "Hamid Hackney"),
    ("E09000019", "Imogen Ismail"), ("E09000028", "Samuel Okafor"),
    ("E09000022", "Laura Bennett"), ("E09000033", "William Hart"),
    ("E09000030", "Tahmina Begum"), ("E09000011", "Grace Mensah"),
    ("E09000023", "Lewis Clarke"), ("E09000014", "Hannah Rossi"),
    ("E09000010", "Emre Yilmaz"), ("E09000008", "Chidi Nwosu"),
    ("E09000003", "Bella Shah"), ("E09000009", "Edward Kowalski"),
]

STORAGE_TERM = (date(2027, 4, 1), date(2030, 3, 31))
SPECS = {
    "storage": "Environmentally controlled storage (BS EN 16893) with weekly retrievals "
               "to our search room.",
    "conservation": "Remedial conservation of bound volumes and parchment deeds, with "
                    "condition reports.",
    "digitisation": "Digitisation of photographic collections to 400 ppi TIFF with "
                    "item-level metadata.",
    "training": "Places on the partnership's preservation and digital skills courses.",
}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _needs(rng: random.Random, turn: int) -> list[DemandCreate]:
    needs = [DemandCreate(
        category="storage", unit="linear_metre_year",
        quantity=Decimal(rng.randrange(40, 401, 5)), start_date=STORAGE_TERM[0],
        end_date=STORAGE_TERM[1], needed_by=date(2027, 3, 1), specification=SPECS["storage"],
    )]
    if turn % 3 != 2:
        needs.append(DemandCreate(
            category="conservation", unit="hour", quantity=Decimal(rng.randrange(50, 401, 10)),
            start_date=date(2027, 4, 1), end_date=date(2028, 3, 31), needed_by=date(2027, 3, 15),
            specification=SPECS["conservation"],
        ))
    if turn % 3 != 0:
        needs.append(DemandCreate(
            category="digitisation", unit="image",
            quantity=Decimal(rng.randrange(5_000, 60_001, 500)), start_date=date(2027, 6, 1),
            end_date=date(2028, 5, 31), needed_by=date(2027, 5, 1),
            specification=SPECS["digitisation"],
            budget_ceiling=Decimal(rng.randrange(20_000, 60_001, 1000)),
        ))
    if turn % 2 == 0:
        needs.append(DemandCreate(
            category="training", unit="delegate_place", quantity=Decimal(rng.randrange(4, 21)),
            start_date=date(2027, 9, 1), end_date=date(2027, 12, 31),
            specification=SPECS["training"],
        ))
    return needs


def seed(session: Session, ctx: DemoContext) -> None:
    """Borough managers and their submitted needs (skipped if any demand exists)."""
    if session.exec(select(func.count()).select_from(Demand)).one():
        return
    rng = random.Random(2026)  # the same demo every time
    for turn, (gss_code, person) in enumerate(BOROUGHS):
        manager = _manager(session, ctx, gss_code, person)
        for need in _needs(rng, turn):
            service.create_demand(session, manager, data=need)


def _manager(session: Session, ctx: DemoContext, gss_code: str, person: str) -> User:
    """The borough's demo manager, created if missing (so either seed can run alone)."""
    borough = ctx.borough(gss_code)
    email = f"{_slug(borough.name)}@lap.example"
    manager = ctx.users.get(email) or ensure_user(
        session, email=email, name=person, role=Role.BOROUGH_MANAGER, organisation=borough
    )
    ctx.users[email] = manager
    return manager


PIPELINE_SPEC = (
    "Boxed storage for transferred council records awaiting cataloguing, with retrieval "
    "within two working days."
)


def seed_pipeline(session: Session, ctx: DemoContext) -> None:
    """Needs raised after the demo tenders were made, so the officer's pipeline has
    something to pool on first run (skipped once they exist)."""
    exists = session.exec(
        select(func.count()).select_from(Demand).where(Demand.specification == PIPELINE_SPEC)
    ).one()
    if exists:
        return
    rng = random.Random(2027)
    for gss_code, person in BOROUGHS[:8]:
        manager = _manager(session, ctx, gss_code, person)
        service.create_demand(session, manager, data=DemandCreate(
            category="storage", unit="box_year", quantity=Decimal(rng.randrange(200, 3001, 50)),
            start_date=date(2028, 4, 1), end_date=date(2031, 3, 31), needed_by=date(2028, 1, 31),
            specification=PIPELINE_SPEC,
        ))
        service.create_demand(session, manager, data=DemandCreate(
            category="conservation", unit="item", quantity=Decimal(rng.randrange(20, 201, 5)),
            start_date=date(2028, 4, 1), end_date=date(2029, 3, 31),
            specification="Repair of damaged rate books and minute books before digitisation.",
        ))
