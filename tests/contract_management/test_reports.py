"""The payments report and the contract register, with figures worked by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from lap_market.clock import clock
from tests.contracts.helpers import auth
from tests.factories import contract_management as cmf


def send(client, app, active, number: str, issued_on: str = "2027-05-01") -> int:  # type: ignore[no-untyped-def]
    body = {"number": number, "issued_on": issued_on, "period_start": "2027-04-01",
            "period_end": "2027-04-30", "amount": "1000.00", "vat": "200.00"}
    response = client.post(f"/api/v1/contracts/{active.contract.id}/invoices", json=body,
                           headers=auth(app, active.supplier))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def settle(client, app, active, invoice_id: int, paid_on: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = auth(app, active.buyer)
    assert client.post(f"/api/v1/invoices/{invoice_id}/approve", headers=headers).status_code == 200
    if paid_on:
        paid = client.post(f"/api/v1/invoices/{invoice_id}/paid", json={"paid_on": paid_on},
                           headers=headers)
        assert paid.status_code == 200, paid.text


def test_payments_report_shares_and_averages(client, app, session) -> None:
    camden, hackney = cmf.active_contracts(session, (("E09000007", "1000"), ("E09000012", "500")))
    session.commit()
    # Camden: four invoices received 3 May 2027 (due 2 June).
    c1, c2, c3 = (send(client, app, camden, f"C{n}") for n in (1, 2, 3))
    h1 = send(client, app, hackney, "H1")
    clock.set(datetime(2027, 6, 15, 10, 0, tzinfo=UTC))
    settle(client, app, camden, c1, "2027-05-20")  # 17 days: on time
    settle(client, app, camden, c2, "2027-06-12")  # 40 days: late
    settle(client, app, camden, c3, None)  # approved, unpaid, due 2 June: overdue
    settle(client, app, hackney, h1, "2027-06-02")  # 30 days exactly: on time
    c4 = send(client, app, camden, "C4", issued_on="2027-06-14")  # due 15 July: not overdue
    assert c4

    report = client.get("/api/v1/reports/payments?group_by=borough",
                        headers=auth(app, camden.officer)).json()
    rows = {row["name"]: row for row in report["rows"]}
    assert rows["Camden"] == {
        "key": camden.contract.buyer_id, "name": "Camden", "invoices_paid": 2,
        "paid": "2400.00", "paid_within_30_days": 1, "paid_within_30_days_pct": "50.0",
        "average_days_to_pay": "28.5", "overdue_now": 1, "overdue_amount": "1200.00"}
    assert rows["Hackney"]["paid_within_30_days_pct"] == "100.0"
    assert rows["Hackney"]["average_days_to_pay"] == "30.0"
    totals = report["totals"]
    assert (totals["invoices_paid"], totals["paid_within_30_days"]) == (3, 2)
    assert totals["paid_within_30_days_pct"] == "66.7"
    assert totals["average_days_to_pay"] == "29.0"  # (17 + 40 + 30) / 3
    assert totals["overdue_now"] == 1

    # A borough sees its own row only; the provider groups by itself.
    own = client.get("/api/v1/reports/payments", headers=auth(app, hackney.buyer)).json()
    assert [row["name"] for row in own["rows"]] == ["Hackney"]
    by_provider = client.get("/api/v1/reports/payments?group_by=provider",
                             headers=auth(app, camden.supplier)).json()
    assert len(by_provider["rows"]) == 1 and by_provider["rows"][0]["invoices_paid"] == 3
    bad = client.get("/api/v1/reports/payments?group_by=planet", headers=auth(app, camden.officer))
    assert bad.status_code == 422 and "group_by" in bad.text

    download = client.get("/api/v1/reports/payments", headers={
        **auth(app, camden.officer), "Accept": "text/csv"})
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert table[0]["name"] == "Camden" and table[0]["paid_within_30_days_pct"] == "50.0"
    assert table[-1]["name"] == "Total"


def test_contract_register_lists_value_changes_invoiced_paid(client, app, session) -> None:
    camden = cmf.active_contract(session)
    session.commit()
    invoice_id = send(client, app, camden, "R1")
    settle(client, app, camden, invoice_id, "2027-05-03")
    change = client.post(f"/api/v1/contracts/{camden.contract.id}/changes", json={
        "kind": "value", "new_value": "10500.00", "reason_code": "price_indexation",
        "explanation": "CPI uplift"}, headers=auth(app, camden.buyer)).json()
    client.post(f"/api/v1/contract-changes/{change['id']}/accept",
                headers=auth(app, camden.supplier))
    response = client.get("/api/v1/reports/contract-register", headers={
        **auth(app, camden.officer), "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert {k: rows[0][k] for k in ("reference", "status", "original_value", "value",
                                     "changes_in_effect", "invoiced", "paid", "end_date")} == {
        "reference": camden.contract.reference, "status": "active", "original_value": "10000.00",
        "value": "10500.00", "changes_in_effect": "1", "invoiced": "1000.00", "paid": "1000.00",
        "end_date": "2028-03-31"}
    assert client.get("/api/v1/reports/contract-register",
                      headers=auth(app, camden.other_buyer)).json() == []
    clock.set(datetime(2028, 4, 1, 9, 0, tzinfo=UTC))  # the day after the end, in London
    expired = client.get("/api/v1/reports/contract-register", headers=auth(app, camden.buyer))
    assert expired.json()[0]["status"] == "expired"
