"""Bounded input types shared by every schema, query and form, so no input reaches the
database that it cannot store (ids past 2^31−1, years near 1 or 9999, NUL characters)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

# PostgreSQL's INTEGER; SQLite would take more, but the two databases must answer alike.
MAX_ID = 2**31 - 1
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
_FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
_END_MOMENT = datetime(2101, 1, 1, tzinfo=UTC)
# Unicode category Cc (C0, DEL, C1); long text may keep tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# A database id (path, query or body). A path id out of range answers 404 (see main.py).
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]
# A page number: the same bound, so OFFSET arithmetic stays in range on both databases.
PageNumber = Annotated[int, Interval(ge=1, le=MAX_ID)]
# The largest quantity any input takes (offers, demand, call-offs, invoices): Numeric(14, 2)
# holds it with room to multiply by a rate without overflowing on PostgreSQL.
MAX_QUANTITY = Decimal(10) ** 9


def control_character(value: str, *, multiline: bool) -> str | None:
    """The first control character in ``value`` (as ``U+0000``), or None when it has none."""
    found = (_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def _refuse_controls(value: Any, *, multiline: bool) -> None:
    """Raise ValueError when ``value`` (or any string nested in it) has a control character."""
    if isinstance(value, str):
        found = control_character(value, multiline=multiline)
        if found:
            allowed = " other than tab and new line" if multiline else ""
            raise ValueError(f"must not contain control characters{allowed} (found {found})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_controls(key, multiline=False)
            _refuse_controls(item, multiline=multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _refuse_controls(item, multiline=multiline)


def _single_line(value: str) -> str:
    _refuse_controls(value, multiline=False)
    return value


def _multiline(value: str) -> str:
    _refuse_controls(value, multiline=True)
    return value


class Multiline:
    """Marks a text field that may hold tabs and line breaks (see ``Input``)."""


# One line of text (names, codes, filters): no control characters at all.
Line = Annotated[str, AfterValidator(_single_line)]
# Free text (descriptions, reasons, answers): tab, CR and LF allowed, no other control character.
LongText = Annotated[str, Multiline(), AfterValidator(_multiline)]
# The bounded texts request models share (on an ``Input``, so control characters are refused):
# a code (category, unit …), trimmed, 1–40 characters;
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# a title or name, trimmed, 1–200 characters;
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# a description or guidance, trimmed, lines allowed, at most 5,000 characters (may be empty).
Description = Annotated[
    str, Multiline(), StringConstraints(strip_whitespace=True, max_length=5000)
]


def business_date(value: date) -> date:
    """``value`` when it lies in 2000-01-01 … 2100-12-31, else ValueError saying so."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return value


def _business_datetime(value: datetime) -> datetime:
    # A zone offset can push a moment near year 1 or 9999 out of what datetime holds in UTC.
    try:
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        moment = _END_MOMENT
    if not _FIRST_MOMENT <= moment < _END_MOMENT:
        raise ValueError("must be between 2000-01-01 and 2100-12-31 (UTC)")
    return value


# A day the business can mean (offers, demand, reports): 2000-01-01 … 2100-12-31.
BusinessDate = Annotated[date, AfterValidator(business_date)]
# A moment in the same years, whose conversion to UTC cannot overflow.
BusinessDateTime = Annotated[datetime, AfterValidator(_business_datetime)]


@cache
def _multiline_fields(model: type[BaseModel]) -> frozenset[str]:
    names = set()
    for name, info in model.model_fields.items():
        if any(isinstance(m, Multiline) for m in info.metadata) or _marked(info.annotation):
            names.add(name)
    return frozenset(names)


def _marked(annotation: Any) -> bool:
    """True when ``annotation`` (``LongText``, ``LongText | None``, …) carries ``Multiline``."""
    for arg in getattr(annotation, "__metadata__", ()):
        if isinstance(arg, Multiline):
            return True
    return any(_marked(a) for a in getattr(annotation, "__args__", ()))


class Input(BaseModel):
    """Base of every request body, query and form model: control characters are refused in
    every string field, nested ones included, whatever type it was declared with (only fields
    declared ``LongText`` or marked ``Multiline`` may hold tabs and line breaks)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in _multiline_fields(cls)
        _refuse_controls(value, multiline=multiline)
        return value


class Strict(Input):
    """A request body that refuses fields it does not declare (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


def form_date(
    value: str,
    field: str,
    errors: dict[str, str],
    *,
    invalid: str = "Enter a real date from 2000 to 2100, such as 2027-01-01",
    missing: str | None = "Enter a date",
) -> date | None:
    """The ISO date typed into a form field, or None with the reason put in ``errors[field]``.

    A blank field is refused with ``missing``, or left as None when ``missing`` is None (an
    optional filter).
    """
    if not value:
        if missing is not None:
            errors.setdefault(field, missing)
        return None
    try:
        return business_date(date.fromisoformat(value))
    except ValueError:
        errors.setdefault(field, invalid)
        return None
