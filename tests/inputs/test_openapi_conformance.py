"""Schemathesis over the whole JSON API, from the ASGI app (no network), on SQLite and
PostgreSQL, signed in as a procurement officer and as a borough manager: no server error,
and every response (errors included) matches the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lap_market.clock import clock
from tests.factories import accounts as acc
from tests.factories import catalogue as cf
from tests.factories import demand as df
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

EXAMPLES = 2  # per operation and role: ~55 operations × 2 roles, about 20 s per database
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(app, session):  # type: ignore[no-untyped-def]
    """A little of everything, so small generated ids find real rows as well as missing ones."""
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    people = {"officer": acc.officer(session), "manager": acc.manager(session)}
    tf.draft_tender(session, people["officer"], title="Draft")
    tf.published_tender(session, people["officer"], title="Published")
    df.demand(session, people["manager"])
    cf.make_offer(session, acc.contractor(session))
    session.commit()
    return FreshTokens(app, people)


def _failures(operation, headers: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def run(case):  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except AssertionError as exc:
            failures.append(f"{operation.label}: {exc}")
        except Exception as exc:  # schemathesis raises its own failure group
            failures.append(f"{operation.label}: {exc}")

    run()
    return failures


def test_api_conforms_to_its_openapi_document(app, seeded) -> None:  # type: ignore[no-untyped-def]
    app.openapi()  # built (and cached) first: loading it below must not wait on the build
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50, len(operations)  # the whole API, not a corner of it
    failures: list[str] = []
    for role in ("officer", "manager"):
        for operation in operations:
            failures += _failures(operation, seeded[role])
    assert not failures, "\n\n".join(failures[:20])


def test_error_bodies_are_the_documented_ones(app, client, seeded) -> None:  # type: ignore[no-untyped-def]
    """The CSV import's row errors, a domain error and a validation error, each checked against
    the schema its operation declares (FastAPI's validation-error array is gone)."""
    app.openapi()  # built (and cached) first: loading it below must not wait on the build
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    csv = df.csv_text([["storage", "linear_metre_year", "-1", "2027-04-01", "2028-03-31", "", "", ""]])
    bad_rows = client.post(
        "/api/v1/demands/import", content=csv.encode(),
        headers={**seeded["manager"], "Content-Type": "text/csv"},
    )
    assert bad_rows.status_code == 422 and bad_rows.json()["errors"][0]["field"] == "quantity"
    schema["/api/v1/demands/import"]["POST"].validate_response(bad_rows)

    missing = client.get("/api/v1/tenders/999999", headers=seeded["officer"])
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    schema["/api/v1/tenders/{tender_id}"]["GET"].validate_response(missing)

    invalid = client.patch("/api/v1/tenders/1", json={"price_weight": "many"}, headers=seeded["officer"])
    assert invalid.status_code == 422 and invalid.json()["field"] == "price_weight"
    schema["/api/v1/tenders/{tender_id}"]["PATCH"].validate_response(invalid)

    document = client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert all(path.startswith("/api/") or path == "/healthz" for path in document["paths"])
