"""Malformed requests across the API answer 4xx naming the field, never 5xx, on SQLite and
PostgreSQL: ids beyond 2^31−1 and 64 bits, dates near year 1 and 9999, NUL and other control
characters, wrong types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from lap_market.clock import clock
from tests.factories import accounts as acc
from tests.factories import catalogue as cf
from tests.factories import demand as df
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
INT32_PAST = 2**31  # one past PostgreSQL's INTEGER
INT64_PAST = 2**63  # one past SQLite's INTEGER
HUGE = 10**30


@dataclass(frozen=True)
class Case:
    who: str  # officer, manager, provider, admin or anonymous
    method: str
    path: str  # {draft}, {published}, {lot}, {demand}, {offer} are filled in
    status: int
    field: str
    json: Any = None
    data: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.field}"


def offer_body(**changes: Any) -> dict[str, Any]:
    body = {
        "category": "storage", "title": "Boxes", "unit": "linear_metre_year",
        "tiers": [{"min_quantity": "1", "unit_price": "10.00"}], "lead_time_days": 5,
        "valid_from": "2027-01-01",
    }
    return {**body, **changes}


CASES = [
    # Path ids out of range are not found (404), whatever their size or form.
    Case("officer", "GET", f"/api/v1/tenders/{INT32_PAST}", 404, "tender_id"),
    Case("officer", "GET", f"/api/v1/tenders/{INT64_PAST}", 404, "tender_id"),
    Case("officer", "GET", f"/api/v1/tenders/{HUGE}", 404, "tender_id"),
    Case("officer", "GET", "/api/v1/tenders/0", 404, "tender_id"),
    Case("officer", "GET", "/api/v1/tenders/-7", 404, "tender_id"),
    Case("officer", "GET", "/api/v1/tenders/seven", 404, "tender_id"),
    Case("manager", "GET", f"/api/v1/demands/{INT64_PAST}", 404, "demand_id"),
    Case("provider", "PATCH", f"/api/v1/offers/{HUGE}", 404, "offer_id", json={"title": "x"}),
    Case("officer", "GET", f"/api/v1/tenders/{{published}}/lots/{INT32_PAST}/evaluation", 404, "lot_id"),
    Case("officer", "POST", f"/api/v1/bids/{INT64_PAST}/score", 404, "bid_id", json={"quality_score": "50"}),
    Case("anonymous", "GET", f"/api/v1/ocds/release-packages/{HUGE}", 404, "tender_id"),
    Case("officer", "GET", f"/api/v1/contracts/{INT32_PAST}/pdf", 404, "contract_id"),
    # Query ids and page numbers: 422 naming the parameter.
    Case("officer", "GET", f"/api/v1/contracts?tender_id={INT32_PAST}", 422, "tender_id"),
    Case("officer", "GET", f"/api/v1/contracts?lot_id={HUGE}", 422, "lot_id"),
    Case("officer", "GET", f"/api/v1/demands?page={INT32_PAST}", 422, "page"),
    Case("officer", "GET", f"/api/v1/demands?page={HUGE}", 422, "page"),
    Case("officer", "GET", f"/api/v1/offers?page={INT64_PAST}", 422, "page"),
    Case("officer", "GET", f"/api/v1/offers?provider_id={INT64_PAST}", 422, "provider_id"),
    Case("officer", "GET", "/api/v1/audit?actor_id=-5", 422, "actor_id"),
    Case("officer", "GET", f"/api/v1/audit?organisation_id={HUGE}", 422, "organisation_id"),
    Case("admin", "GET", f"/api/v1/users?page={INT32_PAST}", 422, "page"),
    Case("officer", "GET", f"/api/v1/contracts/1/pdf?version={INT32_PAST}", 422, "version"),
    # Body ids.
    Case("admin", "POST", "/api/v1/users", 422, "organisation_id", json={
        "email": "new@example.org", "name": "New", "role": "admin",
        "organisation_id": INT32_PAST, "password": "long-enough-password"}),
    Case("officer", "POST", "/api/v1/tenders/{published}/lots/{lot}/award", 422, "bid_id",
         json={"bid_id": INT64_PAST}),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}/lots", 422, "moves.0.demand_id",
         json={"moves": [{"demand_id": HUGE, "to_lot": "new"}]}),
    Case("manager", "POST", "/api/v1/contracts/quote", 422, "offer_id", json={
        "offer_id": INT32_PAST, "quantity": "10", "start_date": "2027-01-01", "end_date": "2027-12-31"}),
    # Dates and datetimes outside 2000 … 2100, or whose UTC conversion overflows.
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "submission_deadline",
         json={"submission_deadline": "9999-12-31T23:59:59-01:00"}),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "clarification_deadline",
         json={"clarification_deadline": "0001-01-01T00:00:00+01:00"}),
    Case("officer", "POST", "/api/v1/tenders/{published}/amendments", 422, "submission_deadline",
         json={"reason": "More time", "submission_deadline": "2101-01-01T00:00:00Z"}),
    Case("anonymous", "GET", "/api/v1/ocds/release-packages?since=0001-01-01T00:00:00%2B01:00", 422, "since"),
    Case("anonymous", "GET", "/api/v1/ocds/release-packages?since=9999-12-31T23:59:59-01:00", 422, "since"),
    Case("officer", "GET", "/api/v1/audit?until=9999-12-31T23:59:59-01:00", 422, "until"),
    Case("manager", "POST", "/api/v1/demands", 422, "start_date", json=df.payload(start_date="0001-01-01")),
    Case("manager", "POST", "/api/v1/demands", 422, "end_date", json=df.payload(end_date="9999-12-31")),
    Case("manager", "PATCH", "/api/v1/demands/{demand}", 422, "needed_by", json={"needed_by": "1999-12-31"}),
    Case("provider", "POST", "/api/v1/offers", 422, "valid_from", json=offer_body(valid_from="9999-12-31")),
    Case("manager", "GET", "/api/v1/offers/{offer}/quote?quantity=1&start_date=0001-01-01&end_date=2027-01-01", 422, "start_date"),
    Case("officer", "GET", "/api/v1/reports/savings?from=0001-01-01", 422, "from"),
    Case("officer", "POST", "/api/v1/tenders/aggregate", 422, "needed_by_to", json={"needed_by_to": "9999-12-31"}),
    # NUL and other control characters: 422 naming the field (PostgreSQL cannot store NUL).
    Case("provider", "POST", "/api/v1/offers", 422, "title", json=offer_body(title="Boxes\x00")),
    Case("provider", "POST", "/api/v1/offers", 422, "description", json=offer_body(description="a\x00b")),
    Case("provider", "POST", "/api/v1/offers", 422, "title", json=offer_body(title="Two\nlines")),
    Case("provider", "POST", "/api/v1/offers", 422, "category", json=offer_body(category="stor\x1bage")),
    Case("manager", "POST", "/api/v1/demands", 422, "specification", json=df.payload(specification="a\x00b")),
    Case("manager", "POST", "/api/v1/demands", 422, "unit", json=df.payload(unit="linear\x7fmetre")),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "title", json={"title": "Bell\x07"}),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "description", json={"description": "x\x0by"}),
    Case("provider", "POST", "/api/v1/tenders/{published}/questions", 422, "question", json={"question": "Why\x00?"}),
    Case("provider", "PUT", "/api/v1/tenders/{published}/lots/{lot}/bid", 422, "quality_statement",
         json={"unit_price": "9.00", "quality_statement": "Good\x00"}),
    Case("officer", "POST", "/api/v1/tenders/{published}/cancel", 422, "reason", json={"reason": "\x00"}),
    Case("admin", "POST", "/api/v1/organisations", 422, "name", json={"name": "Org\x00", "kind": "contractor"}),
    Case("anonymous", "POST", "/api/v1/auth/token", 422, "username", data={"username": "a\x00@b.org", "password": "x"}),
    Case("officer", "GET", "/api/v1/offers?q=box%00", 422, "q"),
    Case("officer", "GET", "/api/v1/demands?category=%07", 422, "category"),
    Case("officer", "GET", "/api/v1/tenders?status=%00", 422, "status"),
    Case("officer", "GET", "/api/v1/audit?action=x%00", 422, "action"),
    # CSV cells.
    Case("manager", "POST", "/api/v1/demands/import", 422, "specification",
         content=df.csv_text([["storage", "linear_metre_year", "10", "2027-04-01", "2028-03-31", "", "NUL\x00here", ""]]).encode(),
         headers={"Content-Type": "text/csv"}),
    Case("manager", "POST", "/api/v1/demands/import", 422, "start_date",
         content=df.csv_text([["storage", "linear_metre_year", "10", "0001-01-01", "2028-03-31", "", "", ""]]).encode(),
         headers={"Content-Type": "text/csv"}),
    # Wrong types.
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "price_weight", json={"price_weight": "abc"}),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}", 422, "title", json={"title": ["a"]}),
    Case("manager", "POST", "/api/v1/demands", 422, "quantity", json=df.payload(quantity=[])),
    Case("officer", "POST", "/api/v1/tenders/{published}/lots/{lot}/award", 422, "bid_id", json={"bid_id": "x" * 40}),  # public ids are at most 32 characters
    Case("officer", "POST", "/api/v1/tenders/{published}/lots/{lot}/award", 422, "bid_id", json={"bid_id": 1.5}),
    Case("officer", "PATCH", "/api/v1/tenders/{draft}/lots", 422, "moves", json={"moves": "all"}),
]


@pytest.fixture
def world(session, app):  # type: ignore[no-untyped-def]
    """People of each role, a draft and a published tender, a demand and an offer."""
    clock.set(START)
    people = {
        "officer": acc.officer(session),
        "manager": acc.manager(session),
        "provider": acc.provider(session),
        "admin": acc.admin(session),
    }
    draft = tf.draft_tender(session, people["officer"], title="Draft")
    published = tf.published_tender(session, people["officer"], title="Published")
    demand = df.demand(session, people["manager"])
    offer = cf.make_offer(session, acc.contractor(session))
    session.commit()
    ids = {
        "draft": draft.id, "published": published.id, "lot": tf.lots_of(session, published)[0].id,
        "demand": demand.id, "offer": offer.id,
    }
    return FreshTokens(app, people), ids


@pytest.mark.parametrize("case", CASES, ids=str)
def test_malformed_request_is_refused_naming_the_field(client, world, case: Case) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = world
    headers = dict(case.headers or {})
    if case.who != "anonymous":
        headers.update(tokens[case.who])
    response = client.request(
        case.method, case.path.format(**ids), json=case.json, data=case.data,
        content=case.content, headers=headers,
    )
    assert response.status_code == case.status, response.text
    body = response.json()
    fields = {body.get("field")}
    fields |= {e["field"] for e in body["detail"]} if isinstance(body["detail"], list) else set()
    fields |= {e["field"] for e in body.get("errors", [])}
    assert case.field in fields, body
    assert body["code"] == ("not_found" if case.status == 404 else "invalid")


def test_long_text_keeps_tabs_and_line_breaks(client, world) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = world
    text = "Line one\n\tLine two\r\nLine three"
    ok = client.patch(f"/api/v1/tenders/{ids['draft']}", json={"description": text}, headers=tokens["officer"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["description"] == text
