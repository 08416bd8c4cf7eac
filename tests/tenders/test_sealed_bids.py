"""Before the deadline, nothing about a sealed bid is reachable by anyone but its bidder.

Every GET route the app serves (API, pages, exports, open data) is fetched as the officer,
an admin, a rival provider, a borough in the tender, a selling borough's manager (foreign to the
tender) and an anonymous visitor, and every
audit entry and notification is read from the database. The bid's price is searched for
in each form it could be rendered in (``987.65``, ``£987.65``, ``98765`` pence as a whole
number), with its quality statement and the bidder's name. Random values that could
contain those digits by chance (JWTs, CSRF tokens) are cut out before searching, and the
bidder's own views prove that the search finds the bid where it may be shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import User
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.errors import NotFound
from lap_market.mail import service as mail_service
from lap_market.mail.models import OutboxMessage
from lap_market.notifications.periodic import send_daily_digests
from lap_market.tenders.models import Notification
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.tenders.test_tender_api import FreshTokens

PRICE = "987.65"
MARKER = "SEALED-STATEMENT-7Q2X"
BIDDER_NAME = "Quietly Sealed Vaults Ltd"

# Values that are random per request and could hold any digits: cut out before searching.
_RANDOM = [
    re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),  # JWTs
    re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])"),  # CSRF tokens (HMAC-SHA256)
    re.compile(r"(?i)csrf[\w-]*[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9_\-.]{20,}"),
]
_PENCE = re.compile(r"(?<![\w.])98765(?!\w)")


def without_random_tokens(text: str) -> str:
    for pattern in _RANDOM:
        text = pattern.sub(" ", text)
    return text


def leaks(text: str) -> list[str]:
    """Which renderings of the sealed bid ``text`` holds."""
    text = without_random_tokens(text)
    found = [needle for needle in (PRICE, f"£{PRICE}", f"&pound;{PRICE}") if needle in text]
    if _PENCE.search(text):
        found.append("98765 (pence)")
    if MARKER.lower() in text.lower():
        found.append("statement")
    return found


def get_routes(app: Any) -> list[str]:
    """Every GET path the app serves (FastAPI's included routers flattened)."""
    paths: list[str] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:
                walk(nested.routes)
                continue
            if "GET" in (getattr(route, "methods", None) or ()):
                paths.append(route.path)

    walk(app.routes)
    return sorted(set(paths))


def test_nothing_sealed_leaks_before_the_deadline(client, session, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    people = {
        "officer": acc.officer(session),
        "admin": acc.admin(session),
        "bidder": acc.provider(session, acc.contractor(session, BIDDER_NAME)),
        "rival": acc.provider(session),
        "camden": acc.manager(session, "E09000007"),
        # A borough that sells (issue 17), foreign to this tender: a provider and a buyer.
        "seller": acc.manager(session, "E09000003"),
    }
    selling = acc.borough(session, "E09000003")
    selling.can_provide = True
    session.add(selling)
    tender = tf.published_tender(session, people["officer"])
    lot = tf.lots_of(session, tender)[0]
    session.commit()
    h = FreshTokens(app, people)
    base = f"/api/v1/tenders/{tender.id}"
    bid_url = f"{base}/lots/{lot.id}/bid"
    # The bidder signs in for real and bids at once: its sign-in is the event just before.
    signed_in = acc.token_headers(client, people["bidder"].email)
    # A first bid, replaced: the replaced price must not surface either.
    first = {"unit_price": "999.99", "quality_statement": "first draft"}
    assert client.put(bid_url, json=first, headers=signed_in).status_code == 201
    sealed = {"unit_price": PRICE, "quality_statement": f"Our plan: {MARKER}."}
    r = client.put(bid_url, json=sealed, headers=h["bidder"])
    assert r.status_code == 200
    bid_id = r.json()["id"]
    rival_bid = {"unit_price": "5.00", "quality_statement": "rival"}
    r = client.put(bid_url, json=rival_bid, headers=h["rival"])
    assert r.status_code == 201
    assert_not_sequential(session, [bid_id, r.json()["id"]])
    # The rival asks (so the officer legitimately learns the rival's name, not the bidder's).
    q = client.post(f"{base}/questions", json={"question": "Racking?"}, headers=h["rival"]).json()
    assert (
        client.post(
            f"{base}/questions/{q['id']}/answer", json={"answer": "Mobile."}, headers=h["officer"]
        ).status_code
        == 200
    )
    assert tender.submission_deadline is not None
    deadline = as_utc(tender.submission_deadline)
    r = client.post(
        f"{base}/amendments",
        json={
            "reason": "More time",
            "submission_deadline": (deadline + timedelta(days=2)).isoformat(),
        },
        headers=h["officer"],
    )
    assert r.status_code == 201  # the bidder is notified of it: notifications are searched

    # Every GET route, with its path parameters pointing at this tender, lot, bid, demand.
    camden_demand = client.get("/api/v1/demands", headers=h["camden"]).json()
    demand_id = camden_demand[0]["id"] if isinstance(camden_demand, list) and camden_demand else 1
    params = {"tender_id": tender.id, "lot_id": lot.id, "bid_id": bid_id, "demand_id": demand_id}
    paths = []
    for route in get_routes(app):
        if route.startswith(("/static", "/api/docs")) or route == "/api/v1/openapi.json":
            continue
        paths.append(re.sub(r"{(\w+)}", lambda m: str(params.get(m.group(1), tender.id)), route))
    paths += [
        "/api/v1/audit?page_size=500",
        "/api/v1/tenders?status=published",
        "/tenders?status=published",
        "/api/v1/ocds/release-packages?since=2020-01-01T00:00:00Z",
    ]
    assert f"{base}/bids" in paths and f"/tenders/{tender.id}" in paths
    assert f"/api/v1/ocds/release-packages/{tender.id}" in paths

    seen: list[tuple[str, str]] = []
    for who in ("officer", "admin", "rival", "camden", "seller", "anonymous"):
        client.cookies.clear()
        headers: dict[str, str] = {}
        if who != "anonymous":
            headers = h[who]
            client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
        for path in paths:
            # Exports answer ``Accept: text/csv``; the officer is the one who could get them.
            csv = who == "officer" and path.startswith("/api/")
            for accept in ("application/json, text/html", "text/csv") if csv else ("*/*",):
                # Redirect targets are routes of their own, fetched in their turn.
                response = client.get(
                    path, headers={**headers, "Accept": accept}, follow_redirects=False
                )
                assert response.status_code < 500, (who, path, response.text)
                header_text = " ".join(
                    f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "set-cookie"
                )
                seen.append((f"{who} {accept} {path}", f"{header_text}\n{response.text}"))
                if who == "officer" and path == f"/tenders/{tender.id}":
                    assert response.status_code == 200 and tender.reference in response.text
    client.cookies.clear()
    session.expire_all()
    for event in session.exec(select(AuditEvent)).all():
        text = f"{event.action} {event.details} {event.actor_id} {event.organisation_id}"
        seen.append((f"audit {event.id} {event.action}", text))
        if event.action.startswith("bid."):
            # Recorded in full, but sealed to the tender (unlisted until its deadline).
            assert event.sealed_tender_id == tender.id, text
    assert_bid_events_unlisted(client, h, tender.id)
    audit_before = audit_views(client, h)
    assert_no_sequence(session, audit_before)
    bidders = {people["bidder"].organisation_id, people["rival"].organisation_id}
    addresses = bidder_addresses(session, bidders)
    outbox_before = assert_outbox_hides_bidders(client, h, addresses)
    assert_receipts_only_to_bidders(client, h, session, bidders)
    notes = session.exec(select(Notification)).all()
    assert notes
    for note in notes:
        seen.append((f"notification {note.id} to {note.organisation_id}", note.message))

    assert len(seen) > 250
    problems = [(where, found) for where, text in seen if (found := leaks(text))]
    problems += [(where, ["999.99"]) for where, text in seen if "999.99" in text]
    # The bidder's name tells who bid; only organisation directories may list it.
    problems += [
        (where, ["bidder name"])
        for where, text in seen
        if BIDDER_NAME in text and not re.search(r"/(organisations|users)\b", where)
    ]
    assert problems == [], problems

    # The search is not blind: the bidder's own views hold the bid in the forms searched for.
    client.cookies.set(SESSION_COOKIE, h["bidder"]["Authorization"].removeprefix("Bearer "))
    own_api = client.get(f"{base}/bids", headers=h["bidder"]).text
    own_page = client.get(f"/opportunities/{tender.id}").text
    client.cookies.clear()
    assert {PRICE, "statement"} <= set(leaks(own_api))
    assert {PRICE, f"£{PRICE}", "statement"} <= set(leaks(own_page))
    assert leaks('{"unit_price_pence": 98765}') == ["98765 (pence)"]
    # ...and what is cut out is only the random tokens, never the content around them.
    token = h["officer"]["Authorization"].removeprefix("Bearer ")
    assert leaks(f"{token} {MARKER} £{PRICE}") == [PRICE, f"£{PRICE}", "statement"]
    assert f"\"id\":\"{bid_id}\"" in own_api  # the public id is the one shown

    # After the (amended) deadline the trail says in full who did what, in its place.
    clock.set(deadline + timedelta(days=2, minutes=1))
    assert_bid_events_listed(client, h, people, tender.id, bid_id)
    assert_hidden_events_left_no_trace(audit_before, audit_views(client, h))
    assert_outbox_shows_receipts_after_deadline(client, h, addresses, outbox_before)
    assert_only_public_bid_ids(client, h, base, f"/tenders/{tender.id}", lot.id, bid_id)


def assert_only_public_bid_ids(
    client: Any, h: Any, base: str, workspace: str, lot_id: int, bid_id: str
) -> None:
    """Once bids are open, the officer's views name them by public id only."""
    rows = client.get(f"{base}/lots/{lot_id}/evaluation", headers=h["officer"]).json()
    assert bid_id in {r["bid_id"] for r in rows}
    assert all(isinstance(r["bid_id"], str) and not r["bid_id"].isdigit() for r in rows)
    exported = client.get(
        f"{base}/lots/{lot_id}/evaluation", headers={**h["officer"], "Accept": "text/csv"}
    ).text
    assert {line.split(",")[0] for line in exported.splitlines()[1:]} == {
        r["bid_id"] for r in rows
    }
    client.cookies.set(SESSION_COOKIE, h["officer"]["Authorization"].removeprefix("Bearer "))
    page = client.get(workspace).text
    client.cookies.clear()
    # One "Save scores" form per lot names each score box by the bid's public id.
    assert f'name="quality_{bid_id}"' in page and not re.search(r'name="quality_\d+"', page)


def assert_not_sequential(session: Any, public_ids: list[str]) -> None:
    """Bids are known outside the database by random ids that count nothing."""
    from lap_market.tenders.models import Bid

    rows = {b.public_id: b for b in session.exec(select(Bid)).all()}
    for public_id in public_ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", public_id), public_id
        assert not public_id.isdigit() and public_id != str(rows[public_id].id)
    assert len(set(public_ids)) == len(public_ids)


def _listed(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit?page_size=500", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def assert_bid_events_unlisted(client: Any, h: Any, tender_id: int) -> None:
    """Before the deadline no reader lists a bid event (so none sits after a sign-in)."""
    for who in ("officer", "admin"):
        events = _listed(client, h[who])
        actions = [e["action"] for e in events]
        assert "user.signed_in" in actions and "question.asked" in actions, actions
        assert not [a for a in actions if a.startswith("bid.")], (who, actions)
        filtered = client.get("/api/v1/audit?object_type=bid", headers=h[who]).json()
        assert filtered["items"] == [] and filtered["total"] == 0
        client.cookies.set(SESSION_COOKIE, h[who]["Authorization"].removeprefix("Bearer "))
        for page in ("/audit", "/audit?object_type=bid", "/"):
            assert "bid.submitted" not in client.get(page).text, (who, page)
        client.cookies.clear()
    # Not even the bidder's own activity feed lists them.
    client.cookies.set(SESSION_COOKIE, h["bidder"]["Authorization"].removeprefix("Bearer "))
    assert "bid.submitted" not in client.get("/").text
    client.cookies.clear()


def assert_bid_events_listed(
    client: Any, h: Any, people: dict[str, Any], tender_id: int, bid_id: str
) -> None:
    """After the deadline every bid event lists with its actor and organisation."""
    events = _listed(client, h["admin"])
    bid_events = [e for e in events if e["action"].startswith("bid.")]
    bidder, rival = people["bidder"], people["rival"]
    assert sorted((e["action"], e["actor_id"], e["organisation_id"]) for e in bid_events) == sorted(
        [
            ("bid.submitted", bidder.id, bidder.organisation_id),
            ("bid.replaced", bidder.id, bidder.organisation_id),
            ("bid.submitted", rival.id, rival.organisation_id),
        ]
    )
    assert {e["object_id"] for e in bid_events if e["actor_id"] == bidder.id} == {bid_id}
    assert all(e["details"]["tender_id"] == tender_id for e in bid_events)
    # In order: the bidder's sign-in, then its first bid.
    ordered = [e["action"] for e in reversed(events) if e["actor_id"] == bidder.id]
    assert ordered[:2] == ["user.signed_in", "bid.submitted"], ordered
    client.cookies.set(SESSION_COOKIE, h["officer"]["Authorization"].removeprefix("Bearer "))
    assert "bid.submitted" in client.get("/audit?object_type=bid").text
    client.cookies.clear()


# --- audit ids and the outbox: nothing there lets a reader tell a hidden event happened -------

_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,}")
_ROW = re.compile(r"<tr><td>.*?</tr>", re.S)


def _page(client: Any, headers: dict[str, str], path: str) -> str:
    client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
    try:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        return str(response.text)
    finally:
        client.cookies.clear()


def audit_views(client: Any, h: Any) -> dict[str, Any]:
    """What officers and admins see of the trail: the API's items and the page's rows."""
    return {
        who: {"api": _listed(client, h[who]), "page": _ROW.findall(_page(client, h[who], "/audit"))}
        for who in ("officer", "admin")
    }


def assert_no_sequence(session: Any, views: dict[str, Any]) -> None:
    """Each listed event is named by a random id that counts nothing: no number, and not
    its place in the database's sequence."""
    internal = {str(e.id) for e in session.exec(select(AuditEvent)).all()}
    for view in views.values():
        ids = [e["id"] for e in view["api"]]
        assert ids and len(set(ids)) == len(ids)
        for public_id in ids:
            assert isinstance(public_id, str) and _PUBLIC_ID.fullmatch(public_id), public_id
            assert not public_id.isdigit() and public_id not in internal
        # The page shows no id at all: only when, who, what.
        assert not any(public_id in "".join(view["page"]) for public_id in ids)


def assert_hidden_events_left_no_trace(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Once the seal lifts, the events listed before are exactly those listed now without
    the bid events: same ids, same order, same content. So while they were hidden the bid
    events changed nothing a reader could see (no gap, no renumbering, no count)."""
    for who in before:
        assert before[who]["api"] == [
            e for e in after[who]["api"] if not e["action"].startswith("bid.")
        ], who
        assert before[who]["page"] == [r for r in after[who]["page"] if "bid." not in r], who
        assert len(after[who]["api"]) == len(before[who]["api"]) + 3  # the three bid events


def bidder_addresses(session: Any, organisation_ids: set[int]) -> set[str]:
    users = session.exec(select(User).where(col(User.organisation_id).in_(organisation_ids)))
    return {u.email for u in users.all()}


def _outbox_problems(page: str, addresses: set[str]) -> list[str]:
    found = [a for a in addresses if a.lower() in page.lower()]
    found += [BIDDER_NAME] if BIDDER_NAME in page else []
    return found + ([k for k in ("bid_receipt", "Bid received") if k in page])


def assert_outbox_hides_bidders(client: Any, h: Any, addresses: set[str]) -> str:
    """Before the deadline the admins' outbox names no bidder (by organisation or address),
    lists no receipt, and counts only what it lists."""
    page = _page(client, h["admin"], "/admin/outbox")
    assert _outbox_problems(page, addresses) == []
    listed = page.count('class="lap-outbox-message"')
    counted = sum(int(n) for n in re.findall(r"\w+ \((\d+)\)</a>", page))
    assert listed == counted, (listed, counted)
    for status in ("pending", "sent", "failed"):
        assert _outbox_problems(
            _page(client, h["admin"], f"/admin/outbox?status={status}"), addresses) == []
    return page


def assert_outbox_shows_receipts_after_deadline(
    client: Any, h: Any, addresses: set[str], before: str
) -> None:
    """The search is not blind: after the deadline the same page lists the receipts (and
    the amendment and answer emails) to the bidders' addresses."""
    page = _page(client, h["admin"], "/admin/outbox")
    assert addresses and set(_outbox_problems(page, addresses)) >= addresses | {"bid_receipt"}
    assert page.count('class="lap-outbox-message"') > before.count('class="lap-outbox-message"')
    assert not re.search(r"/admin/outbox/\d+/", page)  # messages named by public id only


def assert_receipts_only_to_bidders(client: Any, h: Any, session: Any, bidders: set[int]) -> None:
    """A receipt is an in-app notice to its bidder alone: no other organisation's view holds it."""
    receipts = session.exec(select(Notification).where(Notification.kind == "bid_receipt")).all()
    assert receipts and {n.organisation_id for n in receipts} <= bidders
    for who in ("officer", "admin", "camden"):
        kinds = [n["kind"] for n in client.get("/api/v1/notifications", headers=h[who]).json()]
        assert "bid_receipt" not in kinds, (who, kinds)
        assert "was received at" not in _page(client, h[who], "/notifications")
    rival_own = client.get("/api/v1/notifications", headers=h["rival"]).json()
    assert [n["kind"] for n in rival_own].count("bid_receipt") == 1  # its own, not the other
    # Notices are named by random ids: gaps in a global sequence between an organisation's
    # own notices would count the receipts sent to others.
    internal = {str(n.id) for n in session.exec(select(Notification)).all()}
    for note in rival_own:
        assert _PUBLIC_ID.fullmatch(note["id"]) and note["id"] not in internal, note
    page = _page(client, h["rival"], "/notifications")
    assert f'/notifications/{rival_own[0]["id"]}/read' in page
    assert not re.search(r"/notifications/\d+/read", page)


def test_a_daily_digest_holding_a_receipt_stays_out_of_the_outbox(  # type: ignore[no-untyped-def]
    client, session, app
) -> None:
    """A receipt the bidder chose to get daily goes out in a digest of its own, sealed to the
    tender: the admins' outbox shows it only after the deadline."""
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    people = {"officer": acc.officer(session), "admin": acc.admin(session),
              "bidder": acc.provider(session, acc.contractor(session, BIDDER_NAME))}
    tender = tf.published_tender(session, people["officer"])
    lot = tf.lots_of(session, tender)[0]
    session.commit()
    h = FreshTokens(app, people)
    daily = {"preferences": [{"kind": "bid_receipt", "mode": "daily"}]}
    assert client.put("/api/v1/me/notification-preferences", json=daily,
                      headers=h["bidder"]).status_code == 200
    bid = {"unit_price": PRICE, "quality_statement": "digest"}
    assert client.put(f"/api/v1/tenders/{tender.id}/lots/{lot.id}/bid", json=bid,
                      headers=h["bidder"]).status_code == 201
    clock.set(datetime(2026, 11, 3, 7, 5, tzinfo=UTC))  # 07:05 London (GMT)
    assert send_daily_digests(session) == 1
    session.commit()
    digest = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "digest")).one()
    assert (digest.to_address, digest.sealed_tender_id) == (people["bidder"].email, tender.id)
    addresses = {people["bidder"].email}
    assert _outbox_problems(_page(client, h["admin"], "/admin/outbox"), addresses) == []
    # Sealed, it is not there to send again either: 404, as a message that does not exist.
    with pytest.raises(NotFound):
        mail_service.resend(session, people["admin"], digest.public_id)
    session.rollback()
    assert tender.submission_deadline is not None
    clock.set(as_utc(tender.submission_deadline) + timedelta(minutes=1))
    assert people["bidder"].email in _page(client, h["admin"], "/admin/outbox")
