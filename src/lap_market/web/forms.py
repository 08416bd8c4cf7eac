"""Turning form posts into validated models, with errors keyed by field for the page."""

from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from lap_market.clock import LONDON
from lap_market.errors import DomainError, Invalid
from lap_market.primitives import MAX_ID, control_character

M = TypeVar("M", bound=BaseModel)


class FormErrors(Exception):
    """A form that did not validate: field → message, shown beside each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form invalid")
        self.errors = errors


def parse_form(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` (blank strings dropped) into ``model`` or raise FormErrors."""
    cleaned = {
        k: v for k, v in data.items()
        if k != "csrf_token" and not (isinstance(v, str) and v.strip() == "")
    }
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        raise FormErrors(validation_messages(exc)) from exc


def london_local(value: object) -> object:
    """A ``datetime-local`` value read as London wall-clock time (a form's times are London's);
    anything that is not a date-time is left for the schema to refuse, naming the field."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


def validation_messages(exc: ValidationError) -> dict[str, str]:
    """First message per field of a pydantic error."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "form"
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(loc, message)
    return errors


def domain_form_errors(exc: DomainError) -> dict[str, str]:
    """A domain error as a form error on its field (or on the form as a whole)."""
    return {exc.field or "form": exc.detail}


def page_number(request: Request) -> int:
    """The ``page`` query parameter, 1 when absent or not a number, at most 2^31−1."""
    raw = request.query_params.get("page", "1").strip()
    return min(max(int(raw), 1), MAX_ID) if raw.isdigit() and len(raw) <= 10 else 1


def query_text(request: Request, name: str, limit: int = 200) -> str:
    """A free-text query parameter, trimmed; Invalid (422) when it holds a control character."""
    value = (request.query_params.get(name) or "").strip()[:limit]
    if found := control_character(value, multiline=False):
        raise Invalid(f"must not contain control characters (found {found})", field=name)
    return value


def parse_query(model: type[M], data: dict[str, Any]) -> M:
    """Filters from a page's query string as ``model``; Invalid (422) naming the first bad one."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = next(iter(validation_messages(exc).items()))
        raise Invalid(f"{field.replace('_', ' ').capitalize()} {message}", field=field) from exc
