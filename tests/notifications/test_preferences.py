"""Notification preferences: the API, the page (CSRF-checked), and the kinds that cannot be
turned off."""

from __future__ import annotations

import re

from lap_market.audit.models import AuditEvent
from tests.factories import accounts as acc

URL = "/api/v1/me/notification-preferences"


def _modes(body: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {p["kind"]: p["mode"] for p in body["preferences"]}


def test_everyone_starts_immediate_and_chooses_per_kind(client, session) -> None:  # type: ignore[no-untyped-def]
    provider = acc.provider(session)
    officer = acc.officer(session)
    session.commit()
    h = acc.token_headers(client, provider.email)
    body = client.get(URL, headers=h).json()
    modes = _modes(body)
    assert set(modes.values()) == {"immediate"}
    assert {"opportunity", "deadline_reminder", "bid_receipt", "contract_issued"} <= set(modes)
    assert "question_asked" not in modes  # an officer's kind
    locked = {p["kind"] for p in body["preferences"] if not p["can_turn_off"]}
    # Messages about their own contracts, and framework offers that lapse within days.
    assert locked == {"contract_issued", "acceptance_outstanding", "account_security",
                      "contract_update", "framework"}
    officer_kinds = _modes(client.get(URL, headers=acc.token_headers(client, officer.email)).json())
    assert {"question_asked", "standstill_ended"} <= set(officer_kinds)

    r = client.put(URL, headers=h, json={"preferences": [
        {"kind": "opportunity", "mode": "daily"}, {"kind": "amendment", "mode": "off"},
        {"kind": "contract_issued", "mode": "daily"}]})
    assert r.status_code == 200, r.text
    assert _modes(r.json())["opportunity"] == "daily"
    modes = _modes(client.get(URL, headers=h).json())
    assert (modes["opportunity"], modes["amendment"], modes["contract_issued"],
            modes["answer"]) == ("daily", "off", "daily", "immediate")
    session.expire_all()
    audited = session.query(AuditEvent).filter(
        AuditEvent.action == "notification_preferences.changed").all()
    assert len(audited) == 1 and audited[0].actor_id == provider.id


def test_own_contracts_and_security_cannot_be_turned_off(client, session) -> None:  # type: ignore[no-untyped-def]
    manager = acc.manager(session)
    session.commit()
    h = acc.token_headers(client, manager.email)
    for kind in ("contract_issued", "acceptance_outstanding", "account_security"):
        r = client.put(URL, headers=h, json={"preferences": [
            {"kind": "award", "mode": "off"}, {"kind": kind, "mode": "off"}]})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == kind and kind in r.json()["detail"]
    # Refused as a whole: the other change in the same request was not kept.
    assert _modes(client.get(URL, headers=h).json())["award"] == "immediate"


def test_bad_input_is_a_422_naming_the_field(client, session) -> None:  # type: ignore[no-untyped-def]
    provider = acc.provider(session)
    session.commit()
    h = acc.token_headers(client, provider.email)
    r = client.put(URL, headers=h, json={"preferences": [{"kind": "no_such", "mode": "off"}]})
    assert r.status_code == 422 and r.json()["field"] == "no_such"
    r = client.put(URL, headers=h, json={"preferences": [{"kind": "award", "mode": "weekly"}]})
    assert r.status_code == 422 and "mode" in r.text
    r = client.put(URL, headers=h, json={"preferences": "all"})
    assert r.status_code == 422
    assert client.get(URL).status_code == 401


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def test_the_page_saves_choices_and_refuses_without_csrf(client, session) -> None:  # type: ignore[no-untyped-def]
    provider = acc.provider(session)
    session.commit()
    h = acc.token_headers(client, provider.email)
    client.cookies.set("lap_session", h["Authorization"].removeprefix("Bearer "))
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "Receipts for your bids" in page.text
    assert 'id="f-contract_issued-off"' not in page.text  # no "off" for a locked kind
    assert client.post("/account/notifications", data={"opportunity": "off"}).status_code == 403
    token = _csrf(page.text)
    r = client.post("/account/notifications", data={"csrf_token": token, "opportunity": "off",
                                                   "bid_receipt": "daily"},
                    follow_redirects=False)
    assert r.status_code == 303
    modes = _modes(client.get(URL, headers=h).json())
    assert (modes["opportunity"], modes["bid_receipt"]) == ("off", "daily")
    # A forged "off" for a locked kind is refused beside its field.
    r = client.post("/account/notifications",
                    data={"csrf_token": token, "contract_issued": "off"})
    assert r.status_code == 422 and "cannot be turned off" in r.text
    assert "f-contract_issued-error" in r.text
    client.cookies.clear()
