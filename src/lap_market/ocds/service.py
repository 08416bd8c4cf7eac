"""Open data: OCDS 1.1 release packages of published tenders, for anyone to read.

Reading only, so nothing is audited. Bids are read for one thing alone, which providers
have an active bid, and only for tenders whose submission deadline has passed.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlencode

from sqlmodel import Session, and_, col, or_, select

from lap_market.accounts.models import Organisation, OrgKind
from lap_market.audit.models import AuditEvent
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.clock import as_utc, clock
from lap_market.config import Settings
from lap_market.contract_management.models import (
    ChangeStatus,
    ContractChange,
    Invoice,
    InvoiceStatus,
)
from lap_market.contracts.models import Contract
from lap_market.demand.models import Demand, DemandStatus
from lap_market.errors import NotFound
from lap_market.modeling import pk
from lap_market.ocds import builder, policy
from lap_market.ocds.call_offs import call_off_releases
from lap_market.ocds.contracts import ContractFacts, contract_stages
from lap_market.ocds.schemas import Lot as OcdsLot
from lap_market.ocds.schemas import Publisher, Release, ReleasePackage
from lap_market.reference import PARTNERSHIP_NAME
from lap_market.rounds.grid import origin, rounds_for_tenders
from lap_market.tenders.models import Amendment, Award, Bid, BidStatus, Lot, Question, Tender

_Row = TypeVar("_Row", Lot, Amendment, Award)

PACKAGES_PATH = "/api/v1/ocds/release-packages"


def package_uri(
    settings: Settings, *, tender_id: int | None = None, since: str | None = None
) -> str:
    """Where a package is published: under ``LAP_PUBLIC_URL``, whatever Host a client sent.

    ``since`` is kept as the reader wrote it (re-encoded), so the uri names their query."""
    path = PACKAGES_PATH if tender_id is None else f"{PACKAGES_PATH}/{tender_id}"
    if since is not None:
        path += "?" + urlencode({"since": since})
    return settings.absolute_url(path)


def release_package_for_tender(
    session: Session, *, tender_id: int, uri: str, settings: Settings
) -> ReleasePackage:
    """Every release of one published tender so far; 404 for a draft or an unknown id."""
    tender = session.get(Tender, tender_id)
    if tender is None or not policy.is_public(tender):
        raise NotFound(f"There is no published tender {tender_id}.", field="tender_id")
    now = clock.now()
    releases = _releases(session, [tender], now=now, since=None, settings=settings)
    return _package(uri, releases, now)


def release_package_since(
    session: Session, *, since: datetime | None, uri: str, settings: Settings
) -> ReleasePackage | None:
    """All published tenders' releases dated ``since`` or later (all when None), oldest
    first; None when there are none (OCDS packages hold at least one release)."""
    now = clock.now()
    since = as_utc(since) if since is not None else None
    tenders = list(session.exec(
        select(Tender).where(col(Tender.published_at).is_not(None)).order_by(col(Tender.id))
    ).all())
    releases = _releases(session, tenders, now=now, since=since, settings=settings)
    return _package(uri, releases, now) if releases else None


def _package(uri: str, releases: list[Release], now: datetime) -> ReleasePackage:
    return ReleasePackage(
        uri=uri,
        version=builder.OCDS_VERSION,
        extensions=[builder.LOTS_EXTENSION] + (
            [builder.TECHNIQUES_EXTENSION] if any(r.tender.techniques for r in releases) else []),
        published_date=now,
        publisher=Publisher(name=PARTNERSHIP_NAME),
        license=builder.OPEN_GOVERNMENT_LICENCE,
        releases=releases,
    )


def _releases(
    session: Session, tenders: Sequence[Tender], *, now: datetime, since: datetime | None,
    settings: Settings,
) -> list[Release]:
    """Load what the tenders' releases need, in a fixed number of queries, and build them."""
    if not tenders:
        return []
    ids = [pk(t) for t in tenders]
    amendments = _by_tender(session.exec(
        select(Amendment).where(col(Amendment.tender_id).in_(ids)).order_by(col(Amendment.number))
    ).all())
    awards = _by_tender(session.exec(
        select(Award).where(col(Award.tender_id).in_(ids)).order_by(col(Award.id))
    ).all())
    contracts = _contracts(session, ids)
    call_offs = _contracts(session, ids, framework=True)
    # Only tenders with a release in the window are worth loading in full.
    wanted = [
        t for t in tenders
        if any(
            since is None or stage.date >= since
            for stage in builder.stages(
                t, amendments[pk(t)], awards[pk(t)], now, contracts[pk(t)]
            )
        ) or any(since is None or stage.date >= since
                 for stage in contract_stages(call_offs[pk(t)]))
    ]
    if not wanted:
        return []
    facts = _facts(session, wanted, amendments, awards, now)
    for item in facts:
        item.contracts = contracts[pk(item.tender)]
    releases = [
        release
        for item in facts
        for release in builder.build_releases(
            item, ocid_prefix=settings.ocid_prefix, now=now, since=since
        )
    ]
    releases += _call_off_releases(session, facts, call_offs, settings, now, since)
    return sorted(releases, key=lambda r: (r.date, r.ocid))


def _call_off_releases(
    session: Session, facts: list[builder.TenderFacts], call_offs: dict[int, list[ContractFacts]],
    settings: Settings, now: datetime, since: datetime | None,
) -> list[Release]:
    """Each framework call-off as its own process, linked to its framework's."""
    wanted = [(f, c) for f in facts for c in call_offs.get(f.tender.id or 0, [])]
    if not wanted:
        return []
    ids = {c.contract.buyer_id for _f, c in wanted} | {c.contract.supplier_id for _f, c in wanted}
    organisations = {pk(org): org for org in session.exec(
        select(Organisation).where(col(Organisation.id).in_(ids))).all()}
    releases = []
    for tender_facts, item in wanted:
        lot = next(x for x in tender_facts.lots if x.id == item.contract.lot_id)
        releases += call_off_releases(
            item, prefix=settings.ocid_prefix,
            framework_ocid=builder.ocid_for(settings.ocid_prefix, tender_facts.tender),
            entity=tender_facts.procuring_entity, organisations=organisations,
            lot=OcdsLot(id=builder.lot_id(lot), title=lot.title, status="complete"),
            lot_item=builder.lot_item(tender_facts, lot), now=now, since=since)
    return releases


def _facts(
    session: Session,
    tenders: list[Tender],
    amendments: dict[int, list[Amendment]],
    awards: dict[int, list[Award]],
    now: datetime,
) -> list[builder.TenderFacts]:
    """Everything the releases of ``tenders`` say, each kind loaded in one query."""
    ids = [pk(t) for t in tenders]
    lots = _by_tender(session.exec(select(Lot).where(col(Lot.tender_id).in_(ids))).all())
    lot_ids = [pk(lot) for group in lots.values() for lot in group]
    demands = _lot_demands(session, lot_ids)
    history = _cancellations(session, ids, lot_ids)
    for lot_id, released in history.lot_demands.items():
        demands[lot_id].extend(released)
    questions = _question_times(session, ids)
    tenderers = _tenderers(session, [t for t in tenders if policy.closed_at(t, now) is not None])
    org_ids = {d.borough_id for group in demands.values() for d in group}
    org_ids |= {d.borough_id for group in history.tender_demands.values() for d in group}
    org_ids |= {p for group in tenderers.values() for p in group}
    org_ids |= {a.supplier_id for group in awards.values() for a in group}
    organisations = _by_id(session, Organisation, org_ids)
    categories = _by_id(session, Category)
    units = _by_id(session, CategoryUnit)
    partnership = _partnership(session)
    pooled_from = rounds_for_tenders(session, ids)
    result = []
    for tender in tenders:
        tender_id, tender_lots = pk(tender), lots[pk(tender)]
        result.append(builder.TenderFacts(
            tender=tender, lots=tender_lots, categories=categories, units=units,
            procuring_entity=partnership,
            demands_by_lot={pk(lot): demands[pk(lot)] for lot in tender_lots},
            organisations=organisations,
            amendments=amendments[tender_id],
            awards=awards[tender_id],
            question_times=questions[tender_id],
            tenderer_ids=tenderers[tender_id],
            lot_changed_at={
                pk(lot): history.lot_changed_at[pk(lot)]
                for lot in tender_lots if lot.id in history.lot_changed_at
            },
            released_demands=history.tender_demands[tender_id],
            demand_round=origin(pooled_from[tender_id]) if tender_id in pooled_from else None,
        ))
    return result


def _lot_demands(session: Session, lot_ids: list[int]) -> dict[int, list[Demand]]:
    """The lots' demand that is not withdrawn, by lot id."""
    demands: dict[int, list[Demand]] = defaultdict(list)
    if lot_ids:
        for demand in session.exec(
            select(Demand)
            .where(col(Demand.lot_id).in_(lot_ids), Demand.status != DemandStatus.WITHDRAWN)
            .order_by(col(Demand.id))
        ).all():
            if demand.lot_id is not None:
                demands[demand.lot_id].append(demand)
    return demands


def _question_times(session: Session, tender_ids: list[int]) -> dict[int, list[datetime]]:
    """When each question was asked, by tender (the questions themselves are not published)."""
    questions: dict[int, list[datetime]] = defaultdict(list)
    for tender_id, asked_at in session.exec(
        select(Question.tender_id, Question.asked_at).where(col(Question.tender_id).in_(tender_ids))
    ).all():
        questions[tender_id].append(asked_at)
    return questions


_Stored = TypeVar("_Stored", Organisation, Category, CategoryUnit)


def _by_id(
    session: Session, table: type[_Stored], ids: set[int] | None = None
) -> dict[int, _Stored]:
    """Rows of ``table`` by id: those in ``ids``, or every row when no ids are named."""
    if ids is not None and not ids:
        return {}
    query = select(table)
    if ids is not None:
        query = query.where(col(table.id).in_(ids))
    return {pk(row): row for row in session.exec(query).all()}


def _partnership(session: Session) -> Organisation:
    """The procuring entity: the partnership organisation of the reference data."""
    partnership = session.exec(
        select(Organisation)
        .where(Organisation.kind == OrgKind.PARTNERSHIP)
        .order_by(col(Organisation.id))
    ).first()
    if partnership is None:  # the reference data always has it; a name is all a party needs
        partnership = Organisation(id=0, name=PARTNERSHIP_NAME, kind=OrgKind.PARTNERSHIP)
    return partnership


@dataclass
class _Cancellations:
    """What cancellations took away from lots, recovered from their audit events."""

    lot_changed_at: dict[int, datetime] = field(default_factory=dict)
    lot_demands: dict[int, list[Demand]] = field(default_factory=lambda: defaultdict(list))
    tender_demands: dict[int, list[Demand]] = field(default_factory=lambda: defaultdict(list))


def _cancellations(session: Session, tender_ids: list[int], lot_ids: list[int]) -> _Cancellations:
    """When lots were cancelled or declared unsuccessful, and the demand a cancellation sent
    back to the pipeline (it no longer points at the lot, but its boroughs were buyers)."""
    found = _Cancellations()
    lot_keys = [str(i) for i in lot_ids]
    tender_keys = [str(i) for i in tender_ids]
    events = session.exec(
        select(AuditEvent)
        .where(or_(
            and_(
                AuditEvent.object_type == "lot",
                col(AuditEvent.action).in_(["lot.cancelled", "lot.unsuccessful"]),
                col(AuditEvent.object_id).in_(lot_keys),
            ),
            and_(
                AuditEvent.object_type == "tender",
                AuditEvent.action == "tender.cancelled",
                col(AuditEvent.object_id).in_(tender_keys),
            ),
        ))
        .order_by(col(AuditEvent.id))
    ).all() if lot_keys or tender_keys else []
    wanted: dict[int, tuple[str, int]] = {}
    for event in events:
        owner = int(event.object_id)
        if event.object_type == "lot":
            found.lot_changed_at.setdefault(owner, as_utc(event.at))
        for demand_id in (event.details or {}).get("demand_ids") or []:
            if isinstance(demand_id, int):
                wanted[demand_id] = (event.object_type, owner)
    if wanted:
        for demand in session.exec(
            select(Demand).where(col(Demand.id).in_(list(wanted))).order_by(col(Demand.id))
        ).all():
            kind, owner = wanted[pk(demand)]
            target = found.lot_demands if kind == "lot" else found.tender_demands
            target[owner].append(demand)
    return found


def _tenderers(session: Session, closed: list[Tender]) -> dict[int, list[int]]:
    """Providers with an active bid, per tender: bidding has closed on every one of them.

    Only the tender and provider columns are selected, so no price or statement is read."""
    found: dict[int, list[int]] = defaultdict(list)
    if not closed:
        return found
    rows = session.exec(
        select(Bid.tender_id, Bid.provider_id)
        .where(col(Bid.tender_id).in_([t.id for t in closed]), Bid.status == BidStatus.ACTIVE)
        .distinct()
        .order_by(col(Bid.tender_id), col(Bid.provider_id))
    ).all()
    for tender_id, provider_id in rows:
        found[tender_id].append(provider_id)
    return found


def _contracts(
    session: Session, tender_ids: list[int], *, framework: bool = False
) -> dict[int, list[ContractFacts]]:
    """The tenders' call-off contracts (with ``framework``: the call-offs made under their
    frameworks instead, each its own process), each with its changes in effect and paid
    invoices, in three queries."""
    found: dict[int, list[ContractFacts]] = defaultdict(list)
    under_framework = col(Contract.framework_id).is_not(None)
    contracts = session.exec(
        select(Contract).where(col(Contract.tender_id).in_(tender_ids),
                               under_framework if framework else ~under_framework)
        .order_by(col(Contract.id))
    ).all()
    if not contracts:
        return found
    by_id = {c.id: ContractFacts(contract=c) for c in contracts}
    for change in session.exec(
        select(ContractChange)
        .where(col(ContractChange.contract_id).in_(list(by_id)),
               ContractChange.status == ChangeStatus.IN_EFFECT)
        .order_by(col(ContractChange.contract_id), col(ContractChange.number))
    ).all():
        by_id[change.contract_id].changes.append(change)
    for invoice in session.exec(
        select(Invoice)
        .where(col(Invoice.contract_id).in_(list(by_id)), Invoice.status == InvoiceStatus.PAID)
        .order_by(col(Invoice.paid_recorded_at), col(Invoice.id))
    ).all():
        by_id[invoice.contract_id].payments.append(invoice)
    for item in by_id.values():
        if item.contract.tender_id is not None:  # always, for these tenders' contracts
            found[item.contract.tender_id].append(item)
    return found


def _by_tender(rows: Sequence[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.tender_id].append(row)
    return grouped
