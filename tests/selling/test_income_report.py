"""The income report, worked by hand: each borough's income from selling to other members,
its spend and its net position; the savings report counts a sale between boroughs once."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from lap_market.clock import clock
from tests.factories import accounts as acc
from tests.factories import reports as rf

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
CAMDEN, HACKNEY, BARNET = "E09000007", "E09000012", "E09000003"


def test_income_and_savings_worked_by_hand(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(NOW)
    officer = acc.officer(session)
    camden, hackney, barnet = (acc.borough(session, g) for g in (CAMDEN, HACKNEY, BARNET))
    camden.can_provide = True
    session.add(camden)
    contractor = acc.contractor(session, "Thames Vaults Ltd")
    people = {"officer": officer, "camden": acc.manager(session, CAMDEN),
              "hackney": acc.manager(session, HACKNEY), "seller": acc.provider(session, contractor),
              "admin": acc.admin(session)}
    # Camden sells to Hackney (1,200.00) and Barnet (300.50), and buys from a contractor
    # (1,000.00); Hackney also buys from the contractor (2,000.00).
    rf.contract(session, buyer=hackney, supplier=camden, issued_by=officer, value="1200.00",
                standalone="1500.00")
    rf.contract(session, buyer=barnet, supplier=camden, issued_by=officer, value="300.50",
                standalone="300.50")
    rf.contract(session, buyer=camden, supplier=contractor, issued_by=officer, value="1000.00",
                standalone="1100.00")
    rf.contract(session, buyer=hackney, supplier=contractor, issued_by=officer, value="2000.00",
                standalone="2400.00")
    session.commit()
    h = {who: acc.bearer(app, person) for who, person in people.items()}

    report = client.get("/api/v1/reports/income?group_by=borough", headers=h["officer"])
    assert report.status_code == 200, report.text
    body = report.json()
    rows = [(r["name"], r["contracts_sold"], r["income"], r["contracts_bought"], r["spend"],
             r["net"]) for r in body["rows"]]
    assert rows == [  # net earners first
        ("Camden", 2, "1500.50", 1, "1000.00", "500.50"),
        ("Barnet", 0, "0.00", 1, "300.50", "-300.50"),
        ("Hackney", 0, "0.00", 2, "3200.00", "-3200.00"),
    ]
    assert body["totals"] == {"contracts_sold": 2, "income": "1500.50", "contracts_bought": 4,
                              "spend": "4500.50", "net": "-3000.00"}
    assert body["scope"] == "partnership"

    # A borough manager sees its own row only; providers and admins are refused.
    own = client.get("/api/v1/reports/income", headers=h["camden"]).json()
    assert [(r["name"], r["net"]) for r in own["rows"]] == [("Camden", "500.50")]
    assert own["totals"]["income"] == "1500.50" and own["totals"]["spend"] == "1000.00"
    for who in ("seller", "admin"):
        assert client.get("/api/v1/reports/income", headers=h[who]).status_code == 403
    bad = client.get("/api/v1/reports/income?group_by=category", headers=h["officer"])
    assert bad.status_code == 422 and bad.json()["field"] == "group_by"
    assert client.get("/api/v1/reports/income?format=pdf",
                      headers=h["officer"]).status_code == 422

    # CSV: the same figures, with a totals row.
    download = client.get("/api/v1/reports/income?group_by=borough&format=csv",
                          headers=h["officer"])
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0] == ["borough", "gss_code", "contracts_sold", "income", "contracts_bought",
                        "spend", "net"]
    assert lines[1] == ["Camden", CAMDEN, "2", "1500.50", "1", "1000.00", "500.50"]
    assert lines[-1] == ["Total", "", "2", "1500.50", "4", "4500.50", "-3000.00"]

    # Savings count each sale between boroughs once: as the buyer's spend.
    savings = client.get("/api/v1/reports/savings?group_by=borough", headers=h["officer"]).json()
    assert savings["totals"]["contracts"] == 4
    assert savings["totals"]["contracted_value"] == "4500.50"
    assert savings["totals"]["saving"] == "800.00"  # 300 + 0 + 100 + 400
    by_buyer = {r["name"]: r["contracted_value"] for r in savings["rows"]}
    assert by_buyer == {"Hackney": "3200.00", "Camden": "1000.00", "Barnet": "300.50"}
    # The selling borough's own savings view: its purchases, never its sales.
    mine = client.get("/api/v1/reports/savings", headers=h["camden"]).json()
    assert mine["totals"]["contracts"] == 1 and mine["totals"]["contracted_value"] == "1000.00"
    by_seller = client.get("/api/v1/reports/savings?group_by=provider",
                           headers=h["officer"]).json()
    assert {r["name"]: r["contracts"] for r in by_seller["rows"]} == {
        "Camden": 2, "Thames Vaults Ltd": 2}

    # The page: chart and table of the same figures.
    client.cookies.set("lap_session", h["officer"]["Authorization"].removeprefix("Bearer "))
    page = client.get("/income")
    assert page.status_code == 200
    assert 'id="income-chart"' in page.text and 'id="income-table"' in page.text
    assert "£500.50" in page.text and "-£3,000.00" in page.text
    csv_page = client.get("/income.csv")
    assert csv_page.status_code == 200 and csv_page.text == download.text
    client.cookies.set("lap_session", h["seller"]["Authorization"].removeprefix("Bearer "))
    assert client.get("/income").status_code == 403
    client.cookies.clear()
