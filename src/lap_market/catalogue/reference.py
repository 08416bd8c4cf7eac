"""Categories and the units each may be bought in: read once per database and process.

Reference data changes only through migrations or an ORM write to ``Category`` /
``CategoryUnit``; such a write drops the cached copy when its transaction commits, and the
next request reads it again.
"""

import threading
from dataclasses import dataclass
from itertools import chain
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
)
from lap_market.catalogue.schemas import (
    CategoryRead,
    UnitRead,
)
from lap_market.db import engine_of
from lap_market.errors import Invalid
from lap_market.modeling import pk

# --- reference data ---------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    name: str
    cpv_code: str
    cpv_description: str


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    per_year: bool
    whole: bool
    category_id: int
    category_code: str
    category_name: str


@dataclass(frozen=True)
class Reference:
    """The categories and their units (plain values, shared by every request)."""

    categories: dict[str, CategoryInfo]
    units: dict[int, UnitInfo]

    def category(self, code: str, *, field: str = "category") -> CategoryInfo:
        found = self.categories.get(code)
        if found is None:
            known = ", ".join(self.categories)
            raise Invalid(f"Unknown category {code!r}; choose one of {known}.", field=field)
        return found

    def unit(self, category: CategoryInfo, code: str, *, field: str = "unit") -> UnitInfo:
        for info in self.units.values():
            if info.category_id == category.id and info.code == code:
                return info
        allowed = ", ".join(u.code for u in self.units_of(category))
        raise Invalid(
            f"Unit {code!r} is not allowed for {category.code}; choose one of {allowed}.",
            field=field,
        )

    def units_of(self, category: CategoryInfo) -> list[UnitInfo]:
        return [u for u in self.units.values() if u.category_id == category.id]

    def unit_codes(self) -> set[str]:
        return {u.code for u in self.units.values()}


_cache: "WeakKeyDictionary[Engine, Reference]" = WeakKeyDictionary()
_cache_lock = threading.Lock()


def load_reference(session: Session) -> Reference:
    """Categories and units, by code and id: cached per engine, read on first use."""
    engine = engine_of(session)
    cached = _cache.get(engine)
    if cached is None:
        cached = _read_reference(session)
        with _cache_lock:
            _cache[engine] = cached
    return cached



def forget_reference(engine: Engine | None = None) -> None:
    """Drop the cached reference data (of one engine, or all)."""
    with _cache_lock:
        if engine is None:
            _cache.clear()
        else:
            _cache.pop(engine, None)


@event.listens_for(OrmSession, "after_flush")
def _note_reference_writes(session: OrmSession, _context: Any) -> None:
    written = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(row, Category | CategoryUnit) for row in written):
        session.info["reference_written"] = True


@event.listens_for(OrmSession, "after_commit")
def _refresh_after_commit(session: OrmSession) -> None:
    if session.info.pop("reference_written", False):
        forget_reference(engine_of(session))


@event.listens_for(OrmSession, "after_rollback")
def _clear_note(session: OrmSession) -> None:
    session.info.pop("reference_written", None)


def _read_reference(session: Session) -> Reference:
    rows = session.exec(
        select(Category, CategoryUnit)
        .join(CategoryUnit, col(CategoryUnit.category_id) == col(Category.id))
        .order_by(col(Category.id), col(CategoryUnit.id))
    ).all()
    categories: dict[str, CategoryInfo] = {}
    units: dict[int, UnitInfo] = {}
    for category, unit in rows:
        categories.setdefault(
            category.code,
            CategoryInfo(
                id=pk(category),
                code=category.code,
                name=category.name,
                cpv_code=category.cpv_code,
                cpv_description=category.cpv_description,
            ),
        )
        units[pk(unit)] = UnitInfo(
            id=pk(unit),
            code=unit.code,
            name=unit.name,
            per_year=unit.per_year,
            whole=unit.whole,
            category_id=pk(category),
            category_code=category.code,
            category_name=category.name,
        )
    return Reference(categories=categories, units=units)


def list_categories(session: Session) -> list[CategoryRead]:
    """Every category with its CPV code and the units it may be bought in."""
    ref = load_reference(session)
    return [
        CategoryRead(
            code=c.code,
            name=c.name,
            cpv_code=c.cpv_code,
            cpv_description=c.cpv_description,
            units=[
                UnitRead(code=u.code, name=u.name, per_year=u.per_year, whole=u.whole)
                for u in ref.units_of(c)
            ],
        )
        for c in ref.categories.values()
    ]
