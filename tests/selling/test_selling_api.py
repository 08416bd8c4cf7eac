"""Members who sell (issue 17): a borough an admin lets sell lists offers, is commissioned by
another borough, may not bid for its own demand nor buy its own offer, and sees its own
offers marked "yours" (unranked) in comparisons and quotes. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lap_market.accounts.models import Organisation
from lap_market.accounts.policy import is_provider
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.contracts.models import Contract
from tests.factories import accounts as acc
from tests.factories import tenders as tf

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
CAMDEN, HACKNEY = "E09000007", "E09000012"


def offer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "storage", "title": "Camden spare strongroom",
        "description": "Spare strongroom bays in Camden's archive building.",
        "unit": "linear_metre_year",
        "tiers": [{"min_quantity": "1", "unit_price": "9.00"},
                  {"min_quantity": "100", "unit_price": "8.00"}],
        "capacity": "400", "lead_time_days": 15, "valid_from": "2026-01-01",
        "valid_until": None,
    }
    body.update(overrides)
    return body


def let_sell(client: TestClient, app: FastAPI, admin: Any, organisation_id: int) -> Any:
    return client.patch(f"/api/v1/organisations/{organisation_id}", json={"can_provide": True},
                        headers=acc.bearer(app, admin))


def test_an_admin_lets_a_borough_sell(client: TestClient, session: Session, app: FastAPI) -> None:
    clock.set(NOW)
    admin, camden = acc.admin(session), acc.manager(session, CAMDEN)
    contractor = acc.contractor(session)
    session.commit()
    org_id = camden.organisation_id
    assert not is_provider(camden)
    # Before the switch a borough manager cannot list an offer.
    refused = client.post("/api/v1/offers", json=offer_body(), headers=acc.bearer(app, camden))
    assert refused.status_code == 403
    # Only an admin flips the switch; only a borough is switched; unknown fields are refused.
    assert let_sell(client, app, camden, org_id).status_code == 403
    bad = let_sell(client, app, admin, contractor.id)  # type: ignore[arg-type]
    assert bad.status_code == 422 and bad.json()["field"] == "can_provide"
    odd = client.patch(f"/api/v1/organisations/{org_id}", json={"can_provide": "maybe"},
                       headers=acc.bearer(app, admin))
    assert odd.status_code == 422
    assert client.patch("/api/v1/organisations/999999", json={"can_provide": True},
                        headers=acc.bearer(app, admin)).status_code == 404
    response = let_sell(client, app, admin, org_id)
    assert response.status_code == 200, response.text
    assert response.json()["can_provide"] is True and response.json()["kind"] == "borough"
    me = client.get("/api/v1/me", headers=acc.bearer(app, camden)).json()
    assert me["organisation"]["can_provide"] is True and me["role"] == "borough_manager"
    session.expire_all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.updated")).one()
    assert event.details == {"can_provide": True} and event.actor_id == admin.id
    stored = session.get(Organisation, org_id)
    assert stored is not None and stored.can_provide


def test_a_borough_sells_to_another_and_never_to_itself(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(NOW)
    admin, camden, hackney = acc.admin(session), acc.manager(session, CAMDEN), acc.manager(
        session, HACKNEY)
    rival, officer = acc.provider(session), acc.officer(session)
    session.commit()
    assert let_sell(client, app, admin, camden.organisation_id).status_code == 200
    seller, buyer = acc.bearer(app, camden), acc.bearer(app, hackney)
    # The selling borough's manager lists and publishes an offer, as a contractor would.
    made = client.post("/api/v1/offers", json=offer_body(), headers=seller)
    assert made.status_code == 201, made.text
    offer = made.json()
    assert offer["provider_id"] == camden.organisation_id and offer["commissioned"] is False
    assert client.post(f"/api/v1/offers/{offer['id']}/publish", headers=seller).status_code == 200
    mine = client.get("/api/v1/my-offers", headers=seller).json()
    assert [o["id"] for o in mine["items"]] == [offer["id"]]
    rival_offer = client.post("/api/v1/offers", json=offer_body(
        title="Rival strongroom", tiers=[{"min_quantity": "1", "unit_price": "9.50"}]),
        headers=acc.bearer(app, rival)).json()
    client.post(f"/api/v1/offers/{rival_offer['id']}/publish", headers=acc.bearer(app, rival))

    # Quotes and browsing mark its own offer "yours" for the seller only.
    quote_q = "quantity=50&start_date=2027-01-01&end_date=2027-12-31"
    own_quote = client.get(f"/api/v1/offers/{offer['id']}/quote?{quote_q}", headers=seller)
    assert own_quote.status_code == 200 and own_quote.json()["yours"] is True
    their_quote = client.get(f"/api/v1/offers/{offer['id']}/quote?{quote_q}", headers=buyer)
    assert their_quote.json()["yours"] is False
    browse = client.get("/api/v1/offers?category=storage&quantity=50", headers=seller).json()
    yours = {o["id"]: o["yours"] for o in browse["items"]}
    assert yours[offer["id"]] is True and yours[rival_offer["id"]] is False

    # Another borough commissions it: a contract with the selling borough as supplier.
    body = {"offer_id": offer["id"], "quantity": "50", "start_date": "2027-01-04",
            "end_date": "2027-12-31"}
    bought = client.post("/api/v1/contracts", json=body, headers=buyer)
    assert bought.status_code == 201, bought.text
    contract = bought.json()
    assert contract["supplier"]["id"] == camden.organisation_id
    assert contract["buyer"]["gss_code"] == HACKNEY
    # The seller sees it among its contracts (as supplier) and may accept as supplier.
    listed = client.get("/api/v1/contracts", headers=seller).json()
    assert contract["id"] in [c["id"] for c in listed["items"]]
    got = client.get(f"/api/v1/contracts/{contract['id']}", headers=seller)
    assert got.status_code == 200

    # Self-commissioning is refused, priced or made, and nothing is written.
    for path in ("/api/v1/contracts/quote", "/api/v1/contracts"):
        refused = client.post(path, json=body, headers=seller)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["field"] == "offer_id" and "own" in refused.json()["detail"]
    session.expire_all()
    assert len(session.exec(select(Contract)).all()) == 1

    # Its contracts work as a contractor's: it accepts and invoices as supplier, the buyer pays.
    accept = f"/api/v1/contracts/{contract['id']}/accept"
    accepted = client.post(accept, headers=seller)
    assert accepted.status_code == 200 and accepted.json()["supplier_acceptance"] is not None
    assert client.post(accept, headers=buyer).status_code == 200
    clock.set(datetime(2027, 2, 1, 10, 0, tzinfo=UTC))
    seller, buyer = acc.bearer(app, camden), acc.bearer(app, hackney)
    invoice = client.post(f"/api/v1/contracts/{contract['id']}/invoices", headers=seller, json={
        "number": "CAM-0001", "issued_on": "2027-02-01", "period_start": "2027-01-04",
        "period_end": "2027-01-31", "amount": "30.00", "vat": "6.00"})
    assert invoice.status_code == 201, invoice.text
    approved = client.post(f"/api/v1/invoices/{invoice.json()['id']}/approve", headers=buyer)
    assert approved.status_code == 200, approved.text
    assert client.post(f"/api/v1/invoices/{invoice.json()['id']}/approve",
                       headers=seller).status_code in (403, 409)
    # And the income report shows the sale as Camden's income and Hackney's spend.
    income = client.get("/api/v1/reports/income", headers=acc.bearer(app, officer)).json()
    rows = {r["name"]: (r["income"], r["spend"]) for r in income["rows"]}
    assert rows == {"Camden": (contract["value"], "0.00"), "Hackney": ("0.00", contract["value"])}


def test_a_selling_borough_cannot_bid_for_a_lot_pooling_its_own_demand(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(NOW)
    officer, admin = acc.officer(session), acc.admin(session)
    camden = acc.manager(session, CAMDEN)
    term = (date(2027, 4, 1), date(2028, 3, 31))
    tender = tf.published_tender(session, officer, lots=[
        {"category": "storage", "unit": "linear_metre_year", "title": "Storage for Camden",
         "demands": [(CAMDEN, Decimal("120"), *term), (HACKNEY, Decimal("80"), *term)]},
        {"category": "storage", "unit": "linear_metre_year", "title": "Storage for Barnet",
         "demands": [("E09000003", Decimal("60"), *term)]},
    ], submission_deadline=NOW + timedelta(days=14))
    own_lot, other_lot = tf.lots_of(session, tender)
    session.commit()
    headers = acc.bearer(app, camden)
    bid = {"unit_price": "9.00", "quality_statement": "Our own strongroom, 2 miles away."}
    url = f"/api/v1/tenders/{tender.id}/lots/{{}}/bid"
    # Not yet a seller: it may not bid at all.
    assert client.put(url.format(other_lot.id), json=bid, headers=headers).status_code == 403
    assert let_sell(client, app, admin, camden.organisation_id).status_code == 200
    refused = client.put(url.format(own_lot.id), json=bid, headers=headers)
    assert refused.status_code == 409
    assert "Lot 1" in refused.json()["detail"] and "Storage for Camden" in refused.json()["detail"]
    made = client.put(url.format(other_lot.id), json=bid, headers=headers)
    assert made.status_code == 201, made.text
    # The bidder sees its own bid; the borough still sees the tender holding its demand.
    mine = client.get(f"/api/v1/tenders/{tender.id}/bids", headers=headers).json()
    assert [b["lot_id"] for b in mine["bids"]] == [other_lot.id]
