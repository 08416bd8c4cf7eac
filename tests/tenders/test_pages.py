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
