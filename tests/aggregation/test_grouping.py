"""Lot grouping and titles: pure rules, no database."""

from datetime import date
from decimal import Decimal

from lap_market.aggregation.planning import Line, group_lines, lot_title
from lap_market.demand.service import UnitIndex, UnitInfo

METRES = UnitInfo(
    id=1,
    code="linear_metre_year",
    name="linear metre per year",
    per_year=True,
    whole=False,
    category_id=1,
    category_code="storage",
    category_name="Archive storage",
)
BOXES = UnitInfo(
    id=2,
    code="box_year",
    name="box per year",
    per_year=True,
    whole=True,
    category_id=1,
    category_code="storage",
    category_name="Archive storage",
)
PLACES = UnitInfo(
    id=8,
    code="delegate_place",
    name="delegate place",
    per_year=False,
    whole=True,
    category_id=4,
    category_code="training",
    category_name="Training",
)
INDEX = UnitIndex(by_id={u.id: u for u in (METRES, BOXES, PLACES)})


def _line(id_: int, unit: UnitInfo, start: str, end: str) -> Line:
    return Line(
        id=id_,
        borough_id=id_,
        unit_id=unit.id,
        quantity=Decimal(10),
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end),
    )


def test_overlapping_terms_of_one_unit_form_connected_lots() -> None:
    lines = [
        _line(1, PLACES, "2027-01-01", "2027-01-31"),
        # 2 and 3 do not overlap each other, but 4 bridges them: one lot.
        _line(2, METRES, "2027-01-01", "2027-03-31"),
        _line(3, METRES, "2027-05-01", "2027-12-31"),
        _line(4, METRES, "2027-03-01", "2027-05-01"),
        # Starts the day after everything before it has ended: a lot of its own.
        _line(5, METRES, "2028-01-01", "2028-12-31"),
        _line(6, METRES, "2028-06-01", "2029-05-31"),
        # Same dates as 2, different unit: another lot.
        _line(7, BOXES, "2027-01-01", "2027-03-31"),
        # Same category and unit as 1 and a contained term.
        _line(8, PLACES, "2027-01-10", "2027-01-12"),
    ]
    groups = group_lines(reversed(lines), INDEX)
    assert [(unit.code, sorted(line.id for line in group)) for unit, group in groups] == [
        ("linear_metre_year", [2, 3, 4]),
        ("linear_metre_year", [5, 6]),
        ("box_year", [7]),
        ("delegate_place", [1, 8]),
    ]


def test_nothing_to_group() -> None:
    assert group_lines([], INDEX) == []


def test_lot_title_names_category_unit_and_span() -> None:
    assert lot_title(METRES, date(2027, 4, 1), date(2030, 3, 31)) == (
        "Storage – linear metre per year (Apr 2027 – Mar 2030)"
    )
