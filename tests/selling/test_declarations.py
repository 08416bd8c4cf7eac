"""Conflict-of-interest declarations gate scoring and award (Procurement Act 2023 s.81–83),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from tests.factories import accounts as acc
from tests.factories import tenders as tf

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def test_declarations_gate_scoring_and_award(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(NOW)
    a, b, c = acc.officer(session), acc.officer(session), acc.officer(session)
    p1 = acc.provider(session, acc.contractor(session, "Vault One Ltd"))
    p2 = acc.provider(session, acc.contractor(session, "Vault Two Ltd"))
    camden = acc.manager(session, "E09000007")
    tender = tf.published_tender(session, a, submission_deadline=NOW + timedelta(days=14))
    lot = tf.lots_of(session, tender)[0]
    bid1 = tf.bid(session, p1, lot, unit_price="9.00")
    bid2 = tf.bid(session, p2, lot, unit_price="10.00")
    session.commit()
    base = f"/api/v1/tenders/{tender.id}"
    declare = f"{base}/declarations"
    none = {"conflict": False}
    # Declarations open only after the deadline, when the bidders can be named.
    early = client.post(declare, json=none, headers=acc.bearer(app, a))
    assert early.status_code == 409 and "deadline" in early.json()["detail"]
    clock.set(NOW + timedelta(days=15))
    h = {name: acc.bearer(app, who) for name, who in (("a", a), ("b", b), ("c", c),
                                                      ("camden", camden), ("p1", p1))}

    def score(who: str, bid_id: str, value: str = "70") -> object:
        return client.post(f"/api/v1/bids/{bid_id}/score", json={"quality_score": value},
                           headers=h[who])

    # Scoring is blocked before a declaration, allowed after "no conflict".
    blocked = score("a", bid1.public_id)
    assert blocked.status_code == 409 and "Declare" in blocked.json()["detail"]  # type: ignore[attr-defined]
    assert client.post(declare, json=none, headers=h["camden"]).status_code == 403
    made = client.post(declare, json=none, headers=h["a"])
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["conflict"] is False and body["clear"] is True
    assert [x["name"] for x in body["bidders"]] == ["Vault One Ltd", "Vault Two Ltd"]
    assert client.post(declare, json=none, headers=h["a"]).status_code == 409  # once only
    assert score("a", bid1.public_id).status_code == 200  # type: ignore[attr-defined]

    # A conflict needs details and the bidders it concerns, among this tender's bidders.
    vague = client.post(declare, json={"conflict": True}, headers=h["b"])
    assert vague.status_code == 422 and vague.json()["field"] == "details"
    stranger = client.post(declare, json={"conflict": True, "details": "x",
                                          "bidder_ids": [camden.organisation_id]}, headers=h["b"])
    assert stranger.status_code == 422 and stranger.json()["field"] == "bidder_ids"
    conflict = client.post(declare, json={
        "conflict": True, "details": "My sister directs Vault One Ltd.",
        "bidder_ids": [p1.organisation_id]}, headers=h["b"])
    assert conflict.status_code == 201, conflict.text
    declared = conflict.json()
    assert declared["clear"] is False
    assert {x["name"]: x["conflict"] for x in declared["bidders"]} == {
        "Vault One Ltd": True, "Vault Two Ltd": False}
    # The conflicted officer is blocked until another officer mitigates; not by themself.
    blocked = score("b", bid2.public_id)
    assert blocked.status_code == 409 and "mitigated" in blocked.json()["detail"]  # type: ignore[attr-defined]
    mitigation = f"/api/v1/declarations/{declared['id']}/mitigation"
    measure = {"measure": "Officer A moderates every score B gives to Vault One.",
               "reason": "A second independent scorer removes the risk of bias."}
    assert client.post(mitigation, json=measure, headers=h["b"]).status_code == 403
    assert client.post(mitigation, json=measure, headers=h["camden"]).status_code == 404
    empty = client.post(mitigation, json={"measure": "", "reason": "x"}, headers=h["a"])
    assert empty.status_code == 422
    done = client.post(mitigation, json=measure, headers=h["a"])
    assert done.status_code == 200, done.text
    assert done.json()["mitigated"] is True and done.json()["clear"] is True
    assert done.json()["mitigated_by_name"] == a.name
    assert client.post(mitigation, json=measure, headers=h["c"]).status_code == 409
    assert score("b", bid2.public_id, "60").status_code == 200  # type: ignore[attr-defined]

    # The award waits for every scorer and the awarding officer to have declared.
    award = f"{base}/lots/{lot.id}/award"
    refused = client.post(award, json={"bid_id": bid1.public_id}, headers=h["c"])
    assert refused.status_code == 409 and c.name in refused.json()["detail"]
    # A score recorded by an officer who never declared (written directly) blocks it too.
    d = acc.officer(session)
    stored = session.get(type(bid1), bid1.id)
    assert stored is not None
    stored.scored_by_id = d.id
    session.add(stored)
    session.commit()
    refused = client.post(award, json={"bid_id": bid1.public_id}, headers=h["a"])
    assert refused.status_code == 409 and d.name in refused.json()["detail"]
    tf.declaration(session, d, tender)
    session.commit()
    awarded = client.post(award, json={"bid_id": bid1.public_id}, headers=h["a"])
    assert awarded.status_code == 200, awarded.text

    # The declarations are part of the tender's record and of the audit trail.
    record = client.get(base, headers=h["a"]).json()
    assert [(x["officer_name"], x["conflict"]) for x in record["declarations"]] == [
        (a.name, False), (b.name, True), (d.name, False)]
    assert client.get(declare, headers=h["p1"]).status_code == 403
    assert "declarations" not in client.get(base, headers=h["camden"]).json() or \
        client.get(base, headers=h["camden"]).json()["declarations"] == []
    session.expire_all()
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("declaration.made") == 2 and actions.count("declaration.mitigated") == 1
    page = client.get(f"/tenders/{tender.id}", headers={"Accept": "text/html"},
                      cookies={"lap_session": h["a"]["Authorization"].removeprefix("Bearer ")})
    assert page.status_code == 200 and "My sister directs Vault One Ltd." in page.text


def test_a_conflicted_officer_cannot_award_until_mitigated(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(NOW)
    a, b = acc.officer(session), acc.officer(session)
    p1 = acc.provider(session)
    tender = tf.published_tender(session, a, submission_deadline=NOW + timedelta(days=14))
    lot = tf.lots_of(session, tender)[0]
    bid = tf.bid(session, p1, lot, quality_score="70")
    session.commit()
    clock.set(NOW + timedelta(days=15))
    hb = acc.bearer(app, b)
    made = client.post(f"/api/v1/tenders/{tender.id}/declarations", headers=hb, json={
        "conflict": True, "details": "I used to work there.", "bidder_ids": [p1.organisation_id]})
    assert made.status_code == 201
    award = f"/api/v1/tenders/{tender.id}/lots/{lot.id}/award"
    refused = client.post(award, json={"bid_id": bid.public_id}, headers=hb)
    assert refused.status_code == 409 and b.name in refused.json()["detail"]
    assert "not yet mitigated" in refused.json()["detail"]
    client.post(f"/api/v1/declarations/{made.json()['id']}/mitigation", headers=acc.bearer(app, a),
                json={"measure": "A reviews the award.", "reason": "Independent check."})
    assert client.post(award, json={"bid_id": bid.public_id}, headers=hb).status_code == 200


def test_two_officers_mitigating_at_once_record_one_mitigation(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    import threading

    clock.set(NOW)
    conflicted, a, b = acc.officer(session), acc.officer(session), acc.officer(session)
    p1 = acc.provider(session)
    tender = tf.published_tender(session, a, submission_deadline=NOW + timedelta(days=14))
    tf.bid(session, p1, tf.lots_of(session, tender)[0])
    declaration = tf.declaration(session, conflicted, tender, conflict=True, details="Family",
                                 bidder_ids=[p1.organisation_id])
    session.commit()
    clock.set(NOW + timedelta(days=15))
    url = f"/api/v1/declarations/{declaration.id}/mitigation"
    headers = {"a": acc.bearer(app, a), "b": acc.bearer(app, b)}
    barrier = threading.Barrier(2)
    results: list[int] = []

    def mitigate(who: str) -> None:
        with TestClient(app) as own_client:  # its own connection and session
            barrier.wait(timeout=10)
            response = own_client.post(url, headers=headers[who], json={
                "measure": f"{who} reviews every score", "reason": "Independent review."})
            results.append(response.status_code)

    threads = [threading.Thread(target=mitigate, args=(who,)) for who in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [200, 409], results
    session.expire_all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "declaration.mitigated")).all()
    assert len(events) == 1
