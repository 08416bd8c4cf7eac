"""``LAP_STANDSTILL_WORKING_DAYS=0`` means no standstill: call-offs at once after award,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lap_market.clock import clock
from lap_market.tenders.models import Notification
from lap_market.tenders.workdays import standstill_over, standstill_over_at
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.ocds.validation import assert_valid
from tests.tenders.test_pages import _as
from tests.tenders.test_tender_api import FreshTokens

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_standstill_of_zero_days_is_over_at_the_award() -> None:
    awarded = datetime(2027, 6, 7, 23, 30, tzinfo=UTC)  # 00:30 BST on Tuesday 8 June
    assert standstill_over_at(date(2027, 6, 8), awarded_at=awarded) == awarded
    assert standstill_over(date(2027, 6, 8), awarded, awarded_at=awarded)
    # A one-day standstill still runs to midnight in London after its last day.
    assert standstill_over_at(date(2027, 6, 9), awarded_at=awarded) == datetime(
        2027, 6, 9, 23, 0, tzinfo=UTC)
    assert not standstill_over(date(2027, 6, 9), awarded, awarded_at=awarded)


def test_call_offs_at_once_when_there_is_no_standstill(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(START)
    app.state.settings.standstill_working_days = 0
    people = {"officer": acc.officer(session), "p1": acc.provider(session)}
    tender = tf.published_tender(session, people["officer"],
                                 clarification_deadline=START + timedelta(days=1),
                                 submission_deadline=START + timedelta(days=2))
    lot = tf.lots_of(session, tender)[0]
    bid = tf.bid(session, people["p1"], lot, quality_score="70")
    tf.declaration(session, people["officer"], tender)  # issue 17: declared before award
    session.commit()
    h = FreshTokens(app, people)
    clock.set(START + timedelta(days=2, hours=1))  # Thursday 3 December, bidding closed

    _as(client, h, "officer")
    assert "There is no standstill period" in client.get(f"/tenders/{tender.id}").text
    base = f"/api/v1/tenders/{tender.id}/lots/{lot.id}"
    awarded = client.post(f"{base}/award", json={"bid_id": bid.public_id}, headers=h["officer"])
    assert awarded.status_code == 200, awarded.text
    assert awarded.json()["standstill_ends"] == "2026-12-03"
    told = session.exec(select(Notification.message).where(Notification.kind == "award")).all()
    assert told and all("There is no standstill period." in m for m in told), told

    # No standstill: nothing to revoke within, and the call-offs can go out this minute.
    revoke = client.post(f"/api/v1/awards/{awarded.json()['award_id']}/revoke",
                         json={"reason": "Changed our mind"}, headers=h["officer"])
    assert revoke.status_code == 409 and "standstill" in revoke.json()["detail"]
    issued = client.post(f"{base}/call-offs", headers=h["officer"])
    assert issued.status_code == 201, issued.text
    assert issued.json()["issued"] >= 1 and issued.json()["lot_status"] == "contracted"

    # Open data: the award is active from its own release; no standstill update follows.
    package = client.get(f"/api/v1/ocds/release-packages/{tender.id}").json()
    assert_valid(package)
    awards = [r for r in package["releases"] if "award" in r["tag"]]
    assert [a["awards"][0]["status"] for a in awards] == ["active"]
    assert not [r for r in package["releases"] if "awardUpdate" in r["tag"]]


def test_one_working_day_still_blocks_call_offs_until_it_ends(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(START)
    app.state.settings.standstill_working_days = 1
    people = {"officer": acc.officer(session), "p1": acc.provider(session)}
    tender = tf.published_tender(session, people["officer"],
                                 clarification_deadline=START + timedelta(days=1),
                                 submission_deadline=START + timedelta(days=2))
    lot = tf.lots_of(session, tender)[0]
    bid = tf.bid(session, people["p1"], lot, quality_score="70")
    tf.declaration(session, people["officer"], tender)  # issue 17: declared before award
    session.commit()
    h = FreshTokens(app, people)
    clock.set(START + timedelta(days=2, hours=1))
    base = f"/api/v1/tenders/{tender.id}/lots/{lot.id}"
    awarded = client.post(f"{base}/award", json={"bid_id": bid.public_id}, headers=h["officer"])
    assert awarded.json()["standstill_ends"] == "2026-12-04"  # Friday
    assert client.post(f"{base}/call-offs", headers=h["officer"]).status_code == 409
    clock.set(datetime(2026, 12, 4, 23, 59, tzinfo=UTC))
    assert client.post(f"{base}/call-offs", headers=h["officer"]).status_code == 409
    clock.set(datetime(2026, 12, 5, 0, 0, tzinfo=UTC))  # midnight GMT after the last day
    assert client.post(f"{base}/call-offs", headers=h["officer"]).status_code == 201
