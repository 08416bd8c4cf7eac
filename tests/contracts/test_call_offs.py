"""Issuing call-offs from an award: the API, the PDFs, idempotence, all-or-nothing."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.contracts import call_offs, pdf
from lap_market.contracts.models import CallOffBatch, Contract, ContractDocument
from lap_market.demand.models import Demand
from lap_market.tenders.models import Award, AwardStatus, Lot, Tender
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import catalogue as cat
from tests.factories import contracts as cf
from tests.statements import on_statements


def _url(awarded: cf.AwardedLot) -> str:
    return f"/api/v1/tenders/{awarded.tender.id}/lots/{awarded.lot.id}/call-offs"


def test_call_offs_issue_one_contract_per_demand_with_exact_pdf(session, client, app) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "120"), ("E09000012", "80.5")])
    # The catalogue's best rate for a borough alone: 12.00 below 100 m, 10.00 from 100 m.
    cat.make_offer(session, acc.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
    camden_spec = session.exec(
        select(Demand).where(Demand.lot_id == awarded.lot.id).order_by(Demand.id)
    ).first()
    assert camden_spec is not None
    camden_spec.specification = 'Acid-free boxes <b>markup</b> & <img src="http://127.0.0.1:1/x">'
    session.add(camden_spec)
    session.commit()
    awarded.after_standstill()

    response = client.post(_url(awarded), headers=auth(app, awarded.officer))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["issued"] == 2
    assert body["lot_status"] == "contracted" and body["tender_status"] == "contracted"
    contracts = {c["buyer"]["gss_code"]: c for c in body["contracts"]}
    ref = awarded.tender.reference
    assert sorted(c["reference"] for c in body["contracts"]) == [f"{ref}-L1-C01", f"{ref}-L1-C02"]
    camden = contracts["E09000007"]
    # 2027-04-01..2028-03-31 is 366 days (a leap year): 120 × 9.50 × 366 / 365 = 1143.1232…
    assert camden["term_days"] == 366
    assert camden["unit_price"] == "9.50"
    assert camden["value"] == "1143.12"
    assert camden["vat"] == "228.62"
    assert camden["total"] == "1371.74"
    assert camden["supplier"]["id"] == awarded.provider.organisation_id
    assert camden["tender"]["award_id"] == awarded.award.id
    assert camden["status"] == "issued" and camden["payment_terms"].startswith("30 days")
    hackney = contracts["E09000012"]
    # 80.5 × 9.50 × 366 / 365 = 766.8486… → 766.85; VAT 153.37.
    assert (hackney["value"], hackney["vat"], hackney["total"]) == ("766.85", "153.37", "920.22")

    stored = session.exec(select(Contract).where(Contract.id == camden["id"])).one()
    # Alone, Camden's 120 m reach the 10.00 tier: 120 × 10 × 366 / 365 = 1203.29.
    assert stored.standalone_value_pence == 120329

    download = client.get(camden["pdf_url"], headers=auth(app, awarded.officer))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(download.content).hexdigest()
    assert digest == camden["pdf_sha256"] == download.headers["X-Content-SHA256"]
    again = client.get(camden["pdf_url"], headers=auth(app, awarded.officer))
    assert again.content == download.content

    pages = pdf_pages(download.content)
    text = flat(" ".join(pages))
    for expected in (
        f"{ref}-L1-C01", "Camden", "E09000007", awarded.tender.reference, "120",
        "linear metre per year", "£9.50", "£1,143.12", "VAT at 20% £228.62",
        "Total including VAT £1,371.74", "63121100-4", "30 days from receipt of a valid invoice",
        "governed by the law of England and Wales", "Data protection", "Liability",
        "Awaiting acceptance", "1 April 2027", "31 March 2028",
    ):
        assert expected in text, expected
    supplier_name = session.get(type(acc.lma(session)), awarded.provider.organisation_id).name
    assert supplier_name in text
    # The specification's markup is printed as text, and its URL was never fetched.
    assert "<b>markup</b> &" in text
    assert '<img src="http://127.0.0.1:1/x">' in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in flat(page)

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "contract.issued")).all()
    assert len(events) == 2
    contracted = session.exec(
        select(AuditEvent).where(AuditEvent.action == "demand.contracted")).all()
    assert len(contracted) == 2
    session.expire_all()
    demands = session.exec(select(Demand).where(Demand.lot_id == awarded.lot.id)).all()
    assert [d.status for d in demands] == ["contracted", "contracted"]

    # Issuing twice issues nothing new.
    second = client.post(_url(awarded), headers=auth(app, awarded.officer))
    assert second.status_code == 200
    assert second.json()["issued"] == 0
    assert {c["id"] for c in second.json()["contracts"]} == {c["id"] for c in body["contracts"]}
    assert len(session.exec(select(Contract)).all()) == 2

    progress = client.get(_url(awarded) + "/progress", headers=auth(app, awarded.officer))
    assert progress.status_code == 200
    assert progress.json()["status"] == "done"
    assert progress.json()["done"] == progress.json()["total"]


def test_standstill_unawarded_and_roles_are_refused_without_writing(session, client, app) -> None:
    awarded = cf.awarded_lot(session)
    manager = acc.manager(session)
    unawarded = cf.awarded_lot(session, demands=[("E09000001", "10")])
    session.commit()
    # Still in standstill: late on its last day.
    clock.set(datetime.combine(awarded.award.standstill_ends, time(17), UTC))
    refused = client.post(_url(awarded), headers=auth(app, awarded.officer))
    assert refused.status_code == 409
    assert refused.json()["standstill_ends"] == awarded.award.standstill_ends.isoformat()

    awarded.after_standstill()
    assert client.post(_url(awarded), headers=auth(app, manager)).status_code == 403
    assert client.post(_url(awarded), headers=auth(app, awarded.provider)).status_code == 403
    missing = f"/api/v1/tenders/{awarded.tender.id}/lots/{unawarded.lot.id}/call-offs"
    assert client.post(missing, headers=auth(app, awarded.officer)).status_code == 404

    # A lot without an award: 409.
    award = session.get(Award, unawarded.award.id)
    assert award is not None
    award.status = AwardStatus.REVOKED
    session.add(award)
    session.commit()
    no_award = client.post(_url(unawarded), headers=auth(app, awarded.officer))
    assert no_award.status_code == 409
    assert "not been awarded" in no_award.json()["detail"]
    assert no_award.json()["field"] == "lot_id"
    assert session.exec(select(Contract)).all() == []
    assert session.exec(select(ContractDocument)).all() == []
    assert session.exec(select(CallOffBatch)).all() == []
    assert session.exec(select(AuditEvent).where(
        col(AuditEvent.action).in_(["contract.issued", "lot.contracted", "demand.contracted"])
    )).all() == []


def test_a_failing_pdf_leaves_no_half_issued_lot(session, client, app, monkeypatch) -> None:
    awarded = cf.awarded_lot(
        session, demands=[("E09000007", "10"), ("E09000012", "20"), ("E09000019", "30")]
    )
    session.commit()
    awarded.after_standstill()
    real = pdf.render_contract_pdf
    calls = {"n": 0}

    def fail_on_third(context):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full while rendering")
        return real(context)

    monkeypatch.setattr(pdf, "render_contract_pdf", fail_on_third)
    with pytest.raises(RuntimeError):
        client.post(_url(awarded), headers=auth(app, awarded.officer))
    session.expire_all()
    assert session.exec(select(Contract)).all() == []
    assert session.exec(select(ContractDocument)).all() == []
    lot = session.get(Lot, awarded.lot.id)
    tender = session.get(Tender, awarded.tender.id)
    assert lot is not None and lot.status == "awarded"
    assert tender is not None and tender.status == "awarded"
    statuses = {d.status for d in session.exec(select(Demand).where(Demand.lot_id == lot.id))}
    assert statuses == {"in_tender"}
    batch = session.exec(select(CallOffBatch)).one()
    assert batch.status == "failed" and batch.done == 2 and batch.total == 3
    assert "disk full" in (batch.error or "")

    # Once the renderer works again the same lot issues in full.
    monkeypatch.setattr(pdf, "render_contract_pdf", real)
    ok = client.post(_url(awarded), headers=auth(app, awarded.officer))
    assert ok.status_code == 201 and ok.json()["issued"] == 3


def test_service_reports_progress_and_skips_existing(session) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "5"), ("E09000012", "7")])
    awarded.after_standstill()
    seen: list[tuple[int, int]] = []
    result = call_offs.issue_call_offs(
        session, awarded.officer, tender_id=awarded.tender.id,  # type: ignore[arg-type]
        lot_id=awarded.lot.id, progress=lambda d, t: seen.append((d, t)),  # type: ignore[arg-type]
    )
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert [c.quantity for c in result.issued] == [Decimal("5"), Decimal("7")]
    again = call_offs.issue_call_offs(
        session, awarded.officer, tender_id=awarded.tender.id,  # type: ignore[arg-type]
        lot_id=awarded.lot.id,  # type: ignore[arg-type]
    )
    assert again.issued == [] and len(again.contracts) == 2


def test_two_officers_issuing_at_once_issue_each_call_off_once(session, app) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "5"), ("E09000012", "7")])
    second_officer = acc.officer(session)
    session.commit()
    awarded.after_standstill()
    ids = (awarded.tender.id, awarded.lot.id)
    officer_ids = [awarded.officer.id, second_officer.id]
    barrier = threading.Barrier(2)
    issued: list[int] = []
    failures: list[BaseException] = []

    def issue(officer_id: int) -> None:
        with Session(app.state.engine) as own:
            officer = own.get(type(awarded.officer), officer_id)
            barrier.wait()
            try:
                result = call_offs.issue_call_offs(
                    own, officer, tender_id=ids[0], lot_id=ids[1]  # type: ignore[arg-type]
                )
                own.commit()
                issued.append(len(result.issued))
            except BaseException as exc:  # noqa: BLE001 - reported below
                own.rollback()
                failures.append(exc)

    threads = [threading.Thread(target=issue, args=(o,)) for o in officer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(issued) == [0, 2]
    session.expire_all()
    assert len(session.exec(select(Contract)).all()) == 2
    assert len(session.exec(select(ContractDocument)).all()) == 2
    assert len(session.exec(
        select(AuditEvent).where(AuditEvent.action == "contract.issued")).all()) == 2


def test_list_and_call_off_pages_query_in_bulk(session, client, app) -> None:
    """The contracts list and the officer's awaiting-lots table cost the same number of
    queries for 2 contracts as for 8 (no query per row)."""

    from lap_market.accounts.deps import SESSION_COOKIE

    small = cf.awarded_lot(session, demands=[("E09000007", "5"), ("E09000012", "7")])
    cf.issued_call_offs(session, small)
    session.commit()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def queries(url: str) -> int:
        client.cookies.set(SESSION_COOKIE, acc.session_token(app, small.officer))
        statements.clear()
        with on_statements(app, count):
            assert client.get(url).status_code == 200
        return len(statements)

    before = queries("/contracts")
    lot_page = f"/tenders/{small.tender.id}/lots/{small.lot.id}/call-offs"
    before_lot = queries(lot_page)
    big = cf.awarded_lot(session, officer=small.officer, provider=small.provider, demands=[
        (gss, "3") for gss in ("E09000001", "E09000002", "E09000003", "E09000004",
                               "E09000005", "E09000006")])
    cf.issued_call_offs(session, big)
    # Two more awarded lots still waiting for call-offs show in the officer's table.
    cf.awarded_lot(session, officer=small.officer, provider=small.provider)
    cf.awarded_lot(session, officer=small.officer, provider=small.provider,
                   demands=[("E09000009", "4")])
    session.commit()
    after = queries("/contracts")
    assert after <= before + 2, (before, after)
    big_lot = queries(f"/tenders/{big.tender.id}/lots/{big.lot.id}/call-offs")
    assert big_lot <= before_lot + 2, (before_lot, big_lot)
