"""Parsing a borough's demand CSV: every row is checked, and any bad row rejects the file.

The same single-field rules as the API (``demand.schemas``) and the same cross-field rules
(``demand.service.rule_problems``) apply, so a row fails here exactly when the same line
sent as JSON would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.catalogue.reference import UnitInfo
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.demand.models import Demand, DemandStatus
from lap_market.demand.policy import require_manager
from lap_market.demand.schemas import clean_budget, clean_quantity, clean_specification
from lap_market.demand.service import UnitIndex, rule_problems, unit_index
from lap_market.errors import Invalid, PayloadTooLarge
from lap_market.modeling import table_of
from lap_market.money import to_pence
from lap_market.primitives import business_date, control_character
from lap_market.rounds import returns as round_returns

HEADER = [
    "category",
    "unit",
    "quantity",
    "start_date",
    "end_date",
    "needed_by",
    "specification",
    "budget_ceiling",
]
REQUIRED = ("category", "unit", "quantity", "start_date", "end_date")


@dataclass(frozen=True)
class ParsedRow:
    unit: UnitInfo
    quantity: Decimal
    start_date: date
    end_date: date
    needed_by: date | None
    specification: str
    budget_ceiling: Decimal | None


class CsvInvalid(Invalid):
    """A file with bad rows: ``errors`` lists ``{row, field, message}`` for each."""

    def __init__(self, detail: str, errors: list[dict[str, object]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors


def decode(body: bytes) -> str:
    """The text of an upload (UTF-8, with or without a byte-order mark)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"The file is not UTF-8 text (bad byte at position {exc.start}).",
            field="file",
        ) from exc


def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date written as YYYY-MM-DD") from None
    return business_date(day)


def _control_problems(raw: dict[str, str]) -> list[tuple[str, str]]:
    """Cells holding control characters (the specification may hold tabs and line breaks):
    NUL cannot be stored by PostgreSQL, and none of them belongs in a demand line."""
    problems = []
    for name, cell in raw.items():
        found = control_character(cell, multiline=name == "specification")
        if found:
            problems.append((name, f"must not contain control characters (found {found})"))
    return problems


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return str(exc)


Problems = list[tuple[str, str]]
RowErrors = list[dict[str, object]]
CELL_PARSERS: dict[str, Callable[[str], object]] = {
    "quantity": clean_quantity,
    "start_date": _date,
    "end_date": _date,
    "needed_by": _date,
    "specification": clean_specification,
    "budget_ceiling": clean_budget,
}


def parse(
    text: str,
    index: UnitIndex,
    *,
    max_rows: int,
    rules: round_returns.LineRules | None = None,
    today: date | None = None,
) -> list[ParsedRow]:
    """Every row of the file, or CsvInvalid listing every problem; PayloadTooLarge past
    ``max_rows`` data rows. With ``rules``, every row must also fit that demand round; with
    ``today``, no row's term may start before it."""
    records = _records(text, max_rows)
    rows: list[ParsedRow] = []
    errors: RowErrors = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, such as a trailing one
        row, problems = _parse_row(cells, index, rules, today)
        if problems:
            errors.extend({"row": number, "field": f, "message": m} for f, m in problems)
        elif row is not None:
            rows.append(row)
    _refuse_bad_file(errors, rows)
    return rows


def _records(text: str, max_rows: int) -> list[list[str]]:
    """The file's rows, once its size and header are right."""
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV: {exc}.", field="file") from exc
    # Count before the (slower) checks, so an oversized file is refused quickly.
    data_rows = sum(1 for cells in records[1:] if any(cell.strip() for cell in cells))
    if data_rows > max_rows:
        raise PayloadTooLarge(
            f"The file has {data_rows:,} rows; at most {max_rows:,} may be imported at once.",
            field="file",
            rows=data_rows,
            max_rows=max_rows,
        )
    header = records[0] if records else None
    if header is None or [h.strip().lower() for h in header] != HEADER:
        found = ",".join(header or []) or "nothing"
        raise CsvInvalid(
            "The first row must be the header " + ",".join(HEADER) + ".",
            [{"row": 1, "field": "header",
              "message": f"must be {','.join(HEADER)}; found {found}"}],
        )
    return records


def _parse_row(
    cells: list[str],
    index: UnitIndex,
    rules: round_returns.LineRules | None,
    today: date | None,
) -> tuple[ParsedRow | None, Problems]:
    """One data row as a line, or its problems (every one, not just the first)."""
    if len(cells) != len(HEADER):
        return None, [("row", f"has {len(cells)} columns; expected {len(HEADER)}")]
    raw = {name: cell.strip() for name, cell in zip(HEADER, cells, strict=True)}
    if controls := _control_problems(raw):
        return None, controls
    problems: Problems = [(name, "is required") for name in REQUIRED if not raw[name]]
    unit: UnitInfo | None = None
    if raw["category"] and raw["unit"]:
        unit, unit_problems = index.resolve(raw["category"], raw["unit"])
        problems += unit_problems
    values, cell_problems = _cells(raw)
    problems += cell_problems
    start, end = values.get("start_date"), values.get("end_date")
    quantity, needed_by = values.get("quantity"), values.get("needed_by")
    assert isinstance(start, date | None) and isinstance(end, date | None)
    assert isinstance(quantity, Decimal | None) and isinstance(needed_by, date | None)
    problems += rule_problems(unit, quantity=quantity, start_date=start, end_date=end,
                              needed_by=needed_by, today=today)
    if rules is not None:
        problems += rules.problems(unit.category_id if unit else None, start, end)
    if problems or unit is None or quantity is None or start is None or end is None:
        return None, problems
    budget, specification = values.get("budget_ceiling"), values.get("specification", "")
    assert isinstance(budget, Decimal | None) and isinstance(specification, str)
    return ParsedRow(unit=unit, quantity=quantity, start_date=start, end_date=end,
                     needed_by=needed_by, specification=specification,
                     budget_ceiling=budget), []


def _cells(raw: dict[str, str]) -> tuple[dict[str, object], Problems]:
    """Each filled cell by its single-field rule (the API's), or the rule's message."""
    values: dict[str, object] = {}
    problems: Problems = []
    for name, parser in CELL_PARSERS.items():
        if not raw[name]:
            continue
        try:
            values[name] = parser(raw[name])
        except (ValueError, ValidationError) as exc:
            problems.append((name, _message(exc)))
    return values, problems


def _refuse_bad_file(errors: RowErrors, rows: list[ParsedRow]) -> None:
    if errors:
        bad_rows = len({e["row"] for e in errors})
        raise CsvInvalid(
            f"{bad_rows:,} row{'s' if bad_rows != 1 else ''} of the file "
            f"{'have' if bad_rows != 1 else 'has'} problems; nothing was imported.",
            errors,
        )
    if not rows:
        raise CsvInvalid(
            "The file has no demand rows.",
            [{"row": 2, "field": "row", "message": "no data rows after the header"}],
        )


def import_demands(
    session: Session, actor: User, *, body: bytes, settings: Settings, round_id: int | None = None
) -> list[int]:
    """Raise every row of a CSV file as demand of the manager's borough: all rows or none.
    With ``round_id`` the rows are lines of the borough's return to that demand round.

    Rows go in with one bulk INSERT, so a file of 100,000 lines takes seconds, not minutes.
    """
    require_manager(actor)
    if len(body) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is {len(body):,} bytes; at most {settings.max_upload_bytes:,} are accepted.",
            field="file",
        )
    rules = round_returns.rules_for_lines(session, actor, round_id) if round_id else None
    rows = parse(decode(body), unit_index(session), max_rows=settings.max_csv_rows, rules=rules,
                 today=clock.today())
    if round_id is not None:
        round_returns.line_changed(session, actor, round_id)
    now = clock.now()
    values = [
        {
            "borough_id": actor.organisation_id,
            "created_by_id": actor.id,
            "category_id": row.unit.category_id,
            "unit_id": row.unit.id,
            "quantity": row.quantity,
            "start_date": row.start_date,
            "end_date": row.end_date,
            "needed_by": row.needed_by,
            "specification": row.specification,
            "budget_ceiling_pence": (
                to_pence(row.budget_ceiling) if row.budget_ceiling is not None else None
            ),
            "status": DemandStatus.SUBMITTED.value,
            "round_id": round_id,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    table = table_of(Demand)
    result = session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), values
    )
    ids = [int(i) for i in result.scalars().all()]
    audit.record(
        session,
        actor,
        action="demand.imported",
        object_type="demand",
        object_id=ids[0] if ids else None,
        details={"rows": len(ids), "first_id": ids[0], "last_id": ids[-1],
                 "round_id": round_id},
    )
    return ids


def template(index: UnitIndex, today: date) -> str:
    """A file to fill in: the header, then one example line per category (its first unit),
    for a three-year term starting on the first of a month at least three months ahead."""
    month = today.month + 3
    start = date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    end = date(start.year + 3, start.month, 1) - timedelta(days=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    seen: set[str] = set()
    for unit in sorted(index.units.values(), key=lambda u: (u.category_id, u.id)):
        if unit.category_code in seen:
            continue
        seen.add(unit.category_code)
        writer.writerow([unit.category_code, unit.code, "10", start.isoformat(),
                         end.isoformat(), "", f"Example: describe the {unit.category_name.lower()} "
                         "you need", ""])
    return out.getvalue()
