"""Tender and own-offer lists are paged (``items``, ``total``, ``page``, ``page_size``), filter
and count in the database, and their pages page through them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import Organisation
from lap_market.clock import clock
from lap_market.tenders.models import Tender, TenderStatus
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import catalogue as cat

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
OPEN, CLOSED, DRAFTS = 40, 23, 4


def _tender_rows(creator_id: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(OPEN + CLOSED + DRAFTS):
        draft = i >= OPEN + CLOSED
        deadline = NOW + (timedelta(days=5) if i < OPEN else timedelta(days=-1))
        rows.append({
            "reference": f"LAP-2026-{i + 1:04d}", "year": 2026, "sequence": i + 1,
            "title": f"Tender {i + 1}", "description": "",
            "status": TenderStatus.DRAFT if draft else TenderStatus.PUBLISHED,
            "price_weight": 60, "quality_weight": 40,
            "clarification_deadline": deadline - timedelta(days=2),
            "submission_deadline": deadline, "created_by_id": creator_id,
            "created_at": NOW, "updated_at": NOW,
            "published_at": None if draft else NOW - timedelta(days=10),
        })
    return rows


def test_tenders_are_paged_and_filtered_by_effective_status(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    officer, provider = acc.officer(session), acc.provider(session)
    session.execute(sa.insert(Tender), _tender_rows(officer.id))  # type: ignore[arg-type]
    session.commit()

    def listing(user: Any, query: str = "") -> dict[str, Any]:
        r = client.get(f"/api/v1/tenders{query}", headers=auth(app, user))
        assert r.status_code == 200, r.text
        return dict(r.json())

    everything = listing(officer)
    assert (everything["total"], everything["page"], everything["page_size"]) == (67, 1, 50)
    assert len(everything["items"]) == 50 and everything["items"][0]["reference"] == "LAP-2026-0067"
    second = listing(officer, "?page=2")
    assert len(second["items"]) == 17 and second["items"][-1]["reference"] == "LAP-2026-0001"
    assert listing(provider)["total"] == OPEN + CLOSED  # never drafts
    closed = listing(officer, "?status=closed&page_size=10")
    assert closed["total"] == CLOSED and len(closed["items"]) == 10
    assert {t["status"] for t in closed["items"]} == {"closed"}
    assert listing(officer, "?status=published")["total"] == OPEN
    assert listing(officer, "?page=9")["items"] == []
    assert client.get("/api/v1/tenders?page=0", headers=auth(app, officer)).status_code == 422

    client.cookies.set(SESSION_COOKIE, auth(app, officer)["Authorization"][7:])
    page = client.get("/tenders").text
    assert "Page 1 of 2" in page and "LAP-2026-0067" in page and "LAP-2026-0001" not in page
    assert "LAP-2026-0001" in client.get("/tenders?page=2").text
    dashboard = client.get("/").text  # counts by status, from the database
    for label, count in (("Closed", CLOSED), ("Published", OPEN), ("Draft", DRAFTS)):
        assert re.search(rf"{label}</dt>\s*<dd[^>]*><a[^>]*>{count}</a>", dashboard), label
    client.cookies.set(SESSION_COOKIE, auth(app, provider)["Authorization"][7:])
    opportunities = client.get("/opportunities").text
    assert len(re.findall(r'href="/opportunities/\d+"', opportunities)) == OPEN + CLOSED
    assert client.get("/opportunities?page=2").status_code == 200
    client.cookies.clear()


def test_own_offers_are_paged(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    provider, rival, officer = acc.provider(session), acc.provider(session), acc.officer(session)
    org = session.get(Organisation, provider.organisation_id)
    for i in range(57):
        cat.make_offer(session, org, title=f"Own offer {i:02d}", publish=i % 2 == 0)
    session.commit()
    r = client.get("/api/v1/my-offers?page=2&page_size=25", headers=auth(app, provider))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (57, 2, 25, 25)
    assert {o["status"] for o in body["items"]} == {"draft", "published"}
    assert client.get("/api/v1/my-offers", headers=auth(app, rival)).json()["total"] == 0
    assert client.get("/api/v1/my-offers", headers=auth(app, officer)).status_code == 403

    client.cookies.set(SESSION_COOKIE, auth(app, provider)["Authorization"][7:])
    first = client.get("/my-offers").text
    assert "Page 1 of 2" in first and "Own offer 56" in first and "Own offer 00" not in first
    assert "Own offer 00" in client.get("/my-offers?page=2").text
    client.cookies.clear()
