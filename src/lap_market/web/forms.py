"""Turning form posts into validated models, with errors keyed by field for the page."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lap_market.errors import DomainError

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
