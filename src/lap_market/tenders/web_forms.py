"""What the tender pages share: London-time form fields, and form errors keyed by the page's
(prefixed) field names so several forms can sit on one page."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from lap_market.clock import LONDON, in_london
from lap_market.errors import DomainError, Forbidden, NotFound
from lap_market.tenders.models import Award
from lap_market.web.forms import FormErrors, parse_form


def london_input(value: datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` value in London time."""
    if value is None:
        return ""
    return in_london(value).strftime("%Y-%m-%dT%H:%M")


def parse_local(value: str) -> str | None:
    """A ``datetime-local`` value (London time) as an ISO UTC string."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema names the field and the problem
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        return value  # near year 1 or 9999: the schema's range check names the field


def validate_form(model: type[BaseModel], data: dict[str, Any], prefix: str) -> Any:
    """``data`` as ``model``, or FormErrors keyed by ``prefix`` + field."""
    try:
        return parse_form(model, data)
    except FormErrors as exc:
        raise FormErrors({prefix + k: v for k, v in exc.errors.items()}) from exc


def run_action(session: Session, prefix: str, action: Callable[[], Any]) -> Any:
    """Run a service call; a refused input becomes a form error beside its field."""
    try:
        return action()
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        key = prefix + exc.field if exc.field else prefix + "form"
        raise FormErrors({key: exc.detail}) from exc


def supplier_names(session: Session, awards: dict[int, Award]) -> dict[int, str]:
    """Names of the awarded suppliers, by organisation id (``lot_awards`` loads them)."""
    return {a.supplier_id: a.supplier.name for a in awards.values()}
