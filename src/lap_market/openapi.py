"""The OpenAPI document tells the truth about errors: every refusal the API sends is one of
the bodies below, and the document says so for every operation (one hook, not a ``responses=``
on each route)."""

from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from lap_market.demand.schemas import RowError


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters for a model a route validates itself (``openapi_extra``):
    one per field, with its schema and description, as FastAPI writes them."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required,
                     "schema": field_schema}  # fmt: skip
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters

class Error(BaseModel):
    """A refused request (``lap_market.errors.DomainError.as_json``); some errors add fields,
    such as ``retry_after`` (429) or ``rows`` and ``max_rows`` (413)."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(description="A stable code: forbidden, not_found, conflict, invalid, …")
    field: str | None = Field(default=None, description="The input to blame, when one is.")


class ValidationIssue(BaseModel):
    """One input that did not match the request schema."""

    loc: list[str | int] = Field(description="Where: path, query or body, then the field.")
    msg: str
    type: str
    field: str | None = Field(description="The field's dotted name within its location.")


class ValidationFailure(BaseModel):
    """A request that did not match its schema (422): every problem, the first one's field."""

    detail: list[ValidationIssue]
    code: Literal["invalid"]
    field: str | None = Field(description="The first problem's field.")


class CsvImportError(Error):
    """A CSV file with bad rows: nothing was imported; each problem has its row and field."""

    errors: list[RowError]


# Operations that declare a 422 of their own keep it, with the generic bodies beside it.
_MODELS: list[type[BaseModel]] = [Error, ValidationIssue, ValidationFailure, CsvImportError]
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(*models: type[BaseModel]) -> dict[str, Any]:
    schema = _ref(models[0]) if len(models) == 1 else {"anyOf": [_ref(m) for m in models]}
    return {"application/json": {"schema": schema}}


def _declare_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    invalid = responses.get("422")
    own = invalid.get("content") if invalid else None
    own_refs = [] if not own else [own["application/json"]["schema"]]
    generic = [m for m in (ValidationFailure, Error) if _ref(m) not in own_refs]
    schema = {"anyOf": [*own_refs, *(_ref(m) for m in generic)]}
    responses["422"] = {
        "description": (invalid or {}).get("description", "The input is not valid."),
        "content": {"application/json": {"schema": schema}},
    }
    for status, response in responses.items():
        if status.startswith(("4", "5")) and status != "422" and "content" not in response:
            response["content"] = _json(Error)
    responses["default"] = {"description": "Any other refusal.", "content": _json(Error)}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the error bodies the handlers in ``main`` send."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in _MODELS:
            defs = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(defs.pop("$defs", {}))
            schemas[model.__name__] = defs
        for name in _FASTAPI_ERRORS:
            schemas.pop(name, None)
        for item in document.get("paths", {}).values():
            for method, operation in item.items():
                if method in _METHODS:
                    _declare_errors(operation)
        app.openapi_schema = document
        return document

    # FastAPI's documented way to extend the schema is to replace this method.
    app.openapi = openapi  # type: ignore[method-assign]
