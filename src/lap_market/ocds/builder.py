"""Turning a tender's records into OCDS 1.1 releases, one per stage.

Pure functions over rows the service has loaded: no queries here, and nothing sealed is
ever passed in (bidders arrive only once the submission deadline has passed; bid prices
and quality statements never).

Each release is a snapshot at its own date, so that a release, once it exists, reads the
same whenever it is fetched:

==============================  ========================  =================================
release id                      tag                       date
==============================  ========================  =================================
``{ocid}-tender``               tender                    the tender's publication
``{ocid}-amendment-{n}``        tenderAmendment           amendment *n* was made
``{ocid}-tender-closed``        tenderUpdate              the submission deadline (bidders
                                                          become tenderers; only when it
                                                          passed before any cancellation)
``{ocid}-award-{id}``           award                     the award (status pending: the
                                                          standstill is running; active at
                                                          once when there is no standstill)
``{ocid}-award-{id}-active``    awardUpdate               the standstill ended (midnight in
                                                          England at the start of the day
                                                          after ``standstill_ends``)
``{ocid}-award-{id}-cancelled`` awardCancellation         the award was revoked
``{ocid}-cancellation``         tenderCancellation        the tender was cancelled
==============================  ========================  =================================

The description and deadlines are shown as they stood at the release's date (undoing the
recorded changes of later amendments); lots cancelled or declared unsuccessful show so from
the time the audit trail records. Facts with no recorded time (titles, quantities,
estimates) are shown as they are now. Demand that a cancellation sent back to the pipeline
is no longer linked to the lot, so the service finds it through the cancellation's audit
event: its boroughs stay buyers of the tender they were in.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal

from lap_market.accounts.models import Organisation
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.catalogue.pricing import term_days, unrounded_value
from lap_market.clock import as_utc
from lap_market.demand.models import Demand
from lap_market.modeling import pk
from lap_market.money import from_pence, round_pennies
from lap_market.ocds import schemas as o
from lap_market.ocds.contracts import ContractFacts, contract_release_part, contract_stages
from lap_market.ocds.policy import closed_at
from lap_market.tenders import workdays
from lap_market.tenders.models import (
    Amendment,
    Award,
    AwardStatus,
    Lot,
    LotStatus,
    Tender,
    TenderStatus,
)

OCDS_VERSION = "1.1"
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/"
    "v1.1.5/extension.json"
)
TECHNIQUES_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/"
    "master/extension.json"
)
OPEN_GOVERNMENT_LICENCE = (
    "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
)
CPV_SCHEME = "CPV"
# Boroughs carry their ONS GSS code; org-id.guide lists no scheme for it, so it goes in
# additionalIdentifiers under this name, with the ONS linked-data URI of the code.
GSS_SCHEME = "GB-GSS"
GSS_URI = "https://statistics.data.gov.uk/id/statistical-geography/{code}"

# Tender (and lot) statuses that have been awarded.
_AWARDED = {TenderStatus.AWARDED.value, TenderStatus.CONTRACTED.value}
_LOT_STATUS = {
    LotStatus.OPEN.value: "active",
    LotStatus.AWARDED.value: "complete",
    LotStatus.CONTRACTED.value: "complete",
    LotStatus.UNSUCCESSFUL.value: "unsuccessful",
    LotStatus.CANCELLED.value: "cancelled",
}


@dataclass(frozen=True)
class Stage:
    """One release to make: its id suffix, tag, date, and the award it is about."""

    suffix: str
    tag: str
    date: datetime
    award_id: int | None = None
    amendment_number: int | None = None
    contract_id: int | None = None


@dataclass
class TenderFacts:
    """Everything public about one tender, loaded by the service in bulk."""

    tender: Tender
    lots: list[Lot]
    categories: dict[int, Category]
    units: dict[int, CategoryUnit]
    procuring_entity: Organisation
    # Not withdrawn demand, by lot id: the boroughs, quantities and terms.
    demands_by_lot: dict[int, list[Demand]] = field(default_factory=dict)
    organisations: dict[int, Organisation] = field(default_factory=dict)
    amendments: list[Amendment] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    question_times: list[datetime] = field(default_factory=list)
    # When a lot was cancelled or declared unsuccessful, from the audit trail.
    lot_changed_at: dict[int, datetime] = field(default_factory=dict)
    # Demand released by cancelling the whole tender (its lot is no longer recorded).
    released_demands: list[Demand] = field(default_factory=list)
    # Providers with an active bid: filled only once the submission deadline has passed.
    tenderer_ids: list[int] = field(default_factory=list)
    # Call-off contracts with their changes in effect and paid invoices.
    contracts: list[ContractFacts] = field(default_factory=list)
    # The demand round the tender was pooled from, as the tender names it.
    demand_round: str | None = None


def ocid_for(prefix: str, tender: Tender) -> str:
    """The tender's Open Contracting ID: the publisher's prefix and the tender reference."""
    return f"{prefix}-{tender.reference}"


def standstill_over_at(award: Award) -> datetime:
    """The standstill's last day is ``standstill_ends``; the award is in force from midnight
    in England at the start of the day after, or at once without a standstill (the rule
    revoking and call-offs use too)."""
    return workdays.standstill_over_at(award.standstill_ends, awarded_at=award.awarded_at)


def stages(
    tender: Tender, amendments: Sequence[Amendment], awards: Sequence[Award], now: datetime,
    contracts: Sequence[ContractFacts] = (),
) -> list[Stage]:
    """The releases a tender has had by ``now``, oldest first."""
    if tender.published_at is None:
        return []
    found = [Stage("tender", "tender", as_utc(tender.published_at))]
    for amendment in amendments:
        found.append(Stage(
            f"amendment-{amendment.number}", "tenderAmendment", as_utc(amendment.created_at),
            amendment_number=amendment.number,
        ))
    closed = closed_at(tender, now)
    if closed is not None:
        found.append(Stage("tender-closed", "tenderUpdate", closed))
    for award in awards:
        name = f"award-{award.id}"
        found.append(Stage(name, "award", as_utc(award.awarded_at), award_id=award.id))
        revoked = _revoked_at(award)
        in_force = standstill_over_at(award)
        # Without a standstill the award release itself is already active: no update.
        if in_force > as_utc(award.awarded_at) and (revoked is None or in_force <= revoked):
            found.append(Stage(f"{name}-active", "awardUpdate", in_force, award_id=award.id))
        if revoked is not None:
            found.append(
                Stage(f"{name}-cancelled", "awardCancellation", revoked, award_id=award.id)
            )
    if tender.status == TenderStatus.CANCELLED and tender.cancelled_at is not None:
        found.append(Stage("cancellation", "tenderCancellation", as_utc(tender.cancelled_at)))
    found.extend(Stage(s.suffix, s.tag, s.date, contract_id=s.contract_id)
                 for s in contract_stages(list(contracts)))
    return sorted((s for s in found if s.date <= now), key=lambda s: s.date)


def build_releases(
    facts: TenderFacts, *, ocid_prefix: str, now: datetime, since: datetime | None = None
) -> list[o.Release]:
    """The tender's releases up to ``now`` (only those dated ``since`` or later, if given)."""
    ocid = ocid_for(ocid_prefix, facts.tender)
    found = stages(facts.tender, facts.amendments, facts.awards, now, facts.contracts)
    return [
        _release(facts, ocid, stage, found, now)
        for stage in found
        if since is None or stage.date >= since
    ]


def _release(
    facts: TenderFacts, ocid: str, stage: Stage, all_stages: list[Stage], now: datetime
) -> o.Release:
    at = stage.date
    closed = closed_at(facts.tender, now)
    bidding_closed = closed is not None and closed <= at
    contracts = [c for c in facts.contracts if c.contract.id == stage.contract_id]
    award_ids = {stage.award_id} | {c.contract.award_id for c in contracts}
    awards = [a for a in facts.awards if a.id in award_ids]
    parties = _parties(facts, tenderers=bidding_closed, suppliers=awards)
    return o.Release(
        ocid=ocid,
        id=f"{ocid}-{stage.suffix}",
        date=at,
        tag=[stage.tag],
        parties=parties,
        planning=o.Planning(rationale=facts.demand_round) if facts.demand_round else None,
        tender=_tender(facts, ocid, at, bidding_closed, all_stages),
        awards=[_award(facts, award, at) for award in awards] or None,
        contracts=[
            contract_release_part(c, facts.organisations, ocid, at, _reference) for c in contracts
        ] or None,
    )


# --- parties ---------------------------------------------------------------------------


def party_id(organisation: Organisation) -> str:
    """A party's id within every release: its GSS code when it has one, else ours."""
    if organisation.gss_code:
        return f"{GSS_SCHEME}-{organisation.gss_code}"
    return f"lap-org-{organisation.id}"


def _reference(organisation: Organisation) -> o.OrganizationReference:
    return o.OrganizationReference(id=party_id(organisation), name=organisation.name)


def _parties(
    facts: TenderFacts, *, tenderers: bool, suppliers: Iterable[Award]
) -> list[o.Organization]:
    entity = facts.procuring_entity
    entity_id = pk(entity)
    roles: dict[int, list[str]] = {entity_id: ["procuringEntity"]}
    for borough_id in _borough_ids(facts):
        roles.setdefault(borough_id, []).append("buyer")
    if tenderers:
        for provider_id in facts.tenderer_ids:
            roles.setdefault(provider_id, []).append("tenderer")
    for award in suppliers:
        roles.setdefault(award.supplier_id, []).append("supplier")
    everyone: dict[int, Organisation] = {**facts.organisations, entity_id: entity}
    return [_party(everyone[org_id], org_roles) for org_id, org_roles in roles.items()]


def _party(organisation: Organisation, roles: list[str]) -> o.Organization:
    extra = None
    if organisation.gss_code:
        extra = [o.Identifier(
            scheme=GSS_SCHEME, id=organisation.gss_code, legal_name=organisation.name,
            uri=GSS_URI.format(code=organisation.gss_code),
        )]
    return o.Organization(
        id=party_id(organisation), name=organisation.name, additional_identifiers=extra,
        roles=roles,
    )


def _all_demands(facts: TenderFacts) -> list[Demand]:
    return [d for group in facts.demands_by_lot.values() for d in group] + facts.released_demands


def _borough_ids(facts: TenderFacts) -> list[int]:
    ids = {d.borough_id for d in _all_demands(facts)}
    return sorted(ids, key=lambda i: facts.organisations[i].name)


# --- tender --------------------------------------------------------------------------------


def _tender(
    facts: TenderFacts, ocid: str, at: datetime, bidding_closed: bool, all_stages: list[Stage]
) -> o.Tender:
    tender = facts.tender
    lots = sorted(facts.lots, key=lambda lot: lot.number)
    priced = [lot.estimated_value_pence for lot in lots if lot.estimated_value_pence is not None]
    published = as_utc(tender.published_at) if tender.published_at else None
    description, clarification, submission = _as_at(facts, at)
    tenderers = [facts.organisations[i] for i in facts.tenderer_ids] if bidding_closed else []
    return o.Tender(
        id=tender.reference,
        title=tender.title,
        description=description or None,
        status=_tender_status(facts, at),
        status_details=(
            tender.cancel_reason
            if tender.cancelled_at is not None and as_utc(tender.cancelled_at) <= at else None
        ),
        procuring_entity=_reference(facts.procuring_entity),
        items=[lot_item(facts, lot) for lot in lots],
        value=o.Value(amount=from_pence(sum(priced))) if priced else None,
        tender_period=_period(published, submission),
        enquiry_period=_period(published, clarification),
        contract_period=_term(_all_demands(facts)),
        has_enquiries=any(as_utc(t) <= at for t in facts.question_times),
        number_of_tenderers=len(tenderers) if bidding_closed else None,
        tenderers=[_reference(org) for org in tenderers] if bidding_closed else None,
        lots=[_lot(facts, lot, at) for lot in lots],
        amendments=_amendments(facts, ocid, at, all_stages) or None,
        techniques=o.Techniques(has_framework_agreement=True)
        if tender.procedure == "framework" else None,
    )


def _tender_status(facts: TenderFacts, at: datetime) -> str:
    tender = facts.tender
    if (
        tender.status == TenderStatus.CANCELLED
        and tender.cancelled_at is not None
        and as_utc(tender.cancelled_at) <= at
    ):
        return "cancelled"
    if tender.status in _AWARDED:
        in_force = [as_utc(a.awarded_at) for a in facts.awards if a.status != AwardStatus.REVOKED]
        if in_force and max(in_force) <= at:
            return "complete"
    return "active"


def _as_at(facts: TenderFacts, at: datetime) -> tuple[str, datetime | None, datetime | None]:
    """Description, clarification and submission deadlines as they stood at ``at``."""
    tender = facts.tender
    description = tender.description
    clarification = as_utc(tender.clarification_deadline) if tender.clarification_deadline else None
    submission = as_utc(tender.submission_deadline) if tender.submission_deadline else None
    for amendment in sorted(facts.amendments, key=lambda a: a.number, reverse=True):
        if as_utc(amendment.created_at) <= at:
            break
        changes = amendment.changes or {}
        description = _before(changes, "description", description)
        clarification = _before_moment(changes, "clarification_deadline", clarification)
        submission = _before_moment(changes, "submission_deadline", submission)
    return description, clarification, submission


def _before(changes: dict[str, object], name: str, current: str) -> str:
    change = changes.get(name)
    if isinstance(change, dict) and isinstance(change.get("from"), str):
        return str(change["from"])
    return current


def _before_moment(
    changes: dict[str, object], name: str, current: datetime | None
) -> datetime | None:
    earlier = _before(changes, name, "")
    if not earlier:
        return current
    try:
        return as_utc(datetime.fromisoformat(earlier))
    except ValueError:
        return current


def _lot(facts: TenderFacts, lot: Lot, at: datetime) -> o.Lot:
    status = _LOT_STATUS.get(lot.status, "active")
    if status in ("cancelled", "unsuccessful"):
        changed = facts.lot_changed_at.get(pk(lot))
        if changed is None and status == "cancelled" and facts.tender.cancelled_at is not None:
            changed = as_utc(facts.tender.cancelled_at)
        if changed is not None and changed > at:
            status = "active"
    if status == "complete":
        awarded = [
            a for a in facts.awards
            if a.lot_id == lot.id and a.status != AwardStatus.REVOKED and as_utc(a.awarded_at) <= at
        ]
        status = "complete" if awarded else "active"
    estimate = lot.estimated_value_pence
    return o.Lot(
        id=lot_id(lot),
        title=lot.title,
        status=status,
        value=o.Value(amount=from_pence(estimate)) if estimate is not None else None,
    )


def lot_id(lot: Lot) -> str:
    """A lot's id in OCDS: its number within the tender."""
    return f"lot-{lot.number}"


def lot_item(facts: TenderFacts, lot: Lot, unit_price: Decimal | None = None) -> o.Item:
    category = facts.categories[lot.category_id]
    unit = facts.units[lot.unit_id]
    return o.Item(
        id=f"item-{lot.number}",
        description=f"{category.name} — {lot.title}",
        classification=o.Classification(
            scheme=CPV_SCHEME, id=cpv_id(category.cpv_code), description=category.cpv_description,
        ),
        quantity=Decimal(lot.total_quantity),
        unit=o.Unit(
            name=unit.name,
            value=o.Value(amount=unit_price) if unit_price is not None else None,
        ),
        related_lot=lot_id(lot),
    )


def cpv_id(code: str) -> str:
    """A CPV code as OCDS publishers write it: the eight digits, without the check digit."""
    return code.split("-", 1)[0]


def _amendments(
    facts: TenderFacts, ocid: str, at: datetime, all_stages: list[Stage]
) -> list[o.Amendment]:
    # Each amendment amends the tender-stage release before it.
    previous = {}
    last = f"{ocid}-tender"
    for stage in all_stages:
        if stage.amendment_number is not None:
            previous[stage.amendment_number] = last
            last = f"{ocid}-{stage.suffix}"
    made = []
    for amendment in sorted(facts.amendments, key=lambda a: a.number):
        when = as_utc(amendment.created_at)
        if when > at:
            continue
        changed = ", ".join(sorted(amendment.changes)) if amendment.changes else ""
        made.append(o.Amendment(
            id=str(amendment.number),
            date=when,
            rationale=amendment.reason,
            description=f"Changed: {changed.replace('_', ' ')}" if changed else None,
            amends_release_id=previous.get(amendment.number, f"{ocid}-tender"),
            release_id=f"{ocid}-amendment-{amendment.number}",
        ))
    return made


# --- awards --------------------------------------------------------------------------------


def _award(facts: TenderFacts, award: Award, at: datetime) -> o.Award:
    lot = next(lot for lot in facts.lots if lot.id == award.lot_id)
    unit_price = from_pence(award.unit_price_pence)
    demands = facts.demands_by_lot.get(pk(lot), [])
    return o.Award(
        id=f"award-{award.id}",
        title=f"Lot {lot.number}: {lot.title}",
        status=award_status(award, at),
        date=as_utc(award.awarded_at),
        value=o.Value(amount=award_value(facts.units[lot.unit_id], demands, unit_price)),
        suppliers=[_reference(facts.organisations[award.supplier_id])],
        items=[lot_item(facts, lot, unit_price)],
        contract_period=_term(demands),
        related_lots=[lot_id(lot)],
    )


def award_status(award: Award, at: datetime) -> str:
    """pending during the standstill, active after it, cancelled once revoked."""
    revoked = _revoked_at(award)
    if revoked is not None and revoked <= at:
        return "cancelled"
    if standstill_over_at(award) <= at:
        return "active"
    return "pending"


def award_value(unit: CategoryUnit, demands: Iterable[Demand], unit_price: Decimal) -> Decimal:
    """What the call-offs will add up to: each borough's demand at the awarded unit price
    (per-year units pro rata over each demand's own term), each rounded to the penny."""
    total = Decimal("0.00")
    for demand in demands:
        days = term_days(demand.start_date, demand.end_date)
        total += round_pennies(
            unrounded_value(Decimal(demand.quantity), unit_price, per_year=unit.per_year, days=days)
        )
    return total


def _revoked_at(award: Award) -> datetime | None:
    if award.status == AwardStatus.REVOKED and award.revoked_at is not None:
        return as_utc(award.revoked_at)
    return None


# --- periods -------------------------------------------------------------------------------


def _period(start: datetime | None, end: datetime | None) -> o.Period | None:
    if start is None and end is None:
        return None
    return o.Period(start_date=start, end_date=as_utc(end) if end is not None else None)


def _term(demands: Sequence[Demand]) -> o.Period | None:
    """From the first day any borough's service starts to the last day any ends."""
    if not demands:
        return None
    first = min(d.start_date for d in demands)
    last = max(d.end_date for d in demands)
    return o.Period(
        start_date=datetime.combine(first, time(0), tzinfo=UTC),
        end_date=datetime.combine(last, time(23, 59, 59), tzinfo=UTC),
    )
