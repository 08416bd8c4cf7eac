"""Realistic demo data, loaded idempotently: organisations, users, then each domain's seed."""

import importlib
import importlib.util
from dataclasses import dataclass, field

from sqlmodel import Session, select

from lap_market.accounts import service as accounts
from lap_market.accounts.models import Organisation, OrgKind, Role, User
from lap_market.accounts.schemas import UserCreate
from lap_market.clock import clock
from lap_market.reference import LMA_NAME, PARTNERSHIP_NAME

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


@dataclass
class DemoContext:
    """What domain seeds share: organisations and users by key."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def borough(self, gss_code: str) -> Organisation:
        return self.orgs[gss_code]


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
                organisation_id=organisation.id,  # type: ignore[arg-type]
                password=DEMO_PASSWORD,
            ),
        )
    return user


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
