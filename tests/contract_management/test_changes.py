"""Changes with the 10 % test (cumulative), acceptance by both parties, and termination."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import func, select

from lap_market.contract_management.models import ContractChange
from lap_market.contracts.models import Contract
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import contract_management as cmf


@pytest.fixture
def active(session):
    made = cmf.active_contract(session)  # £10,000.00: 1,000 hours at £10.00
    session.commit()
    return made


def change(kind: str = "value", **fields: str) -> dict[str, str]:
    return {"kind": kind, "reason_code": "additional_quantity",
            "explanation": "More volumes found in the strongroom survey", **fields}


def propose(client, app, active, user=None, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/contracts/{active.contract.id}/changes", json=change(**body),
                       headers=auth(app, user or active.buyer))


def accept(client, app, change_id, user):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/contract-changes/{change_id}/accept", headers=auth(app, user))


def test_ten_percent_is_not_substantial_and_the_change_waits_for_both(client, app, session,
                                                                       active) -> None:
    made = propose(client, app, active, new_value="11000.00")  # +£1,000.00 = 10.00 %
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["cumulative_change_pct"] == "10.00"
    assert body["substantial"] is False and body["change_notice_reference"] is None
    assert body["status"] == "proposed"
    assert body["buyer_acceptance"]["by_name"] == active.buyer.name  # proposing is accepting
    # Accepted by one party only: not in effect, the value unchanged.
    spend = client.get(f"/api/v1/contracts/{active.contract.id}/spend",
                       headers=auth(app, active.buyer)).json()
    assert spend["value"] == "10000.00"
    again = accept(client, app, body["id"], active.buyer)
    assert again.status_code == 409
    sha_before = session.get(Contract, active.contract.id).pdf_sha256  # type: ignore[union-attr]
    done = accept(client, app, body["id"], active.supplier)
    assert done.status_code == 200 and done.json()["status"] == "in_effect"
    spend = client.get(f"/api/v1/contracts/{active.contract.id}/spend",
                       headers=auth(app, active.buyer)).json()
    assert (spend["value"], spend["original_value"]) == ("11000.00", "10000.00")
    record = client.get(f"/api/v1/contracts/{active.contract.id}",
                        headers=auth(app, active.buyer)).json()
    assert record["pdf_sha256"] != sha_before
    download = client.get(f"/api/v1/contracts/{active.contract.id}/pdf",
                          headers=auth(app, active.buyer))
    assert hashlib.sha256(download.content).hexdigest() == record["pdf_sha256"]
    text = flat(" ".join(pdf_pages(download.content)))
    assert "Schedule of changes" in text
    assert "£11,000.00" in text and "Additional quantity" in text


def test_cumulative_past_ten_percent_is_substantial(client, app, active) -> None:
    first = propose(client, app, active, new_value="10500.00")  # +5.00 %
    accept(client, app, first.json()["id"], active.supplier)
    second = propose(client, app, active, new_value="11001.00")  # +5.01 %: 10.01 % in all
    body = second.json()
    assert body["cumulative_change_pct"] == "10.01"
    assert body["substantial"] is True and body["change_notice_required"] is True
    assert body["change_notice_reference"] == f"{active.contract.reference}-CN02"


def test_decreases_count_toward_the_test_too(client, app, active) -> None:
    first = propose(client, app, active, new_value="9400.00")  # -6.00 %
    accept(client, app, first.json()["id"], active.supplier)
    second = propose(client, app, active, new_value="9900.00")  # +5.00 %, 11.00 % moved
    assert second.json()["cumulative_change_pct"] == "11.00"
    assert second.json()["substantial"] is True


def test_quantity_and_term_changes_are_priced_at_the_contract_rate(client, app, active) -> None:
    more = propose(client, app, active, kind="quantity", new_quantity="1100")
    assert more.status_code == 201, more.text
    assert (more.json()["value_after"], more.json()["quantity_after"]) == ("11000.00", "1100")
    client.post(f"/api/v1/contract-changes/{more.json()['id']}/reject", json={"reason": "No"},
                headers=auth(app, active.supplier))
    longer = propose(client, app, active, kind="term", new_end_date="2028-09-30",
                     reason_code="extension_option")
    assert longer.status_code == 201, longer.text
    assert longer.json()["end_date_after"] == "2028-09-30"
    assert longer.json()["value_after"] == "10000.00"  # hours are not charged per year


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "value"}, "new_value"),
    ({"kind": "term"}, "new_end_date"),
    ({"kind": "quantity"}, "new_quantity"),
    ({"kind": "value", "new_value": "-5.00"}, "new_value"),
    ({"kind": "value", "new_value": "100.00", "reason_code": "because"}, "reason_code"),
    ({"kind": "term", "new_end_date": "2027-01-01"}, "new_end_date"),
])
def test_bad_changes_name_the_field_and_write_nothing(client, app, session, active, body,
                                                      field) -> None:
    response = client.post(f"/api/v1/contracts/{active.contract.id}/changes",
                           json={**change(), **body}, headers=auth(app, active.buyer))
    assert response.status_code == 422, response.text
    assert field in response.text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(ContractChange)).one() == 0


def test_who_may_propose_and_accept(client, app, active) -> None:
    assert propose(client, app, active, user=active.supplier,
                   new_value="10100.00").status_code == 403
    assert propose(client, app, active, user=active.other_buyer,
                   new_value="10100.00").status_code == 404
    by_officer = propose(client, app, active, user=active.officer, new_value="10100.00")
    assert by_officer.status_code == 201
    change_id = by_officer.json()["id"]
    assert by_officer.json()["buyer_acceptance"] is None
    busy = propose(client, app, active, new_value="10200.00")
    assert busy.status_code == 409  # one change at a time
    assert accept(client, app, change_id, active.officer).status_code == 403
    assert accept(client, app, change_id, active.supplier).json()["status"] == "proposed"
    assert accept(client, app, change_id, active.buyer).json()["status"] == "in_effect"


def test_termination_refuses_later_invoices(client, app, active) -> None:
    supplier = auth(app, active.supplier)
    invoices = f"/api/v1/contracts/{active.contract.id}/invoices"
    april = {"number": "APR", "issued_on": "2027-05-01", "period_start": "2027-04-01",
             "period_end": "2027-04-30", "amount": "500.00", "vat": "100.00"}
    assert client.post(invoices, json=april, headers=supplier).status_code == 201
    terminate = f"/api/v1/contracts/{active.contract.id}/terminate"
    body = {"effective_on": "2027-05-31", "reason_code": "convenience",
            "explanation": "Service moving in-house"}
    assert client.post(terminate, json=body, headers=supplier).status_code == 403
    early = client.post(terminate, json={**body, "effective_on": "2027-04-15"},
                        headers=auth(app, active.buyer))
    assert early.status_code == 409 and early.json()["field"] == "effective_on"
    bad = client.post(terminate, json={**body, "reason_code": "boredom"},
                      headers=auth(app, active.buyer))
    assert bad.status_code == 422 and "reason_code" in bad.text
    done = client.post(terminate, json=body, headers=auth(app, active.buyer))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "terminated"
    may = {**april, "number": "MAY", "period_start": "2027-05-01", "period_end": "2027-05-31"}
    assert client.post(invoices, json=may, headers=supplier).status_code == 201
    june = {**april, "number": "JUN", "period_start": "2027-06-01", "period_end": "2027-06-30"}
    refused = client.post(invoices, json=june, headers=supplier)
    assert refused.status_code == 422 and refused.json()["field"] == "period_end"
    assert "terminated" in refused.json()["detail"]
    twice = client.post(terminate, json=body, headers=auth(app, active.buyer))
    assert twice.status_code == 409
    change_after = propose(client, app, active, new_value="10100.00")
    assert change_after.status_code == 409


def test_termination_and_spend_warnings_reach_people_by_email(client, app, session, active,
                                                               smtp_server) -> None:
    from tests.notifications.test_emails import Inbox

    inbox = Inbox(app, smtp_server)
    inbox.new(session)  # whatever issuing and acceptance sent
    officer_email, buyer_email = active.officer.email, active.buyer.email
    supplier_email = active.supplier.email
    sent = client.post(f"/api/v1/contracts/{active.contract.id}/invoices", json={
        "number": "BIG", "issued_on": "2027-05-01", "period_start": "2027-04-01",
        "period_end": "2027-04-30", "amount": "8000.00", "vat": "1600.00"},
        headers=auth(app, active.supplier))
    assert sent.status_code == 201
    warned = inbox.new(session)
    subject = f"Contract {active.contract.reference}: invoices at 80% of its value"
    assert {(m.to, m.subject) for m in warned} >= {(buyer_email, subject),
                                                    (officer_email, subject)}
    ended = client.post(f"/api/v1/contracts/{active.contract.id}/terminate", json={
        "effective_on": "2027-04-30", "reason_code": "mutual", "explanation": "Agreed"},
        headers=auth(app, active.buyer))
    assert ended.status_code == 200
    told = {m.to for m in inbox.new(session)
            if m.subject == f"Contract {active.contract.reference}: terminated"}
    assert told == {buyer_email, supplier_email, officer_email}
    assert all(f"/contracts/{active.contract.id}" in m.text for m in inbox.all[-3:])
