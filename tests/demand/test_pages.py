"""The demand and aggregation pages without JavaScript: plain forms, errors beside fields,
the CSV row-error table, the pipeline's HTMX block, the preview writing nothing."""

from __future__ import annotations

import re

from sqlmodel import Session, func, select

from lap_market.demand.models import Demand
from lap_market.tenders.models import Tender
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.factories.demand import csv_text, demand


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client, email: str) -> None:  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": f.PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_needs_form_csv_errors_and_withdraw(client, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    session.commit()
    _login(client, manager.email)
    page = client.get("/needs")
    assert page.status_code == 200 and "Our needs" in page.text
    token = _csrf(page.text)

    bad = client.post("/needs", data={"csrf_token": token, "service": "training:delegate_place",
                                      "quantity": "2.5", "start_date": "2027-04-01",
                                      "end_date": "2027-03-01"})
    assert bad.status_code == 422
    assert 'href="#f-quantity"' in bad.text and "whole number" in bad.text
    missing = client.post("/needs", data={"csrf_token": token, "quantity": "4"})
    assert missing.status_code == 422 and "Choose a service and unit" in missing.text

    good = client.post("/needs", data={
        "csrf_token": token, "service": "storage:linear_metre_year", "quantity": "75",
        "start_date": "2027-04-01", "end_date": "2030-03-31", "specification": "Strongroom",
    }, follow_redirects=False)
    assert good.status_code == 303

    upload = csv_text([
        ["storage", "box_year", "10.5", "2027-04-01", "2030-03-31", "", "", ""],
        ["digitisation", "image", "9000", "2027-31-01", "2028-03-31", "", "", ""],
    ])
    refused = client.post("/needs/import", data={"csrf_token": token},
                          files={"file": ("needs.csv", upload.encode(), "text/csv")})
    assert refused.status_code == 422
    table = refused.text.split('id="row-errors"')[1]
    # Phone-width markup (issue 13): each cell carries its column's label.
    assert ('<td data-label="Row">2</td><td data-label="Column">quantity</td>' in table
            and '<td data-label="Row">3</td><td data-label="Column">start_date</td>' in table)

    ok = client.post("/needs/import", data={"csrf_token": token}, follow_redirects=False,
                     files={"file": ("needs.csv", csv_text([
                         ["training", "course_day", "3", "2027-05-01", "2027-05-31", "", "", ""],
                     ]).encode(), "text/csv")})
    # Issue 13: back to the list with a receipt saying how many lines were raised.
    assert ok.status_code == 303 and ok.headers["location"] == "/needs"
    assert "1 need raised from needs.csv" in client.get("/needs").text
    session.expire_all()
    ids = sorted(d.id for d in session.exec(select(Demand)).all())
    assert len(ids) == 2
    withdrawn = client.post(f"/needs/{ids[0]}/withdraw", data={"csrf_token": token},
                            follow_redirects=False)
    assert withdrawn.status_code == 303
    session.expire_all()
    assert session.get(Demand, ids[0]).status == "withdrawn"  # type: ignore[union-attr]
    assert client.get("/pipeline").status_code == 403


def test_pipeline_preview_and_draft(client, session: Session) -> None:
    camden, hackney = f.manager(session, "E09000007"), f.manager(session, "E09000012")
    officer = f.officer(session)
    make_offer(session, f.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
    demand(session, camden, quantity=60)
    demand(session, hackney, quantity=50)
    demand(session, hackney, category="training", unit="delegate_place", quantity=5)
    session.commit()
    _login(client, officer.email)

    page = client.get("/pipeline")
    assert page.status_code == 200 and 'id="pipeline-summary"' in page.text
    fragment = client.get("/pipeline", params={"category": "storage"},
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Camden" in fragment.text and "delegate place" not in fragment.text

    preview = client.get("/pipeline/aggregate", params={"category": "storage"})
    assert preview.status_code == 200
    # 110 m at £10.00 over 1 Apr 2027 – 31 Mar 2030 (1,096 days, a leap day included):
    # 110 × 10 × 1096/365 = 3,303.0137… → 3,303.01; alone at £12.00: 110 × 12 × 1096/365
    # = 3,963.6164… → 3,963.62; saving 660.61.
    amounts = re.findall(r"£[\d,.]+", preview.text.split('id="preview-lots"')[1])
    assert amounts[:3] == ["£3,303.01", "£3,963.62", "£660.61"], amounts
    assert session.exec(select(func.count()).select_from(Tender)).one() == 0

    created = client.post("/pipeline/aggregate", follow_redirects=False, data={
        "csrf_token": _csrf(preview.text), "category": "storage", "unit": "",
        "needed_by_from": "", "needed_by_to": "", "title": "Storage together",
    })
    assert created.status_code == 303
    editor = client.get(created.headers["location"])
    assert editor.status_code == 200 and "Storage together" in editor.text
    assert "Lot 1: Storage – linear metre per year" in editor.text
    nothing = client.post("/pipeline/aggregate", data={
        "csrf_token": _csrf(preview.text), "category": "storage"})
    assert nothing.status_code == 422 and "No submitted demand matches" in nothing.text
