"""Invoices against a contract: the 30-day clock, the value ceiling, who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.contract_management.models import Invoice
from lap_market.tenders.models import Notification
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import contract_management as cmf


def invoice(number: str = "INV-1", amount: str = "1000.00", **extra: str) -> dict[str, str]:
    body = {"number": number, "issued_on": "2027-05-01", "period_start": "2027-04-01",
            "period_end": "2027-04-30", "amount": amount, "vat": "200.00"}
    body.update(extra)
    return body


@pytest.fixture
def active(session):
    made = cmf.active_contract(session)
    session.commit()
    return made


def url(active, suffix: str = "") -> str:
    return f"/api/v1/contracts/{active.contract.id}{suffix}"


def test_supplier_invoices_buyer_approves_and_pays(client, app, active) -> None:
    sent = client.post(url(active, "/invoices"), json=invoice(),
                       headers=auth(app, active.supplier))
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["status"] == "submitted"
    assert body["received_on"] == "2027-05-03"
    assert body["due_on"] == "2027-06-02"  # 30 days after receipt
    assert (body["amount"], body["vat"], body["total"]) == ("1000.00", "200.00", "1200.00")
    invoice_id = body["id"]

    buyer = auth(app, active.buyer)
    paid_too_soon = client.post(f"/api/v1/invoices/{invoice_id}/paid",
                                json={"paid_on": "2027-05-03"}, headers=buyer)
    assert paid_too_soon.status_code == 409
    approved = client.post(f"/api/v1/invoices/{invoice_id}/approve", headers=buyer)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    future = client.post(f"/api/v1/invoices/{invoice_id}/paid",
                         json={"paid_on": "2027-05-04"}, headers=buyer)
    assert future.status_code == 422 and future.json()["field"] == "paid_on"
    done = client.post(f"/api/v1/invoices/{invoice_id}/paid",
                       json={"paid_on": "2027-05-03"}, headers=buyer)
    assert done.status_code == 200
    assert done.json()["status"] == "paid" and done.json()["days_to_pay"] == 0

    spend = client.get(url(active, "/spend"), headers=buyer).json()
    assert spend["value"] == "10000.00"
    assert (spend["invoiced"], spend["approved"], spend["paid"], spend["remaining"]) == (
        "1000.00", "1000.00", "1000.00", "9000.00")
    assert spend["invoiced_pct"] == "10.0" and spend["warning"] == "none"


def test_only_the_right_party_acts_and_refusals_write_nothing(client, app, session, active) -> None:
    stranger = acc.provider(session)
    session.commit()

    def writes() -> tuple[int, int]:
        session.expire_all()
        return (session.exec(select(func.count()).select_from(Invoice)).one(),
                session.exec(select(func.count()).select_from(AuditEvent)).one())

    before = writes()
    for user in (active.buyer, active.officer, stranger, active.other_buyer):
        response = client.post(url(active, "/invoices"), json=invoice(), headers=auth(app, user))
        assert response.status_code in (403, 404), (user.role, response.text)
    assert client.post(url(active, "/invoices"), json=invoice(),
                       headers=auth(app, stranger)).status_code == 404
    assert writes() == before
    sent = client.post(url(active, "/invoices"), json=invoice(), headers=auth(app, active.supplier))
    invoice_id = sent.json()["id"]
    for user in (active.supplier, active.officer, active.other_buyer):
        assert client.post(f"/api/v1/invoices/{invoice_id}/approve",
                           headers=auth(app, user)).status_code in (403, 404)
    assert client.get(f"/api/v1/invoices/{invoice_id}",
                      headers=auth(app, active.other_buyer)).status_code == 404
    assert client.get(f"/api/v1/invoices/{invoice_id}",
                      headers=auth(app, active.officer)).status_code == 200


@pytest.mark.parametrize(("change", "field"), [
    ({"period_start": "2027-03-31"}, "period_start"),
    ({"period_end": "2028-04-01"}, "period_end"),
    ({"period_start": "2027-04-10", "period_end": "2027-04-09"}, "period_end"),
    ({"issued_on": "2027-05-04"}, "issued_on"),
    ({"amount": "0"}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"vat": "-1.00"}, "vat"),
    ({"number": ""}, "number"),
    ({"issued_on": "1999-12-31"}, "issued_on"),
])
def test_bad_invoices_name_the_field(client, app, session, active, change, field) -> None:
    response = client.post(url(active, "/invoices"), json=invoice(**change),
                           headers=auth(app, active.supplier))
    assert response.status_code == 422, response.text
    assert field in response.text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Invoice)).one() == 0


def test_invoice_numbers_are_unique_per_supplier(client, app, active) -> None:
    headers = auth(app, active.supplier)
    assert client.post(url(active, "/invoices"), json=invoice(), headers=headers).status_code == 201
    again = client.post(url(active, "/invoices"), json=invoice(), headers=headers)
    assert again.status_code == 409 and again.json()["field"] == "number"


def test_an_invoice_past_the_value_is_refused_until_a_change(client, app, session, active) -> None:
    headers = auth(app, active.supplier)
    # £10,000.00 in all: £9,000.00 then £1,000.00 fit exactly, one penny more does not.
    assert client.post(url(active, "/invoices"), json=invoice("A", "9000.00"),
                       headers=headers).status_code == 201
    over = client.post(url(active, "/invoices"), json=invoice("B", "1000.01"), headers=headers)
    assert over.status_code == 422
    assert over.json()["field"] == "amount"
    assert "change to the contract is needed" in over.json()["detail"]
    assert "£10,000.01" in over.json()["detail"]
    assert client.post(url(active, "/invoices"), json=invoice("C", "1000.00"),
                       headers=headers).status_code == 201
    spend = client.get(url(active, "/spend"), headers=auth(app, active.buyer)).json()
    assert spend["warning"] == "100" and spend["remaining"] == "0.00"
    session.expire_all()
    kinds = session.exec(select(Notification.kind)).all()
    assert kinds.count("contract.spend_80") == 2  # the borough and the officers, once each
    assert kinds.count("contract.spend_100") == 2


def test_invoices_sent_at_once_never_pass_the_value_together(db_url, app, session, active) -> None:
    import threading

    from fastapi.testclient import TestClient

    headers = auth(app, active.supplier)
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def send(n: int) -> None:
        with TestClient(app) as own:
            barrier.wait()
            codes.append(own.post(url(active, "/invoices"), json=invoice(f"R{n}", "4000.00"),
                                  headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 201, 422, 422]
    session.expire_all()
    assert session.exec(select(func.sum(Invoice.amount_pence))).one() == 800000


def test_overdue_after_thirty_days(client, app, active) -> None:
    sent = client.post(url(active, "/invoices"), json=invoice(), headers=auth(app, active.supplier))
    invoice_id = sent.json()["id"]
    clock.set(datetime(2027, 6, 2, 22, 0, tzinfo=UTC))  # the due date, still 2 June in London
    buyer = auth(app, active.buyer)
    assert client.get(f"/api/v1/invoices/{invoice_id}", headers=buyer).json()["overdue"] is False
    clock.advance(timedelta(hours=2))  # 3 June in London: one day late
    buyer = auth(app, active.buyer)
    assert client.get(f"/api/v1/invoices/{invoice_id}", headers=buyer).json()["overdue"] is True
    queue = client.get("/api/v1/invoices?overdue=true", headers=buyer).json()
    assert [i["id"] for i in queue["items"]] == [invoice_id] and queue["total"] == 1
    assert client.get(url(active, "/spend"), headers=buyer).json()["overdue_invoices"] == 1


def test_dispute_then_withdraw_frees_the_value(client, app, active) -> None:
    supplier = auth(app, active.supplier)
    sent = client.post(url(active, "/invoices"), json=invoice(amount="10000.00"), headers=supplier)
    invoice_id = sent.json()["id"]
    empty = client.post(f"/api/v1/invoices/{invoice_id}/dispute", json={"reason": ""},
                        headers=auth(app, active.buyer))
    assert empty.status_code == 422 and "reason" in empty.text
    disputed = client.post(f"/api/v1/invoices/{invoice_id}/dispute",
                           json={"reason": "April hours not delivered"},
                           headers=auth(app, active.buyer))
    assert disputed.json()["status"] == "disputed"
    assert disputed.json()["dispute_reason"] == "April hours not delivered"
    assert client.post(f"/api/v1/invoices/{invoice_id}/withdraw",
                       headers=supplier).json()["status"] == "withdrawn"
    assert client.post(url(active, "/invoices"), json=invoice("INV-2", "10000.00"),
                       headers=supplier).status_code == 201
