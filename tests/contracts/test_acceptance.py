"""Acceptance by both parties, and who may see and download a contract."""

from __future__ import annotations

import hashlib

from sqlmodel import col, func, select

from lap_market.audit.models import AuditEvent
from lap_market.contracts.models import Contract, ContractDocument
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import contracts as cf


def test_both_parties_accept_and_the_pdf_shows_who_and_when(session, client, app) -> None:
    awarded = cf.awarded_lot(session)
    contracts = cf.issued_call_offs(session, awarded)
    camden_manager = acc.manager(session, "E09000007")
    hackney_manager = acc.manager(session, "E09000012")
    stranger = acc.provider(session)
    session.commit()
    camden = next(c for c in contracts if c.reference.endswith("C01"))
    url = f"/api/v1/contracts/{camden.id}"
    issued_sha = camden.pdf_sha256

    def written() -> tuple[object, ...]:
        """What an acceptance writes: audit events, the record's acceptance and its PDF."""
        session.expire_all()
        row = session.get(Contract, camden.id)
        documents = session.exec(
            select(ContractDocument).where(ContractDocument.contract_id == camden.id)
            .order_by(col(ContractDocument.version))).all()
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        assert row is not None
        return (events, row.status, row.buyer_accepted_at, row.supplier_accepted_at,
                row.pdf_sha256, [(d.version, d.sha256) for d in documents])

    untouched = written()
    assert client.post(url + "/accept", headers=auth(app, hackney_manager)).status_code == 403
    assert client.post(url + "/accept", headers=auth(app, stranger)).status_code == 403
    assert client.post(url + "/accept", headers=auth(app, awarded.officer)).status_code == 403
    assert client.post("/api/v1/contracts/999999/accept",
                       headers=auth(app, camden_manager)).status_code == 404
    assert written() == untouched

    first = client.post(url + "/accept", headers=auth(app, camden_manager))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "issued"
    assert first.json()["buyer_acceptance"]["by_name"] == camden_manager.name
    assert first.json()["supplier_acceptance"] is None
    once = written()
    twice = client.post(url + "/accept", headers=auth(app, camden_manager))
    assert twice.status_code == 409
    assert "already accepted" in twice.json()["detail"]
    assert written() == once

    done = client.post(url + "/accept", headers=auth(app, awarded.provider))
    assert done.status_code == 200
    record = done.json()
    assert record["status"] == "active"
    assert record["supplier_acceptance"]["by_name"] == awarded.provider.name

    download = client.get(url + "/pdf", headers=auth(app, camden_manager))
    assert hashlib.sha256(download.content).hexdigest() == record["pdf_sha256"]
    assert record["pdf_sha256"] != issued_sha  # re-rendered with the acceptances
    text = flat(" ".join(pdf_pages(download.content)))
    assert f"Accepted by {camden_manager.name}" in text
    assert f"Accepted by {awarded.provider.name}" in text
    assert "Awaiting acceptance" not in text
    # The document as issued is kept unchanged as version 1; each acceptance added one.
    issued = client.get(url + "/pdf?version=1", headers=auth(app, camden_manager))
    assert issued.status_code == 200
    assert hashlib.sha256(issued.content).hexdigest() == issued_sha
    assert "Awaiting acceptance" in flat(" ".join(pdf_pages(issued.content)))
    assert [(d["version"], d["reason"]) for d in record["documents"]] == [
        (1, "issued"), (2, "accepted by the buyer"), (3, "accepted by the supplier")]
    assert record["documents"][-1]["sha256"] == record["pdf_sha256"]
    assert download.headers["X-Document-Version"] == "3"
    assert client.get(url + "/pdf?version=9", headers=auth(app, camden_manager)).status_code == 404
    assert client.get(url + "/pdf?version=1", headers=auth(app, hackney_manager)).status_code == 403
    # Every hash is kept in the audit trail too.
    accepted = session.exec(select(AuditEvent).where(
        AuditEvent.action == "contract.accepted", AuditEvent.object_id == str(camden.id))
        .order_by(col(AuditEvent.id))).all()
    assert accepted[0].details["previous_pdf_sha256"] == issued_sha
    assert accepted[-1].details["pdf_sha256"] == record["pdf_sha256"]
    actions = [e.action for e in session.exec(
        select(AuditEvent).where(AuditEvent.object_type == "contract",
                                 AuditEvent.object_id == str(camden.id)))]
    assert actions.count("contract.accepted") == 2 and actions.count("contract.activated") == 1


def test_only_parties_and_officers_see_a_contract_and_its_pdf(session, client, app) -> None:
    awarded = cf.awarded_lot(session)
    contracts = cf.issued_call_offs(session, awarded)
    people = {
        "camden": acc.manager(session, "E09000007"),
        "hackney": acc.manager(session, "E09000012"),
        "westminster": acc.manager(session, "E09000033"),
        "supplier": acc.provider(session, session.get(type(acc.lma(session)),
                                                      awarded.provider.organisation_id)),
        "other_provider": acc.provider(session),
        "officer": awarded.officer,
        "admin": acc.admin(session),
    }
    session.commit()
    camden = next(c for c in contracts if c.reference.endswith("C01"))
    expected = {"camden": 200, "hackney": 403, "westminster": 403, "supplier": 200,
                "other_provider": 403, "officer": 200, "admin": 403}
    for who, status in expected.items():
        headers = auth(app, people[who])
        pdf = client.get(f"/api/v1/contracts/{camden.id}/pdf", headers=headers)
        assert pdf.status_code == status, who
        assert client.get(f"/api/v1/contracts/{camden.id}", headers=headers).status_code == status
        if status == 200:
            assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/contracts/{camden.id}/pdf").status_code == 401

    def refs(who: str) -> set[str]:
        response = client.get("/api/v1/contracts", headers=auth(app, people[who]))
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == len(body["items"]) and body["page"] == 1
        return {c["reference"] for c in body["items"]}

    everything = {c.reference for c in contracts}
    assert refs("camden") == {camden.reference}
    assert len(refs("hackney")) == 1 and refs("hackney") != refs("camden")
    assert refs("westminster") == set() and refs("other_provider") == set()
    assert refs("supplier") == everything and refs("officer") == everything
