"""Issue 13: contracts a council would sign. Legal details recorded by an admin (API and
page), the PDF naming the parties by them with the PO number and each signatory's name, job
title and time; acceptance through a confirmation step with a receipt; an officer recording
the PO number before the buyer accepts; the cheaper-offer warning on the commission form."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from lap_market.accounts.models import Organisation
from lap_market.accounts.security import csrf_token_for
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.contracts.models import Contract
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import catalogue as cat
from tests.factories import contracts as cf

CSRF = "c" * 32


def _browser(client, app, user) -> str:  # type: ignore[no-untyped-def]
    """Sign ``client`` in as ``user`` (cookies) and return a CSRF token for its forms."""
    client.cookies.clear()
    client.cookies.set("lap_session", acc.session_token(app, user))
    client.cookies.set("lap_csrf", CSRF)
    return csrf_token_for(app.state.settings.secret_key, CSRF)


def test_admin_records_legal_details_through_the_api(session, client, app) -> None:
    admin = acc.admin(session)
    officer = acc.officer(session)
    hackney = acc.borough(session, "E09000012")
    session.commit()
    url = f"/api/v1/organisations/{hackney.id}"
    # The councils' official names are seeded by migration 0004_legal.
    listed = client.get("/api/v1/organisations", headers=auth(app, admin)).json()
    names = {o["name"]: o["legal_name"] for o in listed}
    assert names["Hackney"] == "London Borough of Hackney"
    assert names["Greenwich"] == "Royal Borough of Greenwich"
    assert names["Westminster"] == "City of Westminster"
    assert names["City of London"] == "City of London Corporation"
    assert names["London Metropolitan Archives"] == "City of London Corporation"

    assert client.patch(url, headers=auth(app, officer), json={"vat_number": "GB123456789"}
                        ).status_code == 403
    bad = client.patch(url, headers=auth(app, admin), json={"vat_number": "12"})
    assert bad.status_code == 422 and "vat_number" in bad.text
    assert client.patch("/api/v1/organisations/999999", headers=auth(app, admin),
                        json={"address": "x"}).status_code == 404
    done = client.patch(url, headers=auth(app, admin), json={
        "address": "Hackney Town Hall\nMare Street\nLondon\nE8 1EA",
        "vat_number": "gb 123 4567 89", "contact_name": "Hamid Hackney",
        "contact_email": "Contracts@Hackney.example", "contact_phone": "020 8356 0000",
    })
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["vat_number"] == "GB123456789" and body["legal_name"] == "London Borough of Hackney"
    assert body["contact_email"] == "contracts@hackney.example"
    cleared = client.patch(url, headers=auth(app, admin), json={"contact_phone": ""}).json()
    assert cleared["contact_phone"] is None and cleared["vat_number"] == "GB123456789"
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "organisation.updated")).all()
    assert len(events) == 2 and events[0].details["vat_number"] == "GB123456789"
    # Users carry a job title, set by an admin, printed under a signatory's name.
    titled = client.patch(f"/api/v1/users/{officer.id}", headers=auth(app, admin),
                          json={"job_title": "Senior Procurement Officer"})
    assert titled.status_code == 200 and titled.json()["job_title"] == "Senior Procurement Officer"
    untitled = client.patch(f"/api/v1/users/{officer.id}", headers=auth(app, admin),
                            json={"job_title": ""})
    assert untitled.json()["job_title"] is None


def test_admin_edits_legal_details_and_job_titles_on_the_pages(session, client, app) -> None:
    admin = acc.admin(session)
    manager = acc.manager(session, "E09000012")
    session.commit()
    token = _browser(client, app, admin)
    page = client.get("/admin/organisations")
    assert "London Borough of Hackney" in page.text and 'data-label="Legal name"' in page.text
    hackney = session.exec(select(Organisation).where(Organisation.gss_code == "E09000012")).one()
    form = client.get(f"/admin/organisations/{hackney.id}")
    assert form.status_code == 200 and "Back to organisations" in form.text
    bad = client.post(f"/admin/organisations/{hackney.id}", data={
        "csrf_token": token, "legal_name": "London Borough of Hackney", "company_number": "x"})
    assert bad.status_code == 422 and 'href="#f-company_number"' in bad.text
    saved = client.post(f"/admin/organisations/{hackney.id}", data={
        "csrf_token": token, "legal_name": "London Borough of Hackney",
        "address": "Mare Street\r\nLondon", "vat_number": "GB000000202", "company_number": "",
        "contact_name": "", "contact_email": "", "contact_phone": ""}, follow_redirects=False)
    assert saved.status_code == 303
    assert "Saved the legal details of Hackney" in client.get(saved.headers["location"]).text
    titled = client.post(f"/admin/users/{manager.id}/job-title", data={
        "csrf_token": token, "job_title": "Head of Archives"}, follow_redirects=False)
    assert titled.status_code == 303
    session.expire_all()
    assert session.get(type(manager), manager.id).job_title == "Head of Archives"  # type: ignore[union-attr]


def test_the_pdf_names_parties_po_number_and_signatories(session, client, app) -> None:
    awarded = cf.awarded_lot(session)
    contracts = cf.issued_call_offs(session, awarded)
    camden_manager = acc.manager(session, "E09000007")
    camden_manager.job_title = "Borough Archivist"
    awarded.provider.job_title = "Operations Director"
    supplier = session.get(Organisation, awarded.provider.organisation_id)
    assert supplier is not None
    supplier.legal_name, supplier.company_number = "Thames Records Storage Ltd", "01234567"
    supplier.address, supplier.vat_number = "Unit 4, Riverside Park\nLondon SE16 0AA", "GB111222333"
    camden = session.exec(select(Organisation).where(Organisation.gss_code == "E09000007")).one()
    camden.address, camden.contact_name = "5 Pancras Square\nLondon N1C 4AG", "Chloe Camden"
    camden.contact_email = "contracts@camden.example"
    session.commit()
    contract = next(c for c in contracts if c.buyer_id == camden.id)
    url = f"/api/v1/contracts/{contract.id}"

    supplier_po = client.post(url + "/accept", headers=auth(app, awarded.provider),
                              json={"po_number": "PO-1"})
    assert supplier_po.status_code == 422  # only the buyer gives one
    clock.set(datetime(2026, 11, 20, 14, 5, tzinfo=UTC))
    bad = client.post(url + "/accept", headers=auth(app, camden_manager),
                      json={"po_number": "PO\n1"})
    assert bad.status_code == 422
    first = client.post(url + "/accept", headers=auth(app, camden_manager),
                        json={"po_number": "CAM-PO-4471"})
    assert first.status_code == 200, first.text
    assert first.json()["po_number"] == "CAM-PO-4471"
    clock.set(datetime(2026, 11, 21, 9, 30, tzinfo=UTC))
    assert client.post(url + "/accept", headers=auth(app, awarded.provider)).status_code == 200

    text = flat(" ".join(pdf_pages(client.get(url + "/pdf", headers=auth(app, camden_manager))
                                   .content)))
    for expected in (
        "London Borough of Camden", "5 Pancras Square London N1C 4AG",
        "Contracts contact: Chloe Camden, contracts@camden.example",
        "Thames Records Storage Ltd", "Unit 4, Riverside Park London SE16 0AA",
        "VAT number GB111222333", "Company number 01234567",
        "Purchase-order number CAM-PO-4471", "purchase-order number CAM-PO-4471",
        f"Accepted by {camden_manager.name} Borough Archivist on 20 November 2026 at 14:05 GMT",
        f"Accepted by {awarded.provider.name} Operations Director on 21 November 2026 at "
        "09:30 GMT",
    ):
        assert expected in text, expected
    assert "For the buyer: London Borough of Camden" in text


def test_accepting_on_the_page_confirms_then_gives_a_receipt(session, client, app) -> None:
    awarded = cf.awarded_lot(session)
    contracts = cf.issued_call_offs(session, awarded)
    camden_manager = acc.manager(session, "E09000007")
    session.commit()
    contract = next(c for c in contracts if c.reference.endswith("C01"))
    token = _browser(client, app, awarded.officer)
    # An officer records the PO number before the buyer accepts; the PDF is re-rendered.
    recorded = client.post(f"/contracts/{contract.id}/po-number", data={
        "csrf_token": token, "po_number": "CAM 0099"}, follow_redirects=False)
    assert recorded.status_code == 303
    assert "Purchase order CAM 0099 recorded" in client.get(recorded.headers["location"]).text

    token = _browser(client, app, camden_manager)
    detail = client.get(f"/contracts/{contract.id}")
    # The button on the contract leads to the confirmation step; it accepts nothing itself.
    assert f'method="get" action="/contracts/{contract.id}/accept"' in detail.text
    confirm = client.get(f"/contracts/{contract.id}/accept")
    assert confirm.status_code == 200
    assert f"Accept contract {contract.reference}?" in confirm.text
    assert 'value="CAM 0099"' in confirm.text
    session.expire_all()
    assert session.get(Contract, contract.id).buyer_accepted_at is None  # type: ignore[union-attr]
    bad = client.post(f"/contracts/{contract.id}/accept",
                      data={"csrf_token": token, "po_number": "<script>"})
    assert bad.status_code == 422 and 'href="#f-po_number"' in bad.text
    done = client.post(f"/contracts/{contract.id}/accept",
                       data={"csrf_token": token, "po_number": "CAM-0100"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/contracts/{contract.id}"
    receipt = client.get(done.headers["location"]).text
    assert f"You accepted contract {contract.reference} with purchase order CAM-0100" in receipt
    again = client.post(f"/contracts/{contract.id}/accept",
                        data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 422 and "already accepted" in again.text
    # Once the buyer has accepted, its PO number stands.
    token = _browser(client, app, awarded.officer)
    late = client.post(f"/contracts/{contract.id}/po-number",
                       data={"csrf_token": token, "po_number": "OTHER"})
    assert late.status_code == 422 and "already accepted" in late.text


def test_commission_form_warns_of_a_cheaper_live_offer(session, client, app) -> None:
    clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    dear = cat.make_offer(session, acc.lma(session), category="conservation", unit="hour",
                          tiers=[("1", "45.00")], title="Studio hours")
    cheap = cat.make_offer(session, acc.contractor(session, "Bankside Conservation Studio"),
                           category="conservation", unit="hour",
                           tiers=[("1", "50.00"), ("50", "38.00")], title="Bench hours")
    manager = acc.manager(session)
    session.commit()
    _browser(client, app, manager)
    term = {"start_date": "2027-01-04", "end_date": "2027-03-31"}
    small = client.get(f"/catalogue/offers/{dear.id}/commission", params={"quantity": "10", **term})
    assert small.status_code == 200 and 'id="cheaper-offer"' not in small.text
    large = client.get(f"/catalogue/offers/{dear.id}/commission", params={"quantity": "60", **term})
    warning = large.text.split('id="cheaper-offer"')[1].split("</div>")[0]
    assert "Bench hours" in warning and "Bankside Conservation Studio" in warning
    assert "£38.00" in warning and "£45.00" in warning
    assert f"/catalogue/offers/{cheap.id}?quantity=60" in warning
    own = client.get(f"/catalogue/offers/{cheap.id}/commission", params={"quantity": "60", **term})
    assert 'id="cheaper-offer"' not in own.text
