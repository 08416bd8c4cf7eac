"""Before the deadline, nothing about a sealed bid is reachable by anyone but its bidder:
every API response, page, audit entry, notification and OCDS package is searched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import Organisation
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.tenders.models import Notification
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

PRICE = "987.65"
MARKER = "SEALED-STATEMENT-7Q2X"


def test_nothing_sealed_leaks_before_the_deadline(client, session, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    people = {
        "officer": acc.officer(session),
        "admin": acc.admin(session),
        "bidder": acc.provider(session),
        "rival": acc.provider(session),
        "camden": acc.manager(session, "E09000007"),
    }
    tender = tf.published_tender(session, people["officer"])
    lot = tf.lots_of(session, tender)[0]
    session.commit()
    h = FreshTokens(app, people)
    base = f"/api/v1/tenders/{tender.id}"
    r = client.put(
        f"{base}/lots/{lot.id}/bid",
        json={"unit_price": "999.99", "quality_statement": "draft"},
        headers=h["bidder"],
    )
    assert r.status_code == 201
    r = client.put(
        f"{base}/lots/{lot.id}/bid",
        json={"unit_price": PRICE, "quality_statement": MARKER},
        headers=h["bidder"],
    )
    assert r.status_code == 200
    assert (
        client.put(
            f"{base}/lots/{lot.id}/bid",
            json={"unit_price": "5.00", "quality_statement": "rival"},
            headers=h["rival"],
        ).status_code
        == 201
    )
    q = client.post(f"{base}/questions", json={"question": "Racking?"}, headers=h["bidder"]).json()
    client.post(
        f"{base}/questions/{q['id']}/answer", json={"answer": "Mobile."}, headers=h["officer"]
    )
    assert tender.submission_deadline is not None
    deadline = as_utc(tender.submission_deadline)
    client.post(
        f"{base}/amendments",
        json={
            "reason": "More time",
            "submission_deadline": (deadline + timedelta(days=2)).isoformat(),
        },
        headers=h["officer"],
    )
    bidder_name = session.get(Organisation, people["bidder"].organisation_id).name  # type: ignore[union-attr]

    seen: list[tuple[str, str]] = []
    api_paths = [
        "/api/v1/tenders",
        base,
        f"{base}/bids",
        f"{base}/questions",
        "/api/v1/notifications",
        f"{base}/lots/{lot.id}/evaluation",
        "/api/v1/audit?page_size=500",
        f"/api/v1/tenders/{tender.id}/lots/{lot.id}/evaluation",
    ]
    page_paths = [
        "/dashboard",
        "/tenders",
        f"/tenders/{tender.id}",
        "/opportunities",
        f"/opportunities/{tender.id}",
        "/notifications",
        "/audit",
    ]
    for who in ("officer", "admin", "rival", "camden"):
        for path in api_paths:
            seen.append((f"{who} {path}", client.get(path, headers=h[who]).text))
        token = h[who]["Authorization"].removeprefix("Bearer ")
        client.cookies.set(SESSION_COOKIE, token)
        for path in page_paths:
            response = client.get(path)
            seen.append((f"{who} page {path}", response.text))
            if who == "officer" and path == f"/tenders/{tender.id}":
                assert response.status_code == 200 and tender.reference in response.text
        client.cookies.clear()
        seen.append(
            (
                f"{who} csv",
                client.get(
                    f"{base}/lots/{lot.id}/evaluation", headers={**h[who], "Accept": "text/csv"}
                ).text,
            )
        )
    for path in (
        f"/api/v1/ocds/release-packages/{tender.id}",
        "/api/v1/ocds/release-packages?since=2020-01-01T00:00:00Z",
    ):
        seen.append((f"anonymous {path}", client.get(path).text))
    session.expire_all()
    for event in session.exec(select(AuditEvent)).all():
        seen.append(
            (f"audit {event.action}", f"{event.details} {event.actor_id} {event.organisation_id}")
        )
        if event.action.startswith("bid."):
            assert event.actor_id is None and event.organisation_id is None
            assert str(people["bidder"].organisation_id) not in str(event.details.values())
    for note in session.exec(select(Notification)).all():
        seen.append((f"notification {note.id}", note.message))

    assert len(seen) > 50
    for where, text in seen:
        assert PRICE not in text, where
        assert MARKER not in text, where
        if "audit" not in where or "bid." in where:
            assert "999.99" not in text, where
    # The bidder's name appears only where the officer may know it: the question's asker.
    officer_bids = client.get(f"{base}/bids", headers=h["officer"]).json()
    assert officer_bids["bids"] == [] and bidder_name not in str(officer_bids)
    # The bidder itself does see its own bid, so the search above could have found it.
    assert MARKER in client.get(f"{base}/bids", headers=h["bidder"]).text
