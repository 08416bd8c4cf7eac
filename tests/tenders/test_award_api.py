"""Scoring, evaluation, award, standstill, revoke and unsuccessful lots, on both databases."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.tenders.models import Award, Bid, Lot, Tender
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AFTER_CLOSE = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)  # Friday, before Christmas


@pytest.fixture
def closed(session, app):  # type: ignore[no-untyped-def]
    """A tender (weights 60/40) with three bids on lot 1 and none on lot 2, deadline passed."""
    clock.set(START)
    people = {
        "officer": acc.officer(session),
        "officer2": acc.officer(session),
        "a": acc.provider(session),
        "b": acc.provider(session),
        "c": acc.provider(session),
    }
    tender = tf.published_tender(
        session,
        people["officer"],
        lots=[
            tf.DEFAULT_LOTS[0],
            {
                "category": "training",
                "unit": "delegate_place",
                "demands": [("E09000003", Decimal("10"), *tf.DEFAULT_TERM)],
            },
        ],
        clarification_deadline=START + timedelta(days=5),
        submission_deadline=START + timedelta(days=10),
    )
    lot, empty = tf.lots_of(session, tender)
    bids = {
        "a": tf.bid(session, people["a"], lot, unit_price="10.00", quality_statement="A plan"),
        "b": tf.bid(session, people["b"], lot, unit_price="12.50", quality_statement="B plan"),
        "c": tf.bid(session, people["c"], lot, unit_price="8.00", quality_statement="=C plan"),
    }
    # Issue 17: officers declare (here, no conflict) before they score or award.
    for officer in ("officer", "officer2"):
        tf.declaration(session, people[officer], tender)
    session.commit()
    return people, FreshTokens(app, people), tender, lot, empty, bids


def _awards(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return len(session.exec(select(Award)).all())


def _score(client, h, bid, value):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/bids/{bid.public_id}/score", json={"quality_score": value}, headers=h["officer"]
    )


def test_score_rank_csv_award_and_revoke(client, session, closed) -> None:  # type: ignore[no-untyped-def]
    people, h, tender, lot, empty, bids = closed
    base = f"/api/v1/tenders/{tender.id}/lots/{lot.id}"
    assert _score(client, h, bids["a"], 90).status_code == 409  # before close
    session.expire_all()
    assert session.get(Bid, bids["a"].id).quality_score is None  # type: ignore[union-attr]
    assert client.get(f"{base}/evaluation", headers=h["officer"]).status_code == 409
    clock.set(AFTER_CLOSE)
    for bad in (101, -1, "100.01", "90.123", "ninety"):
        r = _score(client, h, bids["a"], bad)
        assert r.status_code == 422 and "quality_score" in r.text, bad
    session.expire_all()
    assert session.get(Bid, bids["a"].id).quality_score is None  # type: ignore[union-attr]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "bid.scored")).all() == []
    assert (
        client.post(
            f"/api/v1/bids/{bids['a'].public_id}/score", json={"quality_score": 50}, headers=h["a"]
        ).status_code
        == 403
    )
    assert _score(client, h, bids["a"], 90).status_code == 200
    assert _score(client, h, bids["b"], "95.5").status_code == 200
    # Awarding before every bid is scored: 409, nothing written.
    r = client.post(f"{base}/award", json={"bid_id": bids["a"].public_id}, headers=h["officer"])
    assert r.status_code == 409
    assert _awards(session) == 0
    assert _score(client, h, bids["c"], "61").status_code == 200
    session.expire_all()
    assert session.get(Tender, tender.id).status == "closed"  # type: ignore[union-attr]

    rows = client.get(f"{base}/evaluation", headers=h["officer"]).json()
    assert [
        (
            r["bid_id"],
            r["unit_price"],
            r["price_score"],
            r["quality_score"],
            r["total_score"],
            r["rank"],
        )
        for r in rows
    ] == [
        (bids["c"].public_id, "8.00", "100.00", "61.00", "84.40", 1),
        (bids["a"].public_id, "10.00", "80.00", "90.00", "84.00", 2),
        (bids["b"].public_id, "12.50", "64.00", "95.50", "76.60", 3),
    ]
    r = client.get(f"{base}/evaluation", headers={**h["officer"], "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["rank"] for row in table] == ["1", "2", "3"]
    assert table[0]["quality_statement"] == "'=C plan"  # no formula injection
    assert {row["submitted_at"] for row in table} == {"1 Dec 2026, 09:00 GMT"}  # London time
    assert client.get(f"{base}/evaluation", headers=h["a"]).status_code == 403

    # Not the top bid and no reason: 422; an unknown bid: 422; then with a reason.
    r = client.post(f"{base}/award", json={"bid_id": bids["a"].public_id}, headers=h["officer"])
    assert r.status_code == 422 and r.json()["field"] == "reason"
    assert _awards(session) == 0
    assert session.get(Lot, lot.id).status == "open"  # type: ignore[union-attr]
    assert (
        client.post(f"{base}/award", json={"bid_id": "no-such-bid"}, headers=h["officer"]).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/tenders/{tender.id}/lots/{empty.id}/award",
            json={"bid_id": bids["a"].public_id},
            headers=h["officer"],
        ).status_code
        == 409
    )
    r = client.post(
        f"{base}/award",
        json={"bid_id": bids["a"].public_id, "reason": "Better quality"},
        headers=h["officer"],
    )
    assert r.status_code == 200, r.text
    # Friday 18 Dec + 8 working days, skipping Christmas, Boxing Day (observed) and New Year.
    assert r.json()["standstill_ends"] == "2027-01-04"
    award_id = r.json()["award_id"]
    assert (
        client.post(
            f"{base}/award", json={"bid_id": bids["c"].public_id}, headers=h["officer"]
        ).status_code
        == 409
    )
    assert _score(client, h, bids["b"], 10).status_code == 409  # scores final once awarded
    # Lot 2 has no bids: unsuccessful; then the tender is awarded.
    assert (
        client.get(f"/api/v1/tenders/{tender.id}", headers=h["officer"]).json()["status"]
        == "closed"
    )
    r = client.post(
        f"/api/v1/tenders/{tender.id}/lots/{empty.id}/unsuccessful",
        json={"reason": "No bids"},
        headers=h["officer"],
    )
    assert r.status_code == 200 and r.json()["status"] == "unsuccessful"
    assert (
        client.get(f"/api/v1/tenders/{tender.id}", headers=h["officer"]).json()["status"]
        == "awarded"
    )
    assert (
        client.post(
            f"/api/v1/tenders/{tender.id}/cancel", json={"reason": "x"}, headers=h["officer"]
        ).status_code
        == 409
    )
    notes = [n["message"] for n in client.get("/api/v1/notifications", headers=h["a"]).json()]
    assert any("to be awarded to you" in m for m in notes)
    assert any(
        "not successful" in n["message"]
        for n in client.get("/api/v1/notifications", headers=h["c"]).json()
    )

    # Revoke during standstill reopens the lot (scores kept) and the tender evaluation.
    assert (
        client.post(
            f"/api/v1/awards/{award_id}/revoke", json={"reason": ""}, headers=h["officer"]
        ).status_code
        == 422
    )
    r = client.post(
        f"/api/v1/awards/{award_id}/revoke",
        json={"reason": "Error in scoring"},
        headers=h["officer"],
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert (
        client.get(f"/api/v1/tenders/{tender.id}", headers=h["officer"]).json()["status"]
        == "closed"
    )
    rows = client.get(f"{base}/evaluation", headers=h["officer"]).json()
    assert [r["quality_score"] for r in rows] == ["61.00", "90.00", "95.50"]
    r = client.post(f"{base}/award", json={"bid_id": bids["c"].public_id}, headers=h["officer"])
    assert r.status_code == 200
    second = r.json()["award_id"]
    # After the standstill end date, revoking is refused and nothing changes.
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    r = client.post(
        f"/api/v1/awards/{second}/revoke", json={"reason": "Too late"}, headers=h["officer"]
    )
    assert r.status_code == 409
    session.expire_all()
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "award.revoked"))
        .all()[-1]
        .details["reason"]
        == "Error in scoring"
    )
    award = session.get(Award, second)
    assert (
        award is not None
        and award.status == "standstill"
        and award.standstill_ends == date(2027, 1, 4)
    )
    assert session.get(Lot, lot.id).status == "awarded"  # type: ignore[union-attr]


def test_unsuccessful_needs_no_bids(client, session, closed) -> None:  # type: ignore[no-untyped-def]
    people, h, tender, lot, empty, bids = closed
    url = f"/api/v1/tenders/{tender.id}/lots/{lot.id}/unsuccessful"
    assert (
        client.post(url, json={"reason": "x"}, headers=h["officer"]).status_code == 409
    )  # before close
    clock.set(AFTER_CLOSE)
    assert (
        client.post(url, json={"reason": "x"}, headers=h["officer"]).status_code == 409
    )  # has bids


def test_two_officers_award_at_once_exactly_one_wins(app, session, closed) -> None:  # type: ignore[no-untyped-def]
    people, h, tender, lot, empty, bids = closed
    clock.set(AFTER_CLOSE)
    for b, score in (("a", "90"), ("b", "50"), ("c", "61")):
        bids[b].quality_score = Decimal(score)
        session.add(bids[b])
    session.commit()
    barrier = threading.Barrier(2)
    results: list[int] = []
    url = f"/api/v1/tenders/{tender.id}/lots/{lot.id}/award"

    def award(who: str, bid_key: str) -> None:
        headers = h[who]
        with TestClient(app) as own_client:  # its own connection and session
            barrier.wait(timeout=10)
            response = own_client.post(url, json={"bid_id": bids[bid_key].public_id}, headers=headers)
            results.append(response.status_code)

    threads = [
        threading.Thread(target=award, args=("officer", "c")),
        threading.Thread(target=award, args=("officer2", "c")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [200, 409]
    session.expire_all()
    assert len(session.exec(select(Award).where(Award.lot_id == lot.id)).all()) == 1
    assert as_utc(session.get(Tender, tender.id).submission_deadline) < clock.now()  # type: ignore[union-attr, arg-type]
