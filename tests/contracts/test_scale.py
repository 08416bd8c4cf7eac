"""Past a thousand contracts: totals come from the database, lists are paged, and direct
references keep counting past 9999 without colliding, even when two are made at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.contracts import direct, service
from lap_market.contracts.models import Contract, ContractKind, ContractStatus
from lap_market.contracts.schemas import DirectCommissionCreate
from lap_market.money import format_gbp, from_pence
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import catalogue as cat

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
CAMDEN_CONTRACTS = 1234
HACKNEY_CONTRACTS = 17


def _storage(session: Session) -> tuple[int, int]:
    category, unit = cat.category_unit(session, "storage", "box_year")
    return category.id, unit.id  # type: ignore[return-value]


def _rows(
    kind: tuple[int, int], buyer_id: int, supplier_id: int, issuer: User, count: int, *, start: int
) -> list[dict[str, Any]]:
    """Contract rows for a bulk insert; every third active, every fifth accepted by the buyer."""
    category, unit = kind
    rows = []
    for i in range(start, start + count):
        active = i % 3 == 0
        rows.append(
            {
                "reference": f"LAP-T-{i:06d}", "kind": ContractKind.CALL_OFF,
                "buyer_id": buyer_id, "supplier_id": supplier_id,
                "category_id": category, "unit_id": unit, "description": "Storage",
                "quantity": Decimal("1.00"), "unit_price_pence": 100 + i, "value_pence": 100 + i,
                "vat_pence": 0, "total_pence": 100 + i, "start_date": date(2027, 1, 1),
                "end_date": date(2027, 12, 31), "payment_terms": "30 days",
                "status": ContractStatus.ACTIVE if active else ContractStatus.ISSUED,
                "issued_at": NOW, "issued_by_id": issuer.id,
                "buyer_accepted_at": NOW if active or i % 5 == 0 else None,
                "buyer_accepted_by_id": None, "pdf_sha256": "",
            }
        )
    return rows


def _bulk_contracts(session: Session) -> dict[str, Any]:
    officer = acc.officer(session)
    camden, hackney = acc.manager(session, "E09000007"), acc.manager(session, "E09000012")
    supplier = acc.provider(session, acc.lma(session))
    kind = _storage(session)
    camden_rows = _rows(kind, camden.organisation_id, supplier.organisation_id, officer,
                        CAMDEN_CONTRACTS, start=0)
    hackney_rows = _rows(kind, hackney.organisation_id, supplier.organisation_id, officer,
                         HACKNEY_CONTRACTS, start=CAMDEN_CONTRACTS)
    session.execute(sa.insert(Contract), camden_rows + hackney_rows)
    session.commit()
    return {"officer": officer, "camden": camden, "hackney": hackney, "supplier": supplier,
            "camden_rows": camden_rows, "all_rows": camden_rows + hackney_rows}


def test_totals_and_pages_are_right_past_a_thousand_contracts(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    world = _bulk_contracts(session)
    mine, everything = world["camden_rows"], world["all_rows"]
    assert len(mine) > 1000

    summary = service.summarise(session, world["camden"])
    assert summary.count == CAMDEN_CONTRACTS
    assert summary.total_value == from_pence(sum(r["value_pence"] for r in mine))
    assert summary.active == sum(1 for r in mine if r["status"] == ContractStatus.ACTIVE)
    assert summary.awaiting_acceptance == CAMDEN_CONTRACTS - summary.active
    assert summary.awaiting_us == sum(
        1 for r in mine if r["status"] == ContractStatus.ISSUED and r["buyer_accepted_at"] is None
    )
    assert len(summary.to_accept) == 5
    officer_summary = service.summarise(session, world["officer"])
    assert officer_summary.count == len(everything)
    assert officer_summary.total_value == from_pence(sum(r["value_pence"] for r in everything))
    supplier_summary = service.summarise(session, world["supplier"])
    assert supplier_summary.awaiting_us == supplier_summary.awaiting_acceptance  # none accepted

    # The API pages through all of them, newest first, with the same total.
    r = client.get("/api/v1/contracts?page=13&page_size=100", headers=auth(app, world["camden"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["page"], body["page_size"]) == (CAMDEN_CONTRACTS, 13, 100)
    assert len(body["items"]) == CAMDEN_CONTRACTS - 1200
    assert body["items"][-1]["reference"] == "LAP-T-000000"
    first = client.get("/api/v1/contracts", headers=auth(app, world["officer"])).json()
    assert first["total"] == len(everything) and len(first["items"]) == 50
    active = client.get("/api/v1/contracts?status=active&page_size=1",
                        headers=auth(app, world["camden"])).json()
    assert active["total"] == summary.active
    assert client.get("/api/v1/contracts?page_size=201",
                      headers=auth(app, world["camden"])).status_code == 422

    # The savings report totals every one of them too.
    report = client.get("/api/v1/reports/savings", headers=auth(app, world["camden"])).json()
    assert report["totals"]["contracts"] == CAMDEN_CONTRACTS
    assert report["totals"]["contracted_value"] == f"{summary.total_value:.2f}"
    everyone = client.get("/api/v1/reports/savings", headers=auth(app, world["officer"])).json()
    assert everyone["totals"]["contracts"] == len(everything)

    # The pages show the database's totals and page through the list.
    client.cookies.set(SESSION_COOKIE, auth(app, world["camden"])["Authorization"][7:])
    dashboard = client.get("/").text
    assert format_gbp(summary.total_value) in dashboard
    listing = client.get("/contracts").text
    assert f"{CAMDEN_CONTRACTS} in all" in listing and "Page 1 of 25" in listing
    assert "LAP-T-001233" in listing and "LAP-T-000000" not in listing
    last = client.get("/contracts?page=25").text
    assert "LAP-T-000000" in last and "Page 25 of 25" in last
    client.cookies.clear()


def _direct_row(
    kind: tuple[int, int], buyer_id: int, supplier_id: int, issuer: User, number: int
) -> dict[str, Any]:
    row = _rows(kind, buyer_id, supplier_id, issuer, 1, start=number)[0]
    return {**row, "kind": ContractKind.DIRECT, "reference": f"LAP-DC-2026-{number:04d}",
            "reference_number": number}


def _offer(session: Session, title: str) -> Any:
    return cat.make_offer(
        session, acc.lma(session), category="conservation", unit="hour",
        tiers=[("1", "45.00")], capacity=None, title=title,
        valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31),
    )


def test_direct_references_count_past_9999(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    officer, camden = acc.officer(session), acc.manager(session, "E09000007")
    offer = _offer(session, "Studio hours")
    kind = _storage(session)
    # As strings "…-9999" sorts after "…-10000": the old maximum would hand out 10000 again.
    session.execute(sa.insert(Contract), [
        _direct_row(kind, camden.organisation_id, offer.provider_id, officer, n)
        for n in (9999, 10000)
    ])
    session.commit()
    body = {"offer_id": offer.id, "quantity": "2", "start_date": "2027-01-04",
            "end_date": "2027-03-31"}
    r = client.post("/api/v1/contracts", json=body, headers=auth(app, camden))
    assert r.status_code == 201, r.text
    assert r.json()["reference"] == "LAP-DC-2026-10001"
    r = client.post("/api/v1/contracts", json=body, headers=auth(app, camden))
    assert r.json()["reference"] == "LAP-DC-2026-10002"


def test_two_commissions_at_once_get_the_next_two_references(session, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    managers = [acc.manager(session, "E09000007"), acc.manager(session, "E09000012")]
    # Two offers, so neither commission waits on the other's capacity update.
    offers = [_offer(session, "Studio hours A"), _offer(session, "Studio hours B")]
    session.commit()
    jobs = [(m.id, o.id) for m, o in zip(managers, offers, strict=True)]
    barrier = threading.Barrier(2)
    references: list[str] = []
    errors: list[BaseException] = []

    def commission(manager_id: int, offer_id: int) -> None:
        with Session(app.state.engine) as own:
            actor = own.get(User, manager_id)
            data = DirectCommissionCreate(offer_id=offer_id, quantity=Decimal("3"),
                                          start_date=date(2027, 1, 4), end_date=date(2027, 2, 26))
            barrier.wait()
            try:
                contract = direct.commission_offer(own, actor, data=data, settings=app.state.settings)  # type: ignore[arg-type]
                reference = contract.reference
                own.commit()
                references.append(reference)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                own.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=commission, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sorted(references) == ["LAP-DC-2026-0001", "LAP-DC-2026-0002"]
    session.expire_all()
    stored = session.exec(select(Contract.reference_number).order_by(Contract.id)).all()
    assert sorted(stored) == [1, 2]  # type: ignore[type-var]
