"""The officer's and the provider's tender journeys through the pages (issue 13): one
save-and-publish path with every error at once, the minimum tender window, confirmation pages
before publish/award/revoke/cancel, one "Save scores" per lot, receipts after each action,
names people know in errors and feeds, and needs returned from an unsuccessful lot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.clock import as_utc, clock
from lap_market.demand.models import Demand
from lap_market.tenders.models import Award, Bid, Lot, Notification, Tender
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

WINTER = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, GMT


@pytest.fixture
def people(session, app):  # type: ignore[no-untyped-def]
    clock.set(WINTER)
    found = {
        "officer": acc.officer(session),
        "p1": acc.provider(session),
        "p2": acc.provider(session),
        "camden": acc.manager(session, "E09000007"),
    }
    session.commit()
    return found, FreshTokens(app, found)


def _as(client: Any, tokens: Any, who: str) -> str:
    """Sign ``who`` in by cookie and return a CSRF token from their dashboard."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, tokens[who]["Authorization"].removeprefix("Bearer "))
    page = client.get("/dashboard").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _flash(page: str) -> str:
    found = re.search(r'<div id="flash"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def _errors(page: str) -> list[str]:
    summary = re.search(r'class="lap-error-summary".*?</ul>', page, re.S)
    assert summary, "no error summary"
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)]


def test_publish_saves_the_form_shows_every_error_and_confirms(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    draft = tf.draft_tender(session, who["officer"], title="Storage pooled")
    session.commit()
    token = _as(client, h, "officer")
    workspace = client.get(f"/tenders/{draft.id}").text
    # A draft's lots are drafts, not "open".
    assert 'data-label="Status"><strong class="lap-tag lap-tag--draft">draft' in workspace
    assert 'class="lap-back-link">Back to tenders' in workspace

    # Everything wrong at once: no title, weights off, a 3-day window; nothing is saved.
    bad = client.post(f"/tenders/{draft.id}/edit", data={
        "csrf_token": token, "intent": "publish", "title": "  ", "description": "New words",
        "price_weight": "50", "quality_weight": "40",
        "clarification_deadline": "2026-11-03T12:00", "submission_deadline": "2026-11-05T12:00",
    })
    assert bad.status_code == 422
    problems = " | ".join(_errors(bad.text))
    assert "Title: Enter a title." in problems
    assert "add up to 100 (they add up to 90)" in problems
    assert "at least 10 days after publication" in problems and "12 Nov 2026, 09:00 GMT" in problems
    assert 'value="New words"' not in bad.text or "New words</textarea>" in bad.text  # carried back
    session.expire_all()
    stored = session.get(Tender, draft.id)
    assert stored.title == "Storage pooled" and stored.description != "New words"  # type: ignore[union-attr]

    # A good form is saved and leads to the confirmation page; still a draft.
    ok = client.post(f"/tenders/{draft.id}/edit", data={
        "csrf_token": token, "intent": "publish", "title": "Storage pooled 2027",
        "description": "New words", "price_weight": "60", "quality_weight": "40",
        "clarification_deadline": "2026-11-10T12:00", "submission_deadline": "2026-11-20T12:00",
    })
    assert ok.status_code == 200 and ok.url.path == f"/tenders/{draft.id}/publish"
    assert "were saved" in _flash(ok.text)
    assert "Yes, publish" in ok.text and "20 Nov 2026, 12:00 GMT" in ok.text
    assert "Every provider is told" in ok.text
    session.expire_all()
    assert session.get(Tender, draft.id).status == "draft"  # type: ignore[union-attr]

    done = client.post(f"/tenders/{draft.id}/publish", data={"csrf_token": token})
    assert done.status_code == 200 and done.url.path == f"/tenders/{draft.id}"
    receipt = _flash(done.text)
    assert "was published at 2 Nov 2026, 09:00 GMT" in receipt
    assert "bids are due by 20 Nov 2026, 12:00 GMT" in receipt
    session.expire_all()
    published = session.get(Tender, draft.id)
    assert published.status == "published" and published.description == "New words"  # type: ignore[union-attr]


def test_saving_details_refuses_an_empty_title(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    draft = tf.draft_tender(session, who["officer"], title="Keep me")
    session.commit()
    token = _as(client, h, "officer")
    r = client.post(f"/tenders/{draft.id}/edit", data={"csrf_token": token, "title": ""})
    assert r.status_code == 422 and "Enter a title." in r.text
    r = client.post(f"/tenders/{draft.id}/edit", data={"csrf_token": token, "title": "Renamed"})
    assert r.status_code == 200 and "were saved" in _flash(r.text)
    # London time typed in summer is read as BST and shown back as BST.
    r = client.post(f"/tenders/{draft.id}/edit", data={
        "csrf_token": token, "title": "Renamed", "clarification_deadline": "2027-06-01T10:00",
        "submission_deadline": "2027-06-15T10:00",
    })
    session.expire_all()
    stored = session.get(Tender, draft.id)
    assert as_utc(stored.submission_deadline).hour == 9  # type: ignore[union-attr, arg-type]
    assert "15 Jun 2027, 10:00 BST" in client.get(f"/tenders/{draft.id}").text


def test_minimum_tender_window_in_the_api(client, session, app, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    draft = tf.draft_tender(session, who["officer"])
    draft.clarification_deadline = WINTER + timedelta(days=2)
    draft.submission_deadline = WINTER + timedelta(days=9, hours=23)
    session.commit()
    r = client.post(f"/api/v1/tenders/{draft.id}/publish", headers=h["officer"])
    assert r.status_code == 422 and r.json()["field"] == "submission_deadline"
    assert "at least 10 days" in r.json()["detail"]
    app.state.settings.min_tender_days = 9
    r = client.post(f"/api/v1/tenders/{draft.id}/publish", headers=h["officer"])
    assert r.status_code == 200 and r.json()["status"] == "published"


def _closed_with_two_bids(session: Any, who: Any) -> tuple[Tender, Lot, Bid, Bid]:
    tender = tf.published_tender(session, who["officer"])
    lot = tf.lots_of(session, tender)[0]
    cheap = tf.bid(session, who["p1"], lot, unit_price="8.00", quality_statement="Cheap store.")
    good = tf.bid(session, who["p2"], lot, unit_price="10.00", quality_statement="Best store.")
    tf.declaration(session, who["officer"], tender)  # issue 17: declared before scoring/award
    session.commit()
    clock.set(WINTER + timedelta(days=15))
    return tender, lot, cheap, good


def test_one_save_scores_per_lot_all_or_none(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender, lot, cheap, good = _closed_with_two_bids(session, who)
    token = _as(client, h, "officer")
    page = client.get(f"/tenders/{tender.id}").text
    assert "Cheap store." in page and "Best store." in page  # statements beside the boxes
    assert page.count("Save scores") == 1
    bad = client.post(f"/tenders/{tender.id}/lots/{lot.id}/scores", data={
        "csrf_token": token, f"quality_{cheap.public_id}": "70",
        f"quality_{good.public_id}": "101",
    })
    assert bad.status_code == 422
    problems = _errors(bad.text)
    assert len(problems) == 1 and problems[0].startswith("Lot 1: The bid from ")
    assert "from 0 to 100" in problems[0] and "Bid " + str(good.id) not in bad.text
    session.expire_all()
    assert session.get(Bid, cheap.id).quality_score is None  # type: ignore[union-attr]  # none saved
    ok = client.post(f"/tenders/{tender.id}/lots/{lot.id}/scores", data={
        "csrf_token": token, f"quality_{cheap.public_id}": "50",
        f"quality_{good.public_id}": "100",
    })
    assert ok.status_code == 200 and "2 scores saved for Lot 1" in _flash(ok.text)
    session.expire_all()
    assert session.get(Bid, good.id).quality_score == Decimal("100")  # type: ignore[union-attr]


def test_award_confirmation_asks_a_reason_when_not_first(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender, lot, cheap, good = _closed_with_two_bids(session, who)
    cheap.quality_score, good.quality_score = Decimal("90"), Decimal("10")  # cheap ranks first
    session.add_all([cheap, good])
    session.commit()
    token = _as(client, h, "officer")
    url = f"/tenders/{tender.id}/lots/{lot.id}/award"
    first = client.get(url, params={"bid_id": cheap.public_id}).text
    assert "Yes, award lot 1" in first and 'name="reason"' not in first
    second = client.get(url, params={"bid_id": good.public_id}).text
    assert 'name="reason"' in second and "rather than" in second and "£10.00" in second
    refused = client.post(url, data={"csrf_token": token, "bid_id": good.public_id})
    assert refused.status_code == 422 and "not ranked first" in refused.text
    assert "Award 6" not in refused.text and f"award_{lot.id}" not in refused.text
    session.expire_all()
    assert session.exec(select(Award)).first() is None
    done = client.post(url, data={
        "csrf_token": token, "bid_id": good.public_id, "reason": "Better conditions.",
    })
    assert done.status_code == 200
    receipt = _flash(done.text)
    assert "was awarded to" in receipt and "£10.00 per unit" in receipt and "GMT" in receipt

    # Revoking asks first, then needs a reason.
    award = session.exec(select(Award)).one()
    confirm = client.get(f"/awards/{award.id}/revoke").text
    assert "Yes, revoke the award of lot 1" in confirm
    r = client.post(f"/awards/{award.id}/revoke", data={"csrf_token": token, "reason": " "})
    assert r.status_code == 422 and "Yes, revoke" in r.text
    r = client.post(f"/awards/{award.id}/revoke", data={"csrf_token": token, "reason": "Error."})
    assert r.status_code == 200 and "was revoked at" in _flash(r.text)


def test_cancel_confirms_then_returns_the_needs(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender = tf.published_tender(session, who["officer"])
    session.commit()
    token = _as(client, h, "officer")
    page = client.get(f"/tenders/{tender.id}/cancel").text
    assert f"Yes, cancel {tender.reference}" in page and "back to them as submitted" in page
    r = client.post(f"/tenders/{tender.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 422 and "Give the reason" in r.text
    r = client.post(f"/tenders/{tender.id}/cancel", data={"csrf_token": token, "reason": "No."})
    assert r.status_code == 200 and "was cancelled at" in _flash(r.text)
    session.expire_all()
    assert {d.status for d in session.exec(select(Demand)).all()} == {"submitted"}


def test_unsuccessful_lot_returns_needs_and_tells_the_borough(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender = tf.published_tender(session, who["officer"])
    lot = tf.lots_of(session, tender)[0]
    session.commit()
    clock.set(WINTER + timedelta(days=15))
    token = _as(client, h, "officer")
    r = client.post(f"/tenders/{tender.id}/lots/{lot.id}/unsuccessful", data={
        "csrf_token": token, f"unsuccessful_{lot.id}_reason": "No bids received.",
    })
    assert r.status_code == 200 and "closed as unsuccessful" in _flash(r.text)
    session.expire_all()
    demands = session.exec(select(Demand)).all()
    assert demands and {(d.status, d.lot_id) for d in demands} == {("submitted", None)}
    camden = session.exec(select(Notification).where(
        Notification.organisation_id == who["camden"].organisation_id)).all()
    assert any("back with you as submitted" in n.message for n in camden)


def test_bid_receipts_name_the_lot_time_and_price(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender = tf.published_tender(session, who["officer"])
    lot = tf.lots_of(session, tender)[0]
    session.commit()
    token = _as(client, h, "p1")
    page = client.get(f"/opportunities/{tender.id}").text
    assert 'class="lap-back-link">Back to opportunities' in page
    url = f"/opportunities/{tender.id}/lots/{lot.id}/bid"
    r = client.post(url, data={"csrf_token": token, f"bid_{lot.id}_unit_price": "",
                               f"bid_{lot.id}_quality_statement": ""})
    assert r.status_code == 422
    assert set(_errors(r.text)) == {
        "Lot 1 unit price: Enter your unit price in pounds, for example 12.50.",
        "Lot 1 quality statement: Enter your quality statement.",
    }
    r = client.post(url, data={"csrf_token": token, f"bid_{lot.id}_unit_price": "1250",
                               f"bid_{lot.id}_quality_statement": "Dartford store."})
    receipt = _flash(r.text)
    assert f"Your bid for Lot 1: {lot.title} was received at 2 Nov 2026, 09:00 GMT" in receipt
    assert "£1,250.00 per unit" in receipt
    clock.advance(timedelta(hours=2))
    token = _as(client, h, "p1")  # a fresh sign-in: the first token has lapsed
    r = client.post(url, data={"csrf_token": token, f"bid_{lot.id}_unit_price": "9.5",
                               f"bid_{lot.id}_quality_statement": "Dartford store."})
    assert "was replaced at 2 Nov 2026, 11:00 GMT: £9.50 per unit" in _flash(r.text)
    assert "received 2 Nov 2026, 11:00 GMT" in r.text
    r = client.post(f"/opportunities/{tender.id}/lots/{lot.id}/withdraw",
                    data={"csrf_token": token})
    assert "was withdrawn at" in _flash(r.text)
    r = client.post(f"/opportunities/{tender.id}/questions", data={"csrf_token": token})
    assert r.status_code == 422 and "Enter your question." in r.text
    r = client.post(f"/opportunities/{tender.id}/questions",
                    data={"csrf_token": token, "question": "Racking?"})
    assert "Your question was sent at" in _flash(r.text)


def test_feeds_name_people_and_things_newest_first(client, session, people) -> None:  # type: ignore[no-untyped-def]
    who, h = people
    tender = tf.published_tender(session, who["officer"])
    # Written out of id order: the later notice first.
    session.add(Notification(organisation_id=who["camden"].organisation_id, kind="x",
                             message="Later notice", created_at=WINTER + timedelta(hours=2)))
    session.add(Notification(organisation_id=who["camden"].organisation_id, kind="x",
                             message="Earlier notice", created_at=WINTER + timedelta(hours=1)))
    session.commit()
    token = _as(client, h, "officer")
    client.post(f"/tenders/{tender.id}/cancel", data={"csrf_token": token, "reason": "Gone."})
    dashboard = client.get("/dashboard").text
    assert f"cancelled Tender {tender.reference}" in dashboard
    assert "tender " + str(tender.id) not in dashboard
    _as(client, h, "camden")
    notes = client.get("/notifications").text
    assert notes.index("Later notice") < notes.index("Earlier notice")
