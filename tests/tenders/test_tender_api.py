"""Tendering through the JSON API, on SQLite and PostgreSQL, with time moved by the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from lap_market.accounts.models import Organisation
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.demand.models import Demand
from lap_market.tenders.models import Amendment, Bid, Notification, Tender
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.statements import on_statements

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


class FreshTokens:
    """Bearer headers by person, minted at the clock's current time (tests move the clock
    by days, past a token's lifetime)."""

    def __init__(self, app, people) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.people = people

    def __getitem__(self, who: str) -> dict[str, str]:
        return acc.bearer(self.app, self.people[who])


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def world(session, client, app):  # type: ignore[no-untyped-def]
    """An officer, two providers, a Camden and a Barnet manager; time frozen at START."""
    clock.set(START)
    people = {
        "officer": acc.officer(session),
        "p1": acc.provider(session),
        "p2": acc.provider(session),
        "camden": acc.manager(session, "E09000007"),
        "barnet": acc.manager(session, "E09000003"),
    }
    session.commit()
    return people, FreshTokens(app, people)


def test_edit_and_publish_a_draft(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    draft = tf.draft_tender(
        session,
        people["officer"],
        lots=[{**tf.DEFAULT_LOTS[0], "estimated_value": Decimal("180000.00")}],
    )
    session.commit()
    url = f"/api/v1/tenders/{draft.id}"
    clar, sub = START + timedelta(days=10), START + timedelta(days=20)

    bad = [
        ({"price_weight": 70, "quality_weight": 40}, "price_weight"),
        ({"clarification_deadline": iso(START - timedelta(days=1))}, "clarification_deadline"),
        ({"submission_deadline": iso(START - timedelta(minutes=1))}, "submission_deadline"),
        (
            {"clarification_deadline": iso(sub), "submission_deadline": iso(clar)},
            "clarification_deadline",
        ),
        ({"title": ""}, "title"),
    ]
    for body, field in bad:
        r = client.patch(url, json=body, headers=h["officer"])
        assert r.status_code == 422, (body, r.text)
        assert field in r.text
    # A provider may not see a draft, so it is not found on any verb (issue 9: was 403).
    assert client.patch(url, json={"title": "x"}, headers=h["p1"]).status_code == 404
    # Nothing was written by any of those: the draft is as it was and nothing was audited.
    session.expire_all()
    unchanged = session.get(Tender, draft.id)
    assert unchanged is not None
    assert (unchanged.title, unchanged.price_weight, unchanged.quality_weight) == (
        "Joint archive storage 2027",
        60,
        40,
    )
    assert unchanged.clarification_deadline is None and unchanged.submission_deadline is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "tender.updated")).all() == []
    # Publishing without deadlines names the missing field; nothing changed so far.
    r = client.post(f"{url}/publish", headers=h["officer"])
    assert r.status_code == 422 and r.json()["field"] == "clarification_deadline"

    r = client.patch(
        url,
        json={
            "title": "Joint storage",
            "description": "Two boroughs",
            "price_weight": 70,
            "quality_weight": 30,
            "clarification_deadline": iso(clar),
            "submission_deadline": iso(sub),
        },
        headers=h["officer"],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["price_weight"], body["quality_weight"]) == (
        "Joint storage",
        70,
        30,
    )
    # 180,000 + 20% VAT = 216,000 >= the 207,720 threshold: a public notice is needed.
    assert body["estimated_value_incl_vat"] == "216000.00" and body["above_threshold"] is True

    # Drafts are for officers only.
    assert client.get(url, headers=h["p1"]).status_code == 404
    assert client.get(url, headers=h["camden"]).status_code == 404
    r = client.post(f"{url}/publish", headers=h["officer"])
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert client.post(f"{url}/publish", headers=h["officer"]).status_code == 409
    assert client.patch(url, json={"title": "late"}, headers=h["officer"]).status_code == 409
    assert client.get(url, headers=h["p1"]).json()["status"] == "published"
    session.expire_all()
    kinds = {n.kind for n in session.exec(select(Notification)).all()}
    assert {"opportunity", "tender_published"} <= kinds


def test_publishing_needs_a_lot(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    draft = tf.draft_tender(session, people["officer"], lots=[])
    draft.clarification_deadline = START + timedelta(days=1)
    draft.submission_deadline = START + timedelta(days=2)
    session.commit()
    r = client.post(f"/api/v1/tenders/{draft.id}/publish", headers=h["officer"])
    assert r.status_code == 422 and r.json()["field"] == "lots"
    session.expire_all()
    assert session.get(Tender, draft.id).status == "draft"  # type: ignore[union-attr]


def test_who_sees_which_tenders(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    draft = tf.draft_tender(session, people["officer"])
    camden_hackney = tf.published_tender(session, people["officer"])
    barnet = tf.published_tender(
        session,
        people["officer"],
        lots=[
            {
                "category": "training",
                "unit": "delegate_place",
                "demands": [("E09000003", Decimal("12"), *tf.DEFAULT_TERM)],
            }
        ],
    )
    session.commit()

    def ids(who: str) -> set[int]:
        r = client.get("/api/v1/tenders", headers=h[who])
        assert r.status_code == 200
        assert r.json()["total"] == len(r.json()["items"])
        return {t["id"] for t in r.json()["items"]}

    assert ids("officer") == {draft.id, camden_hackney.id, barnet.id}
    assert ids("p1") == {camden_hackney.id, barnet.id}
    assert ids("camden") == {camden_hackney.id}
    assert ids("barnet") == {barnet.id}
    assert client.get(f"/api/v1/tenders/{barnet.id}", headers=h["camden"]).status_code == 404
    detail = client.get(f"/api/v1/tenders/{camden_hackney.id}", headers=h["camden"]).json()
    assert detail["lots"][0]["boroughs"] == ["Camden", "Hackney"]
    assert detail["lots"][0]["bid_count"] is None
    # A borough never sees any bid, even after close.
    clock.advance(timedelta(days=15))
    assert (
        client.get(f"/api/v1/tenders/{camden_hackney.id}/bids", headers=h["camden"]).status_code
        == 403
    )
    closed = client.get("/api/v1/tenders?status=closed", headers=h["officer"]).json()
    assert {t["id"] for t in closed["items"]} == {camden_hackney.id, barnet.id}
    assert closed["total"] == 2


def test_amendments_are_numbered_shown_and_notified(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    tender = tf.published_tender(session, people["officer"])
    lot = tf.lots_of(session, tender)[0]
    tf.bid(session, people["p1"], lot)
    session.commit()
    url = f"/api/v1/tenders/{tender.id}"
    assert (
        client.post(
            f"{url}/questions", json={"question": "Is racking included?"}, headers=h["p2"]
        ).status_code
        == 201
    )
    assert tender.submission_deadline is not None
    old_sub = as_utc(tender.submission_deadline)
    new_sub = old_sub + timedelta(days=7)
    r = client.post(
        f"{url}/amendments",
        json={"reason": "More time", "submission_deadline": iso(new_sub)},
        headers=h["officer"],
    )
    assert r.status_code == 201 and r.json()["number"] == 1
    r = client.post(
        f"{url}/amendments",
        json={"reason": "Clearer", "description": "New words"},
        headers=h["officer"],
    )
    assert r.json()["number"] == 2
    # Bad amendments: nothing to change, deadline brought forward, no reason, not an officer.
    for body, status in [
        ({"reason": "Nothing"}, 422),
        ({"reason": "Sooner", "submission_deadline": iso(old_sub)}, 422),
        ({"reason": "", "description": "x"}, 422),
    ]:
        assert (
            client.post(f"{url}/amendments", json=body, headers=h["officer"]).status_code == status
        )
    assert (
        client.post(
            f"{url}/amendments", json={"reason": "x", "description": "y"}, headers=h["p1"]
        ).status_code
        == 403
    )

    seen = client.get(url, headers=h["p2"]).json()
    assert [a["number"] for a in seen["amendments"]] == [1, 2]
    assert seen["description"] == "New words"
    assert datetime.fromisoformat(seen["submission_deadline"]) == new_sub
    for who in ("p1", "p2"):
        messages = [
            n["message"] for n in client.get("/api/v1/notifications", headers=h[who]).json()
        ]
        assert any("Amendment 1" in m for m in messages) and any(
            "Amendment 2" in m for m in messages
        )
    # The original deadline has passed but the extended one has not: still open for bids.
    clock.set(old_sub + timedelta(hours=1))
    r = client.put(
        f"{url}/lots/{lot.id}/bid",
        json={"unit_price": "9.00", "quality_statement": "ok"},
        headers=h["p2"],
    )
    assert r.status_code == 201
    clock.set(new_sub + timedelta(seconds=1))
    r = client.post(
        f"{url}/amendments", json={"reason": "late", "description": "z"}, headers=h["officer"]
    )
    assert r.status_code == 409
    session.expire_all()
    assert len(session.exec(select(Amendment)).all()) == 2


def test_clarification_questions(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    tender = tf.published_tender(session, people["officer"])
    session.commit()
    url = f"/api/v1/tenders/{tender.id}/questions"
    r1 = client.post(url, json={"question": "Which racking?"}, headers=h["p1"])
    r2 = client.post(url, json={"question": "Pest control?"}, headers=h["p2"])
    assert r1.status_code == r2.status_code == 201
    assert client.post(url, json={"question": "Me too"}, headers=h["camden"]).status_code == 403
    assert client.post(url, json={"question": ""}, headers=h["p1"]).status_code == 422
    q1 = r1.json()["id"]
    assert (
        client.post(f"{url}/{q1}/answer", json={"answer": "x"}, headers=h["p1"]).status_code == 403
    )
    r = client.post(f"{url}/{q1}/answer", json={"answer": "Mobile racking."}, headers=h["officer"])
    assert r.status_code == 200 and r.json()["answer"] == "Mobile racking."
    assert (
        client.post(
            f"{url}/{q1}/answer", json={"answer": "again"}, headers=h["officer"]
        ).status_code
        == 409
    )

    p2_view = client.get(url, headers=h["p2"]).json()
    assert [(q["question"], q["mine"], q["asked_by"]) for q in p2_view] == [
        ("Which racking?", False, None),
        ("Pest control?", True, None),
    ]
    p1_view = client.get(url, headers=h["p1"]).json()
    assert [q["question"] for q in p1_view] == ["Which racking?"]
    officer_view = client.get(url, headers=h["officer"]).json()
    assert len(officer_view) == 2 and all(q["asked_by"] for q in officer_view)
    # After the clarification deadline: 409 and nothing written.
    assert tender.clarification_deadline is not None
    clock.set(as_utc(tender.clarification_deadline) + timedelta(seconds=1))
    r = client.post(url, json={"question": "Too late?"}, headers=h["p1"])
    assert r.status_code == 409
    assert len(client.get(url, headers=h["officer"]).json()) == 2


def test_sealed_bids_until_the_deadline_then_closed(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    tender = tf.published_tender(
        session,
        people["officer"],
        lots=[
            tf.DEFAULT_LOTS[0],
            {
                "category": "conservation",
                "unit": "item",
                "demands": [("E09000007", Decimal("40"), *tf.DEFAULT_TERM)],
            },
        ],
    )
    other = tf.published_tender(session, people["officer"])
    session.commit()
    lot1, lot2 = tf.lots_of(session, tender)
    other_lot = tf.lots_of(session, other)[0]
    base = f"/api/v1/tenders/{tender.id}"
    good = {"unit_price": "12.34", "quality_statement": "Good"}

    assert (
        client.put(f"{base}/lots/{lot1.id}/bid", json=good, headers=h["camden"]).status_code == 403
    )
    assert (
        client.put(f"{base}/lots/{lot1.id}/bid", json=good, headers=h["officer"]).status_code == 403
    )
    assert (
        client.put(f"{base}/lots/{other_lot.id}/bid", json=good, headers=h["p1"]).status_code == 404
    )
    for price in ("0", "-1.00", "1.234", "abc"):
        r = client.put(
            f"{base}/lots/{lot1.id}/bid", json={**good, "unit_price": price}, headers=h["p1"]
        )
        assert r.status_code == 422 and "unit_price" in r.text, price
    r = client.put(
        f"{base}/lots/{lot1.id}/bid",
        json={**good, "quality_statement": "x" * 10_001},
        headers=h["p1"],
    )
    assert r.status_code == 422
    session.expire_all()
    assert session.exec(select(Bid)).all() == []

    r = client.put(f"{base}/lots/{lot1.id}/bid", json=good, headers=h["p1"])
    assert r.status_code == 201 and r.json()["unit_price"] == "12.34"
    r = client.put(
        f"{base}/lots/{lot1.id}/bid", json={**good, "unit_price": "11.00"}, headers=h["p1"]
    )
    assert r.status_code == 200 and r.json()["unit_price"] == "11.00"
    assert client.put(f"{base}/lots/{lot2.id}/bid", json=good, headers=h["p1"]).status_code == 201
    assert client.delete(f"{base}/lots/{lot2.id}/bid", headers=h["p1"]).status_code == 204
    assert client.delete(f"{base}/lots/{lot2.id}/bid", headers=h["p1"]).status_code == 404
    assert (
        client.put(
            f"{base}/lots/{lot1.id}/bid", json={**good, "unit_price": "13.00"}, headers=h["p2"]
        ).status_code
        == 201
    )

    mine = client.get(f"{base}/bids", headers=h["p1"]).json()
    assert [(b["lot_id"], b["unit_price"], b["status"]) for b in mine["bids"]] == [
        (lot1.id, "11.00", "active"),
        (lot2.id, "12.34", "withdrawn"),
    ]
    sealed = client.get(f"{base}/bids", headers=h["officer"]).json()
    assert sealed == {
        "sealed": True,
        "bids": [],
        "lots": [{"lot_id": lot1.id, "bid_count": 2}, {"lot_id": lot2.id, "bid_count": 0}],
    }
    detail = client.get(base, headers=h["officer"]).json()
    assert [lot["bid_count"] for lot in detail["lots"]] == [2, 0]

    # One second past the deadline the tender is closed with nobody doing anything.
    assert tender.submission_deadline is not None
    clock.set(as_utc(tender.submission_deadline) + timedelta(seconds=1))
    assert client.get(base, headers=h["p1"]).json()["status"] == "closed"
    assert client.put(f"{base}/lots/{lot1.id}/bid", json=good, headers=h["p1"]).status_code == 409
    assert client.delete(f"{base}/lots/{lot1.id}/bid", headers=h["p1"]).status_code == 409
    opened = client.get(f"{base}/bids", headers=h["officer"]).json()
    assert opened["sealed"] is False
    assert sorted(b["unit_price"] for b in opened["bids"] if b["status"] == "active") == [
        "11.00",
        "13.00",
    ]
    p2_org = session.get(Organisation, people["p2"].organisation_id)
    theirs = client.get(f"{base}/bids", headers=h["p2"]).json()["bids"]
    assert [(b["provider"], b["unit_price"]) for b in theirs] == [(p2_org.name, "13.00")]


def test_cancel_tender_and_lot_return_demand(client, session, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    tender = tf.published_tender(
        session,
        people["officer"],
        lots=[
            tf.DEFAULT_LOTS[0],
            {
                "category": "conservation",
                "unit": "item",
                "demands": [("E09000003", Decimal("40"), *tf.DEFAULT_TERM)],
            },
        ],
    )
    lot1, lot2 = tf.lots_of(session, tender)
    tf.bid(session, people["p1"], lot1)
    tf.bid(session, people["p2"], lot2)
    session.commit()
    base = f"/api/v1/tenders/{tender.id}"
    assert (
        client.post(
            f"{base}/lots/{lot2.id}/cancel", json={"reason": ""}, headers=h["officer"]
        ).status_code
        == 422
    )
    r = client.post(
        f"{base}/lots/{lot2.id}/cancel", json={"reason": "No longer needed"}, headers=h["officer"]
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    session.expire_all()
    barnet_demand = session.exec(
        select(Demand).where(Demand.borough_id == people["barnet"].organisation_id)
    ).one()
    assert (barnet_demand.status, barnet_demand.lot_id) == ("submitted", None)
    assert any(
        "cancelled" in n["message"]
        for n in client.get("/api/v1/notifications", headers=h["p2"]).json()
    )
    assert client.get("/api/v1/notifications", headers=h["p1"]).json() == []

    r = client.post(f"{base}/cancel", json={"reason": "Budget withdrawn"}, headers=h["officer"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (
        client.post(f"{base}/cancel", json={"reason": "again"}, headers=h["officer"]).status_code
        == 409
    )
    session.expire_all()
    assert {d.status for d in session.exec(select(Demand)).all()} == {"submitted"}
    assert any(
        "Budget withdrawn" in n["message"]
        for n in client.get("/api/v1/notifications", headers=h["p1"]).json()
    )
    # Notifications are the caller's own; reading one marks it read, others' are 404.
    note = client.get("/api/v1/notifications", headers=h["p1"]).json()[0]
    assert (
        client.post(f"/api/v1/notifications/{note['id']}/read", headers=h["p2"]).status_code == 404
    )
    r = client.post(f"/api/v1/notifications/{note['id']}/read", headers=h["p1"])
    assert r.status_code == 200 and r.json()["read_at"] is not None


def test_tender_list_takes_a_fixed_number_of_queries(client, session, app, world) -> None:  # type: ignore[no-untyped-def]
    people, h = world
    tender = tf.published_tender(session, people["officer"])
    tf.bid(session, people["p1"], tf.lots_of(session, tender)[0])
    session.commit()
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        with on_statements(app, count):
            r = client.get("/api/v1/tenders", headers=h["officer"])
        assert r.status_code == 200
        return len(statements)

    few = queries()
    for _ in range(4):
        more = tf.published_tender(session, people["officer"])
        tf.bid(session, people["p2"], tf.lots_of(session, more)[0])
    session.commit()
    many = queries()
    assert len(client.get("/api/v1/tenders", headers=h["officer"]).json()["items"]) == 5
    assert many == few, (few, many)
