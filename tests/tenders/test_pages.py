"""Tender pages without a browser: who gets which page, HTMX fragments, form errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.clock import clock
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens


def _as(client, tokens, who: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, tokens[who]["Authorization"].removeprefix("Bearer "))


def test_pages_by_role_fragments_and_errors(client, session, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    people = {
        "officer": acc.officer(session),
        "p1": acc.provider(session),
        "barnet": acc.manager(session, "E09000003"),
    }
    draft = tf.draft_tender(session, people["officer"], title="Draft only")
    mine = tf.published_tender(session, people["officer"], title="Camden storage")
    session.commit()
    h = FreshTokens(app, people)

    _as(client, h, "officer")
    page = client.get("/tenders")
    assert page.status_code == 200 and "Draft only" in page.text and "Camden storage" in page.text
    fragment = client.get("/tenders?status=draft", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Draft only" in fragment.text
    assert "Camden storage" not in fragment.text
    workspace = client.get(f"/tenders/{draft.id}")
    assert "Publish tender" in workspace.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', workspace.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/tenders/{draft.id}/edit",
        data={
            "csrf_token": token,
            "title": "Draft only",
            "price_weight": "50",
            "quality_weight": "40",
        },
    )
    assert r.status_code == 422 and "add up to 100" in r.text and 'href="#f-price_weight"' in r.text
    r = client.post(f"/tenders/{draft.id}/publish", data={"csrf_token": token})
    assert r.status_code == 422 and "deadline" in r.text

    # Boroughs see only published tenders holding their demand; Barnet has none here.
    _as(client, h, "barnet")
    assert "Camden storage" not in client.get("/tenders").text
    assert client.get(f"/tenders/{mine.id}").status_code == 404
    assert client.get(f"/tenders/{draft.id}").status_code == 404

    # Providers get opportunities with a countdown; drafts stay hidden.
    _as(client, h, "p1")
    assert client.get("/tenders", follow_redirects=False).headers["location"] == "/opportunities"
    opp = client.get("/opportunities")
    assert (
        "Camden storage" in opp.text
        and "Draft only" not in opp.text
        and "data-countdown" in opp.text
    )
    assert client.get(f"/opportunities/{draft.id}").status_code == 404
    detail = client.get(f"/opportunities/{mine.id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', detail.text).group(1)  # type: ignore[union-attr]
    lot = tf.lots_of(session, mine)[0]
    r = client.post(
        f"/opportunities/{mine.id}/lots/{lot.id}/bid",
        data={
            "csrf_token": token,
            f"bid_{lot.id}_unit_price": "-3",
            f"bid_{lot.id}_quality_statement": "x",
        },
    )
    assert r.status_code == 422 and "more than zero" in r.text
    r = client.post(
        f"/opportunities/{mine.id}/lots/{lot.id}/bid",
        data={
            "csrf_token": token,
            f"bid_{lot.id}_unit_price": "7.25",
            f"bid_{lot.id}_quality_statement": "x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "£7.25" in client.get(f"/opportunities/{mine.id}").text
    clock.advance(timedelta(days=20))
    _as(client, h, "p1")
    assert "Submit bid" not in client.get(f"/opportunities/{mine.id}").text
    assert "Opportunities" in client.get("/dashboard").text


def test_standstill_length_comes_from_the_setting(client, session, app) -> None:  # type: ignore[no-untyped-def]
    """LAP_STANDSTILL_WORKING_DAYS drives the workspace's preview and the award itself."""
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock.set(start)
    app.state.settings.standstill_working_days = 3
    people = {"officer": acc.officer(session), "p1": acc.provider(session)}
    tender = tf.published_tender(
        session,
        people["officer"],
        clarification_deadline=start + timedelta(days=1),
        submission_deadline=start + timedelta(days=2),
    )
    lot = tf.lots_of(session, tender)[0]
    bid = tf.bid(session, people["p1"], lot, quality_score="70")
    tf.declaration(session, people["officer"], tender)  # issue 17: declared before award
    session.commit()
    h = FreshTokens(app, people)
    # Friday 18 December 2026, 23:30 UTC: still Friday in London.
    clock.set(datetime(2026, 12, 18, 23, 30, tzinfo=UTC))
    _as(client, h, "officer")
    page = client.get(f"/tenders/{tender.id}").text
    assert "(3 working days, weekends and England and Wales bank holidays excluded)" in page
    assert "8 working days" not in page
    # Three working days after Friday 18 December 2026: Monday 21, Tuesday 22, Wednesday 23.
    assert "23 Dec 2026" in page or "23 December 2026" in page
    r = client.post(
        f"/api/v1/tenders/{tender.id}/lots/{lot.id}/award",
        json={"bid_id": bid.public_id},
        headers=h["officer"],
    )
    assert r.status_code == 200 and r.json()["standstill_ends"] == "2026-12-23"


def test_standstill_counts_from_the_day_in_london(client, session, app) -> None:  # type: ignore[no-untyped-def]
    """An award at 00:30 London summer time is that day's, not the previous UTC day's."""
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    clock.set(start)
    people = {"officer": acc.officer(session), "p1": acc.provider(session)}
    tender = tf.published_tender(
        session,
        people["officer"],
        clarification_deadline=start + timedelta(days=1),
        submission_deadline=start + timedelta(days=2),
    )
    lot = tf.lots_of(session, tender)[0]
    bid = tf.bid(session, people["p1"], lot, quality_score="70")
    tf.declaration(session, people["officer"], tender)  # issue 17: declared before award
    session.commit()
    h = FreshTokens(app, people)
    # Monday 7 June 2027 23:30 UTC is Tuesday 8 June 00:30 in London.
    clock.set(datetime(2027, 6, 7, 23, 30, tzinfo=UTC))
    r = client.post(
        f"/api/v1/tenders/{tender.id}/lots/{lot.id}/award",
        json={"bid_id": bid.public_id},
        headers=h["officer"],
    )
    # Eight working days after Tuesday 8 June: Friday 18 June (counting from the UTC day,
    # Monday 7 June, would end it a day early, on Thursday 17 June).
    assert r.status_code == 200 and r.json()["standstill_ends"] == "2027-06-18"
