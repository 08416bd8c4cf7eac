"""Categories and the units each may be bought in, loaded once per request."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from lap_market.catalogue.models import (
    Category,
    CategoryUnit,
)
from lap_market.catalogue.schemas import (
    CategoryRead,
    UnitRead,
)
from lap_market.errors import Invalid
from lap_market.modeling import row_id

# --- reference data ---------------------------------------------------------------------


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


@dataclass
class Reference:
    """The categories and their units, loaded in one query."""

    categories: dict[str, Category]
    units: dict[int, UnitInfo]

    def category(self, code: str, *, field: str = "category") -> Category:
        found = self.categories.get(code)
        if found is None:
            known = ", ".join(self.categories)
            raise Invalid(f"Unknown category {code!r}; choose one of {known}.", field=field)
        return found

    def unit(self, category: Category, code: str, *, field: str = "unit") -> UnitInfo:
        for info in self.units.values():
            if info.category_id == category.id and info.code == code:
                return info
        allowed = ", ".join(u.code for u in self.units_of(category))
        raise Invalid(
            f"Unit {code!r} is not allowed for {category.code}; choose one of {allowed}.",
            field=field,
        )

    def units_of(self, category: Category) -> list[UnitInfo]:
        return [u for u in self.units.values() if u.category_id == category.id]

    def unit_codes(self) -> set[str]:
        return {u.code for u in self.units.values()}


def load_reference(session: Session) -> Reference:
    """Categories and units, by code and id."""
    rows = session.exec(
        select(Category, CategoryUnit)
        .join(CategoryUnit, col(CategoryUnit.category_id) == col(Category.id))
        .order_by(col(Category.id), col(CategoryUnit.id))
    ).all()
    categories: dict[str, Category] = {}
    units: dict[int, UnitInfo] = {}
    for category, unit in rows:
        categories.setdefault(category.code, category)
        units[row_id(unit)] = UnitInfo(
            id=row_id(unit),
            code=unit.code,
            name=unit.name,
            per_year=unit.per_year,
            whole=unit.whole,
            category_id=row_id(category),
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
