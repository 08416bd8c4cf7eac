"""Raising, listing, changing and withdrawing boroughs' demand. Reading it for pages and
the API (views, the pipeline summary, a need's history) is ``demand.reads``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Organisation, OrgKind, User
from lap_market.audit import service as audit
from lap_market.catalogue.reference import Reference, UnitInfo, load_reference
from lap_market.clock import clock
from lap_market.demand import policy
from lap_market.demand.models import Demand, DemandStatus, submitted
from lap_market.demand.policy import require_manager, require_viewer
from lap_market.demand.schemas import (
    DemandCreate,
    DemandFilters,
    DemandUpdate,
)
from lap_market.errors import Conflict, Forbidden, Invalid, NotFound
from lap_market.modeling import pk, rowcount
from lap_market.money import from_pence, to_pence
from lap_market.rounds import returns as round_returns

_GSS = re.compile(r"^E\d{8}$")


# --- reference data ------------------------------------------------------------------------


@dataclass
class UnitIndex:
    """Demand's view of the categories and units (``catalogue.reference``, the one lookup):
    by code, by id, and by the labels people write ("Archive storage", "box per year")."""

    categories: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, name)
    units: dict[tuple[str, str], UnitInfo] = field(default_factory=dict)
    by_id: dict[int, UnitInfo] = field(default_factory=dict)
    category_codes: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, reference: Reference) -> UnitIndex:
        index = cls()
        for info in reference.categories.values():
            index.categories[info.code] = (info.id, info.name)
            index.category_codes[info.id] = info.code
        for unit in reference.units.values():
            index.units[(unit.category_code, unit.code)] = unit
            index.by_id[unit.id] = unit
        return index

    def allowed_units(self, category: str) -> list[str]:
        return [code for (cat, code) in self.units if cat == category]

    def category_code(self, written: str) -> str | None:
        """The category a code or a name (any case) stands for."""
        key = _folded(written)
        for code, (_id, name) in self.categories.items():
            if key in (_folded(code), _folded(name)):
                return code
        return None

    def unit_code(self, category: str, written: str) -> str | None:
        """The unit of ``category`` a code or a name (any case) stands for."""
        key = _folded(written)
        for (cat, code), info in self.units.items():
            if cat == category and key in (_folded(code), _folded(info.name)):
                return code
        return None

    def resolve(self, category: str, unit: str) -> tuple[UnitInfo | None, list[tuple[str, str]]]:
        """The unit for these codes or names, or the problems naming the field at fault."""
        category_code = self.category_code(category)
        if category_code is None:
            known = ", ".join(f"{code} ({name})" for code, (_id, name) in self.categories.items())
            return None, [("category", f"is not a service category; use one of {known}")]
        unit_code = self.unit_code(category_code, unit)
        if unit_code is None:
            allowed = ", ".join(
                f"{code} ({self.units[(category_code, code)].name})"
                for code in self.allowed_units(category_code)
            )
            return None, [("unit", f"is not a unit {category_code} is bought in; "
                                   f"use one of {allowed}")]
        return self.units[(category_code, unit_code)], []


def _folded(text: str) -> str:
    """Codes and labels compared as people write them: any case, spaces or underscores."""
    return " ".join(text.replace("_", " ").split()).casefold()


def unit_index(session: Session) -> UnitIndex:
    """Every category and unit, from the reference data read once per process."""
    return UnitIndex.of(load_reference(session))


def rule_problems(
    unit: UnitInfo | None,
    *,
    quantity: Decimal | None,
    start_date: date | None,
    end_date: date | None,
    needed_by: date | None,
    today: date | None = None,
) -> list[tuple[str, str]]:
    """Rules across fields, shared by the API, the web form and CSV rows: (field, message).
    With ``today`` (England's), a term that starts before it is refused: a need is for
    service still to come."""
    problems: list[tuple[str, str]] = []
    if today is not None and start_date is not None and start_date < today:
        problems.append(("start_date", f"must be today ({today:%-d %B %Y}) or later"))
    if (
        unit is not None
        and unit.whole
        and quantity is not None
        and quantity != quantity.to_integral()
    ):
        problems.append(("quantity", f"must be a whole number of {unit.name}s"))
    if start_date and end_date and end_date < start_date:
        problems.append(("end_date", "must be on or after the start date"))
    if needed_by and start_date and needed_by > start_date:
        problems.append(("needed_by", "must be on or before the start date"))
    return problems


def _raise_first(problems: list[tuple[str, str]], labels: dict[str, str] | None = None) -> None:
    if problems:
        name, message = problems[0]
        label = (labels or {}).get(name, name.replace("_", " ").capitalize())
        raise Invalid(
            f"{label} {message}.",
            field=name,
            errors=[{"field": f, "message": m} for f, m in problems],
        )


# --- policy ----------------------------------------------------------------------------------


def visible(query: Any, actor: User) -> Any:
    require_viewer(actor)
    if policy.sees_only_own(actor):
        query = query.where(Demand.borough_id == actor.organisation_id)
    return query


def _own(session: Session, actor: User, demand_id: int) -> Demand:
    """A demand the actor may see; another borough's is simply not found."""
    demand = session.get(Demand, demand_id)
    if demand is None or not policy.can_see(actor, demand):
        raise NotFound("Demand not found.")
    return demand


# --- use cases --------------------------------------------------------------------------------


def create_demand(
    session: Session, actor: User, *, data: DemandCreate, index: UnitIndex | None = None
) -> Demand:
    """Raise a need for the manager's own borough; it starts ``submitted``."""
    require_manager(actor)
    if data.borough_id is not None and data.borough_id != actor.organisation_id:
        raise Forbidden("You may raise demand only for your own borough.", field="borough_id")
    index = index or unit_index(session)
    unit, problems = index.resolve(data.category, data.unit)
    problems += rule_problems(
        unit,
        quantity=data.quantity,
        start_date=data.start_date,
        end_date=data.end_date,
        needed_by=data.needed_by,
        today=clock.today(),
    )
    if data.round_id is not None:
        rules = round_returns.rules_for_lines(session, actor, data.round_id)
        problems += rules.problems(unit.category_id if unit else None,
                                   data.start_date, data.end_date)
    _raise_first(problems)
    assert unit is not None
    if data.round_id is not None:
        round_returns.line_changed(session, actor, data.round_id)
    now = clock.now()
    demand = Demand(
        borough_id=actor.organisation_id,
        created_by_id=pk(actor),
        category_id=unit.category_id,
        unit_id=unit.id,
        quantity=data.quantity,
        start_date=data.start_date,
        end_date=data.end_date,
        needed_by=data.needed_by,
        specification=data.specification,
        budget_ceiling_pence=to_pence(data.budget_ceiling) if data.budget_ceiling else None,
        status=DemandStatus.SUBMITTED,
        round_id=data.round_id,
        created_at=now,
        updated_at=now,
    )
    session.add(demand)
    session.flush()
    audit.record(
        session,
        actor,
        action="demand.created",
        object_type="demand",
        object_id=demand.id,
        details={
            "category": unit.category_code,
            "unit": unit.code,
            "quantity": demand.quantity,
            "start_date": demand.start_date,
            "end_date": demand.end_date,
            "round_id": demand.round_id,
        },
    )
    return demand


def get_demand(session: Session, actor: User, demand_id: int) -> Demand:
    """One demand the actor may see (404 for another borough's)."""
    require_viewer(actor)
    return _own(session, actor, demand_id)


def _filtered(session: Session, actor: User, filters: DemandFilters, index: UnitIndex) -> Any:
    query = visible(select(Demand), actor)
    return apply_filters(session, query, actor, filters, index)


def filter_by_service(
    query: Any, index: UnitIndex, *, category: str | None, unit: str | None
) -> Any:
    """Narrow a demand query to a category and/or unit code (422 naming an unknown one)."""
    if category:
        if category not in index.categories:
            known = ", ".join(index.categories)
            raise Invalid(f"Category must be one of {known}.", field="category")
        query = query.where(col(Demand.category_id) == index.categories[category][0])
    if unit:
        unit_ids = [
            u.id
            for (cat, code), u in index.units.items()
            if code == unit and (not category or cat == category)
        ]
        if not unit_ids:
            raise Invalid("Unit is not a unit of that category.", field="unit")
        query = query.where(col(Demand.unit_id).in_(unit_ids))
    return query


def apply_filters(
    session: Session, query: Any, actor: User, filters: DemandFilters, index: UnitIndex
) -> Any:
    query = filter_by_service(query, index, category=filters.category, unit=filters.unit)
    if filters.status:
        if filters.status not in set(DemandStatus):
            allowed = ", ".join(DemandStatus)
            raise Invalid(f"Status must be one of {allowed}.", field="status")
        query = query.where(
            submitted()  # written out, so the submitted lines' index serves it
            if filters.status == DemandStatus.SUBMITTED
            else col(Demand.status) == filters.status
        )
    if filters.borough:
        borough = find_borough(session, filters.borough)
        if policy.sees_only_own(actor) and borough.id != actor.organisation_id:
            raise Forbidden("You may see only your own borough's demand.", field="borough")
        query = query.where(Demand.borough_id == borough.id)
    return query


def find_borough(session: Session, key: str) -> Organisation:
    """A borough by organisation id or GSS code."""
    key = key.strip()
    borough: Organisation | None = None
    if key.isdigit():
        borough = session.get(Organisation, int(key))
    elif _GSS.match(key.upper()):
        borough = session.exec(
            select(Organisation).where(Organisation.gss_code == key.upper())
        ).first()
    if borough is None or borough.kind != OrgKind.BOROUGH:
        raise Invalid("Borough must be a borough's id or GSS code.", field="borough")
    return borough


def list_demands(
    session: Session,
    actor: User,
    *,
    filters: DemandFilters,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Demand], int]:
    """Demand the actor may see, newest first, one page at a time."""
    query = _filtered(session, actor, filters, unit_index(session))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Demand.id).desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), int(total)


def update_demand(session: Session, actor: User, demand_id: int, *, data: DemandUpdate) -> Demand:
    """Change a borough's own demand while it is still ``submitted``."""
    require_manager(actor)
    demand = _own(session, actor, demand_id)
    changes = _checked_changes(actor, demand, data)
    unit, merged = _changed_line(session, actor, demand, changes)
    if demand.round_id is not None:
        round_returns.line_changed(session, actor, demand.round_id)
    budget = (
        changes["budget_ceiling"]
        if "budget_ceiling" in changes
        else from_pence_or_none(demand.budget_ceiling_pence)
    )
    specification = changes.get("specification")
    values: dict[str, Any] = {
        "category_id": unit.category_id,
        "unit_id": unit.id,
        **merged,
        "specification": demand.specification if specification is None else specification,
        "budget_ceiling_pence": to_pence(budget) if budget is not None else None,
        "updated_at": clock.now(),
    }
    _write_if_submitted(session, demand, values)
    audit.record(
        session,
        actor,
        action="demand.updated",
        object_type="demand",
        object_id=demand.id,
        details=dict(changes),
    )
    return demand


REQUIRED_ON_CHANGE = ("category", "unit", "quantity", "start_date", "end_date")


def _checked_changes(actor: User, demand: Demand, data: DemandUpdate) -> dict[str, Any]:
    """The fields sent, once the borough, the required fields and the status allow them."""
    changes = data.model_dump(exclude_unset=True)
    borough_id = changes.pop("borough_id", None)
    if borough_id is not None and borough_id != actor.organisation_id:
        raise Forbidden("You may change demand only for your own borough.", field="borough_id")
    for name in REQUIRED_ON_CHANGE:
        if name in changes and changes[name] is None:
            raise Invalid(f"{name.replace('_', ' ').capitalize()} cannot be empty.", field=name)
    if not policy.can_change(actor, demand):
        raise Conflict(
            f"Only submitted demand can be changed; this is {demand.status}.", field="status"
        )
    return changes


def _changed_line(
    session: Session, actor: User, demand: Demand, changes: dict[str, Any]
) -> tuple[UnitInfo, dict[str, Any]]:
    """The line's unit and term as they would be after ``changes``, checked by every rule
    (a start date kept as it was is not refused for having since passed)."""
    index = unit_index(session)
    current = index.by_id[demand.unit_id]
    unit, problems = index.resolve(
        changes.get("category", current.category_code), changes.get("unit", current.code)
    )
    merged = {
        "quantity": changes.get("quantity", demand.quantity),
        "start_date": changes.get("start_date", demand.start_date),
        "end_date": changes.get("end_date", demand.end_date),
        "needed_by": changes.get("needed_by", demand.needed_by),
    }
    today = clock.today() if changes.get("start_date") not in (None, demand.start_date) else None
    problems += rule_problems(unit, **merged, today=today)
    if demand.round_id is not None:
        rules = round_returns.rules_for_lines(session, actor, demand.round_id)
        problems += rules.problems(unit.category_id if unit else None,
                                   merged["start_date"], merged["end_date"])
    _raise_first(problems)
    assert unit is not None
    return unit, merged


def _write_if_submitted(session: Session, demand: Demand, values: dict[str, Any]) -> None:
    """Conditional, so an aggregation that pools this line at the same moment wins cleanly."""
    result = session.execute(
        sa.update(Demand)
        .where(col(Demand.id) == demand.id, col(Demand.status) == DemandStatus.SUBMITTED)
        .values(**values)
    )
    if rowcount(result) != 1:
        raise Conflict(
            "This demand was pooled into a tender or withdrawn meanwhile.", field="status"
        )
    session.refresh(demand)


def from_pence_or_none(pence: int | None) -> Decimal | None:
    return from_pence(pence) if pence is not None else None


def withdraw_demand(session: Session, actor: User, demand_id: int) -> Demand:
    """Withdraw a borough's own demand while it is still ``submitted``."""
    require_manager(actor)
    demand = _own(session, actor, demand_id)
    if demand.round_id is not None:
        round_returns.rules_for_lines(session, actor, demand.round_id)
        round_returns.line_changed(session, actor, demand.round_id)
    result = session.execute(
        sa.update(Demand)
        .where(col(Demand.id) == demand.id, col(Demand.status) == DemandStatus.SUBMITTED)
        .values(status=DemandStatus.WITHDRAWN, updated_at=clock.now())
    )
    if rowcount(result) != 1:
        session.refresh(demand)
        raise Conflict(
            f"Only submitted demand can be withdrawn; this is {demand.status}.", field="status"
        )
    session.refresh(demand)
    audit.record(
        session,
        actor,
        action="demand.withdrawn",
        object_type="demand",
        object_id=demand.id,
    )
    return demand
