"""Issue 13 for needs: carried values, the detail and edit page with its history, receipts,
terms in the past refused (API and web), the CSV page's codes, labels and template."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from lap_market.clock import clock
from lap_market.demand.models import Demand
from tests.demand.test_pages import _csrf, _login
from tests.factories import accounts as f
from tests.factories.demand import csv_text, demand, payload


def test_the_need_form_is_prefilled_from_the_query(client, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    session.commit()
    _login(client, manager.email)
    page = client.get("/needs", params={"category": "storage", "unit": "box_year",
                                        "quantity": "240", "start_date": "2027-04-01",
                                        "end_date": "2030-03-31"})
    assert page.status_code == 200
    assert '<option value="storage:box_year" selected' in page.text
    for value in ('value="240"', 'value="2027-04-01"', 'value="2030-03-31"'):
        assert value in page.text


def test_raise_view_edit_and_withdraw_a_need_with_receipts(client, session: Session) -> None:
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    manager = f.manager(session, "E09000012")
    other = f.manager(session, "E09000007")
    session.commit()
    _login(client, manager.email)
    token = _csrf(client.get("/needs").text)
    raised = client.post("/needs", data={
        "csrf_token": token, "service": "storage:box_year", "quantity": "240",
        "start_date": "2027-04-01", "end_date": "2030-03-31", "specification": "Strongroom",
        "budget_ceiling": "18000",
    }, follow_redirects=False)
    assert raised.status_code == 303
    need = session.exec(select(Demand)).one()
    assert raised.headers["location"] == f"/needs/{need.id}"
    page = client.get(raised.headers["location"]).text
    assert f"Need raised: D{need.id}: 240 box per year of Archive storage" in page
    assert "Strongroom" in page and "£18,000.00" in page and "Back to our needs" in page
    assert 'id="need-history"' in page and "Raised" in page

    changed = client.post(f"/needs/{need.id}", data={
        "csrf_token": token, "service": "storage:box_year", "quantity": "300",
        "start_date": "2027-04-01", "end_date": "2030-03-31", "specification": "",
        "budget_ceiling": "",
    }, follow_redirects=False)
    assert changed.status_code == 303
    page = client.get(f"/needs/{need.id}").text
    assert f"Need changed: D{need.id}: 300 box per year" in page
    assert "Changed: " in page and "None given" in page  # the budget was cleared
    session.expire_all()
    stored = session.get(Demand, need.id)
    assert stored is not None and stored.budget_ceiling_pence is None

    past = client.post(f"/needs/{need.id}", data={
        "csrf_token": token, "service": "storage:box_year", "quantity": "300",
        "start_date": "2026-11-30", "end_date": "2030-03-31"})
    assert past.status_code == 422
    assert 'href="#f-start_date"' in past.text and "today (1 December 2026) or later" in past.text

    client.cookies.clear()
    _login(client, other.email)
    assert client.get(f"/needs/{need.id}").status_code == 404
    client.cookies.clear()
    _login(client, manager.email)
    token = _csrf(client.get("/needs").text)
    withdrawn = client.post(f"/needs/{need.id}/withdraw", data={"csrf_token": token},
                            follow_redirects=False)
    assert withdrawn.status_code == 303
    page = client.get(f"/needs/{need.id}").text
    assert "Withdrawn" in page and 'id="save-need"' not in page  # no longer editable


def test_a_term_in_the_past_is_refused_by_the_api_at_english_midnight(
    client, session: Session, app
) -> None:
    # 23:30 UTC on 14 July is already 15 July in England (BST).
    clock.set(datetime(2027, 7, 14, 23, 30, tzinfo=UTC))
    manager = f.manager(session, "E09000012")
    session.commit()
    headers = f.bearer(app, manager)
    late = client.post("/api/v1/demands", headers=headers, json=payload(
        start_date="2027-07-14", end_date="2028-07-13", needed_by=None))
    assert late.status_code == 422
    assert "start date" in late.json()["detail"].lower()
    today = client.post("/api/v1/demands", headers=headers, json=payload(
        start_date="2027-07-15", end_date="2028-07-14", needed_by=None))
    assert today.status_code == 201, today.text
    made = today.json()["id"]
    # A change that keeps a start date that has since passed is not refused for it.
    clock.set(datetime(2027, 8, 1, 9, tzinfo=UTC))
    kept = client.patch(f"/api/v1/demands/{made}", headers=f.bearer(app, manager),
                        json={"quantity": "130"})
    assert kept.status_code == 200, kept.text
    moved = client.patch(f"/api/v1/demands/{made}", headers=f.bearer(app, manager),
                         json={"start_date": "2027-07-20"})
    assert moved.status_code == 422


def test_csv_page_lists_codes_offers_a_template_and_takes_labels(
    client, session: Session
) -> None:
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    manager = f.manager(session, "E09000012")
    session.commit()
    _login(client, manager.email)
    page = client.get("/needs")
    codes = page.text.split('id="csv-codes"')[1].split("</table>")[0]
    for text in ("storage", "Archive storage", "box_year", "box per year", "delegate_place"):
        assert text in codes
    # "item" is a unit of conservation and of digitisation: one row for each.
    assert codes.count('<code class="lap-code">item</code>') == 2

    template = client.get("/demands/import/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(template.text)))
    assert rows[0] == ["category", "unit", "quantity", "start_date", "end_date", "needed_by",
                       "specification", "budget_ceiling"]
    assert [r[0] for r in rows[1:]] == ["storage", "conservation", "digitisation", "training"]
    assert all(date.fromisoformat(r[3]) > date(2026, 12, 1) for r in rows[1:])
    # The template as downloaded imports as it is.
    token = _csrf(page.text)
    ok = client.post("/needs/import", data={"csrf_token": token}, follow_redirects=False,
                     files={"file": ("template.csv", template.content, "text/csv")})
    assert ok.status_code == 303, ok.text

    labelled = csv_text([
        ["Archive storage", "Box per year", "12", "2027-04-01", "2030-03-31", "", "", ""],
        ["digitisation", "image", "500", "2026-11-30", "2027-03-31", "", "", ""],
    ])
    refused = client.post("/needs/import", data={"csrf_token": token},
                          files={"file": ("needs.csv", labelled.encode(), "text/csv")})
    assert refused.status_code == 422
    table = refused.text.split('id="row-errors"')[1]
    assert '<td data-label="Row">3</td><td data-label="Column">start_date</td>' in table
    assert '<td data-label="Row">2</td>' not in table  # the labels were understood
    fixed = csv_text([labelled.splitlines()[1].split(",")])
    ok = client.post("/needs/import", data={"csrf_token": token}, follow_redirects=False,
                     files={"file": ("needs.csv", fixed.encode(), "text/csv")})
    assert ok.status_code == 303
    assert "1 need raised from needs.csv" in client.get("/needs").text
    session.expire_all()
    assert len(session.exec(select(Demand)).all()) == 5


def test_an_officer_reads_any_need_but_cannot_edit(client, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    officer = f.officer(session)
    need = demand(session, manager, specification="Cold store")
    session.commit()
    _login(client, officer.email)
    page = client.get(f"/needs/{need.id}")
    assert page.status_code == 200 and "Cold store" in page.text
    assert 'id="save-need"' not in page.text and "Back to the demand pipeline" in page.text
