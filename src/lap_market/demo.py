"""Realistic demo data, loaded idempotently: organisations, users, then each domain's seed."""

import importlib
import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlmodel import Session, col, select

from lap_market.accounts import service as accounts
from lap_market.accounts.models import Organisation, OrgKind, Role, User
from lap_market.accounts.schemas import UserCreate
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.errors import DomainError
from lap_market.reference import LMA_NAME, PARTNERSHIP_NAME

log = logging.getLogger("lap_market.demo")

DEMO_PASSWORD = "archives-demo-2026"  # noqa: S105 - published demo credential, development only
SEED_DOMAINS = [
    "catalogue", "demand", "tenders", "contracts", "frameworks", "notifications", "rounds",
]

CONTRACTORS = [
    "Thames Records Storage Ltd",
    "Bankside Conservation Studio",
    "Capital Imaging Services",
    "Heritage Skills Training CIC",
]

# (email, name, role, organisation name or GSS code)
DEMO_USERS: list[tuple[str, str, str, str]] = [
    ("admin@lap.example", "Ada Admin", Role.ADMIN, PARTNERSHIP_NAME),
    ("officer@lap.example", "Priya Officer", Role.PROCUREMENT_OFFICER, PARTNERSHIP_NAME),
    ("officer2@lap.example", "Tom Officer", Role.PROCUREMENT_OFFICER, PARTNERSHIP_NAME),
    ("camden@lap.example", "Chloe Camden", Role.BOROUGH_MANAGER, "E09000007"),
    ("hackney@lap.example", "Hamid Hackney", Role.BOROUGH_MANAGER, "E09000012"),
    ("lma@lap.example", "Lena LMA", Role.PROVIDER, LMA_NAME),
    ("thames@lap.example", "Tariq Thames", Role.PROVIDER, CONTRACTORS[0]),
    ("bankside@lap.example", "Beth Bankside", Role.PROVIDER, CONTRACTORS[1]),
    ("capital@lap.example", "Carl Capital", Role.PROVIDER, CONTRACTORS[2]),
    ("heritage@lap.example", "Hana Heritage", Role.PROVIDER, CONTRACTORS[3]),
]

JOB_TITLES = {
    "admin@lap.example": "Systems Administrator",
    "officer@lap.example": "Procurement Officer",
    "officer2@lap.example": "Procurement Officer",
    "camden@lap.example": "Borough Archivist",
    "hackney@lap.example": "Head of Archives and Local History",
    "lma@lap.example": "Head of Collections Services",
    "thames@lap.example": "Operations Director",
    "bankside@lap.example": "Studio Manager",
    "capital@lap.example": "Managing Director",
    "heritage@lap.example": "Programme Director",
}

# Demo legal details (invented numbers and contacts; addresses of the real buildings). The
# councils' legal names come from migration 0004_legal.
LEGAL_DETAILS: dict[str, dict[str, str]] = {
    "E09000007": {
        "address": "5 Pancras Square\nLondon\nN1C 4AG", "vat_number": "GB000000101",
        "contact_name": "Chloe Camden", "contact_email": "camden@lap.example",
        "contact_phone": "020 7974 0000",
    },
    "E09000012": {
        "address": "Hackney Town Hall\nMare Street\nLondon\nE8 1EA",
        "vat_number": "GB000000202", "contact_name": "Hamid Hackney",
        "contact_email": "hackney@lap.example", "contact_phone": "020 8356 0000",
    },
    LMA_NAME: {
        "address": "40 Northampton Road\nLondon\nEC1R 0HB", "vat_number": "GB000000303",
        "contact_name": "Lena LMA", "contact_email": "lma@lap.example",
        "contact_phone": "020 7332 0000",
    },
    CONTRACTORS[0]: {
        "legal_name": "Thames Records Storage Ltd", "company_number": "00000401",
        "address": "Unit 4, Riverside Park\nLondon\nSE16 0AA", "vat_number": "GB000000404",
        "contact_name": "Tariq Thames", "contact_email": "thames@lap.example",
    },
    CONTRACTORS[1]: {
        "legal_name": "Bankside Conservation Studio Ltd", "company_number": "00000502",
        "address": "12 Bankside\nLondon\nSE1 9AA", "vat_number": "GB000000505",
        "contact_name": "Beth Bankside", "contact_email": "bankside@lap.example",
    },
    CONTRACTORS[2]: {
        "legal_name": "Capital Imaging Services Ltd", "company_number": "00000603",
        "address": "3 Scanner Yard\nLondon\nE1 6AA", "vat_number": "GB000000606",
        "contact_name": "Carl Capital", "contact_email": "capital@lap.example",
    },
    CONTRACTORS[3]: {
        "legal_name": "Heritage Skills Training CIC", "company_number": "00000704",
        "address": "7 Guild Street\nLondon\nN1 1AA",
        "contact_name": "Hana Heritage", "contact_email": "heritage@lap.example",
    },
}


def _seed_settings() -> Settings:
    # Seeds read only business rules from these (standstill, minimum tender days, direct
    # award limits), so the LAP_ variables still apply; the key and database are placeholders
    # (no development key file is written, no database is opened).
    return Settings(secret_key="demo-only-" + "x" * 32, database_url="sqlite://")


@dataclass
class DemoContext:
    """What domain seeds share: organisations and users by key, and the settings their
    service calls take."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    settings: Settings = field(default_factory=_seed_settings)

    def borough(self, gss_code: str) -> Organisation:
        return self.orgs[gss_code]

    def manager(self, session: Session, gss_code: str) -> User | None:
        """A borough manager of the borough with this GSS code (None if it is not loaded)."""
        borough = self.orgs.get(gss_code)
        if borough is None:
            return None
        managers = select(User).where(
            User.organisation_id == borough.id, User.role == Role.BOROUGH_MANAGER
        )
        return session.exec(managers.order_by(col(User.id))).first()


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock UTC on ``day``: when a seed's story sets the clock."""
    return datetime.combine(day, time(hour), UTC)


@contextmanager
def story(what: str) -> Iterator[None]:
    """Tell a seed's story on a moved clock, then put the clock back as it was (frozen where
    it was frozen). A refusal is logged as ``demo <what>: …``, not raised: the demo must load
    even if another domain's rules moved on."""
    frozen = getattr(clock, "_frozen", None)
    try:
        yield
    except DomainError as exc:
        log.warning("demo %s: %s", what, exc.detail)
    finally:
        if frozen is None:
            clock.reset()
        else:
            clock.set(frozen)


def ensure_user(
    session: Session, *, email: str, name: str, role: str, organisation: Organisation
) -> User:
    """The demo user with this email, created if missing."""
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = accounts.create_user(
            session, None,
            data=UserCreate(
                email=email, name=name, role=Role(role),
                organisation_id=organisation.id,
                password=DEMO_PASSWORD,
            ),
        )
    return user


def _legal_details(ctx: DemoContext) -> None:
    """Fill the demo organisations' legal details an admin has not already recorded."""
    for key, details in LEGAL_DETAILS.items():
        organisation = ctx.orgs[key]
        for name, value in details.items():
            if not getattr(organisation, name):
                setattr(organisation, name, value)


def load_demo(session: Session) -> DemoContext:
    """Create the demo organisations, users and every domain's demo data (idempotent)."""
    ctx = DemoContext()
    for organisation in session.exec(select(Organisation)).all():
        ctx.orgs[organisation.gss_code or organisation.name] = organisation
    for name in CONTRACTORS:
        if name not in ctx.orgs:
            ctx.orgs[name] = Organisation(
                name=name, kind=OrgKind.CONTRACTOR, created_at=clock.now()
            )
            session.add(ctx.orgs[name])
    session.flush()
    for email, name, role, org_key in DEMO_USERS:
        ctx.users[email] = ensure_user(
            session, email=email, name=name, role=role, organisation=ctx.orgs[org_key]
        )
        ctx.users[email].job_title = ctx.users[email].job_title or JOB_TITLES[email]
    _legal_details(ctx)
    session.flush()
    for domain in SEED_DOMAINS:
        module_name = f"lap_market.{domain}.demo"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).seed(session, ctx)
        session.flush()
    # Last, so the demo tenders have not pooled it: open demand for the officer's pipeline.
    from lap_market.demand.demo import seed_pipeline

    seed_pipeline(session, ctx)
    session.flush()
    return ctx
