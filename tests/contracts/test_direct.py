"""Direct commissioning from the catalogue: price, limits, capacity and the race for it."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from lap_market.audit.models import AuditEvent
from lap_market.catalogue.models import Offer, OfferVersion
from lap_market.clock import clock
from lap_market.contracts import direct
from lap_market.contracts.models import Contract, ContractDocument
from lap_market.contracts.schemas import DirectCommissionCreate
from lap_market.errors import Invalid
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import catalogue as cat

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _hours_offer(session: Session, *, capacity: str | None = "100") -> Offer:
    return cat.make_offer(
        session, acc.lma(session), category="conservation", unit="hour",
        tiers=[("1", "45.00"), ("50", "40.00")], capacity=capacity,
        valid_from=datetime(2026, 1, 1).date(), valid_until=datetime(2027, 12, 31).date(),
        title="LMA conservation studio hours", description="Bench conservation <i>by the hour</i>",
    )


def _body(offer: Offer, quantity: str, start: str = "2027-01-04", end: str = "2027-03-31") -> dict:
    return {"offer_id": offer.id, "quantity": quantity, "start_date": start, "end_date": end}


def test_commissioning_makes_a_contract_at_the_tier_price(session, client, app) -> None:
    clock.set(NOW)
    offer = _hours_offer(session)
    camden = acc.manager(session, "E09000007")
    session.commit()

    response = client.post("/api/v1/contracts", json=_body(offer, "60"), headers=auth(app, camden))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"] == "LAP-DC-2026-0001"
    assert body["kind"] == "direct" and body["status"] == "issued"
    assert (body["unit_price"], body["value"], body["vat"], body["total"]) == (
        "40.00", "2400.00", "480.00", "2880.00")
    version = session.exec(select(OfferVersion).where(OfferVersion.offer_id == offer.id)).one()
    assert body["offer"] == {"offer_id": offer.id, "offer_title": "LMA conservation studio hours",
                             "offer_version_id": version.id, "offer_version_number": 1}
    assert body["buyer"]["gss_code"] == "E09000007" and body["cpv_code"] == "92512000-3"
    session.expire_all()
    assert session.get(Offer, offer.id).capacity_used == Decimal("60")  # type: ignore[union-attr]
    stored = session.get(Contract, body["id"])
    assert stored is not None and stored.standalone_value_pence == 240000  # best rate: itself

    pdf = client.get(body["pdf_url"], headers=auth(app, camden))
    assert hashlib.sha256(pdf.content).hexdigest() == body["pdf_sha256"]
    text = flat(" ".join(pdf_pages(pdf.content)))
    for expected in ("LAP-DC-2026-0001", "Camden", "E09000007", "London Metropolitan Archives",
                     "LMA conservation studio hours", "rate version 1", "£40.00", "£2,400.00",
                     "VAT at 20% £480.00", "Total including VAT £2,880.00",
                     "Bench conservation <i>by the hour</i>", "Page 1 of"):
        assert expected in text, expected

    second = client.post("/api/v1/contracts", json=_body(offer, "10"), headers=auth(app, camden))
    assert second.status_code == 201
    assert second.json()["reference"] == "LAP-DC-2026-0002"
    assert second.json()["unit_price"] == "45.00"  # 10 hours stay in the first tier


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(session, client, app) -> None:
    clock.set(NOW)
    offer = _hours_offer(session, capacity="40")
    big = cat.make_offer(session, acc.contractor(session), tiers=[("1", "10.00")],
                         title="Bulk storage")
    late = cat.make_offer(session, acc.contractor(session), category="conservation",
                          unit="hour", tiers=[("1", "50.00")], title="Next year's studio",
                          valid_from=datetime(2027, 2, 1).date())
    camden = acc.manager(session)
    provider = acc.provider(session)
    session.commit()
    headers = auth(app, camden)

    cases = [
        (_body(offer, "41"), "quantity", "capacity"),
        (_body(offer, "10", end="2028-01-31"), "end_date", "validity"),
        (_body(late, "10"), "start_date", "validity"),
        (_body(offer, "10", start="2026-11-01"), "start_date", "dates"),
        (_body(big, "3000", start="2027-01-01", end="2027-12-31"), "quantity",
         "direct_award_limit"),
    ]
    for body, field, reason in cases:
        response = client.post("/api/v1/contracts", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field
        assert response.json()["reason"] == reason
    over = client.post("/api/v1/contracts", json=cases[4][0], headers=headers).json()
    assert over["value"] == "30000.00" and over["limit"] == "25000.00"
    assert "direct-award limit" in over["detail"]

    for body, field in [
        ({**_body(offer, "0")}, "quantity"),
        ({**_body(offer, "-3")}, "quantity"),
        ({**_body(offer, "5", start="2027-03-01", end="2027-02-01")}, "end_date"),
    ]:
        response = client.post("/api/v1/contracts", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == field
    assert client.post("/api/v1/contracts", json=_body(offer, "5"),
                       headers=auth(app, provider)).status_code == 403
    session.expire_all()
    assert session.exec(select(Contract)).all() == []
    assert session.exec(select(ContractDocument)).all() == []
    assert session.exec(select(AuditEvent).where(
        col(AuditEvent.action).in_(["contract.issued", "offer.capacity_taken"]))).all() == []
    assert session.get(Offer, offer.id).capacity_used == Decimal("0")  # type: ignore[union-attr]


def test_two_boroughs_taking_the_last_capacity_at_once_one_wins(session, app) -> None:
    clock.set(NOW)
    offer = _hours_offer(session, capacity="10")
    managers = [acc.manager(session, "E09000007"), acc.manager(session, "E09000012")]
    session.commit()
    offer_id, manager_ids = offer.id, [m.id for m in managers]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def commission(manager_id: int) -> None:
        with Session(app.state.engine) as own:
            actor = own.get(type(managers[0]), manager_id)
            data = DirectCommissionCreate(offer_id=offer_id, quantity=Decimal("10"),
                                          start_date=datetime(2027, 1, 4).date(),
                                          end_date=datetime(2027, 2, 26).date())
            barrier.wait()
            try:
                direct.commission_offer(own, actor, data=data, settings=app.state.settings)  # type: ignore[arg-type]
                own.commit()
                outcomes.append("won")
            except Invalid as exc:
                own.rollback()
                assert exc.extra["reason"] == "capacity"
                outcomes.append("capacity")

    threads = [threading.Thread(target=commission, args=(m,)) for m in manager_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["capacity", "won"]
    session.expire_all()
    assert session.get(Offer, offer_id).capacity_used == Decimal("10")  # type: ignore[union-attr]
    assert len(session.exec(select(Contract)).all()) == 1
