"""A call-off's life in OCDS: signed, changed, paid and terminated, valid against 1.1.5."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from lap_market.tenders.models import Tender
from tests.contracts.helpers import auth
from tests.factories import contract_management as cmf
from tests.ocds.validation import assert_valid


def releases(client, tender_id: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/ocds/release-packages/{tender_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(body)
    return list(body["releases"])


def test_changes_payments_and_termination_are_published(client, app, session) -> None:
    active = cmf.active_contract(session)  # £10,000.00, 1 Apr 2027 to 31 Mar 2028
    session.commit()
    contract_url = f"/api/v1/contracts/{active.contract.id}"
    change = client.post(f"{contract_url}/changes", json={
        "kind": "value", "new_value": "10500.00", "reason_code": "price_indexation",
        "explanation": "CPI uplift"}, headers=auth(app, active.buyer)).json()
    client.post(f"/api/v1/contract-changes/{change['id']}/accept",
                headers=auth(app, active.supplier))
    sent = client.post(f"{contract_url}/invoices", json={
        "number": "OD-1", "issued_on": "2027-05-01", "period_start": "2027-04-01",
        "period_end": "2027-04-30", "amount": "875.00", "vat": "175.00"},
        headers=auth(app, active.supplier)).json()
    buyer = auth(app, active.buyer)
    client.post(f"/api/v1/invoices/{sent['id']}/approve", headers=buyer)
    client.post(f"/api/v1/invoices/{sent['id']}/paid", json={"paid_on": "2027-05-03"},
                headers=buyer)
    ended = client.post(f"{contract_url}/terminate", json={
        "effective_on": "2027-04-30", "reason_code": "mutual", "explanation": "Agreed"},
        headers=buyer)
    assert ended.status_code == 200, ended.text

    tender_id = session.exec(select(Tender.id)).one()
    found = releases(client, tender_id)
    tags = [r["tag"][0] for r in found]
    for tag in ("contract", "contractAmendment", "implementation", "contractTermination"):
        assert tag in tags, (tags, found[-1])
    last = found[-1]
    assert last["tag"] == ["contractTermination"]
    contract = last["contracts"][0]
    assert contract["status"] == "terminated"
    assert contract["value"] == {"amount": 10500, "currency": "GBP"}
    assert contract["awardID"] == last["awards"][0]["id"]
    assert contract["amendments"][0]["rationale"] == "price_indexation: CPI uplift"
    transaction = contract["implementation"]["transactions"][0]
    assert transaction["value"] == {"amount": 1050, "currency": "GBP"}
    assert transaction["payer"]["name"] == "Camden"
    assert transaction["payee"]["id"] in {p["id"] for p in last["parties"]}
    issued = next(r for r in found if r["tag"] == ["contract"])["contracts"][0]
    assert issued["value"]["amount"] == 10000  # as it stood when issued
    assert "amendments" not in issued and "implementation" not in issued
