"""Aggregation through the API: lots, the three figures against hand-computed values,
double-pool protection, release on delete, lot moves with recomputed figures, roles."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, func, select

from lap_market.aggregation import service
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.demand.models import Demand
from lap_market.errors import DomainError
from lap_market.tenders.models import Lot, Tender
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.factories.demand import demand

YEAR_2027 = (date(2027, 1, 1), date(2027, 12, 31))  # 365 days
APR_DEC_2027 = (date(2027, 4, 1), date(2027, 12, 31))  # 275 days


def _scenario(session: Session) -> dict[str, Any]:
    """Three boroughs' storage demand, two offers with different tiers, plus lines that fall
    into other lots."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    camden, hackney, islington = (
        f.manager(session, g) for g in ("E09000007", "E09000012", "E09000019")
    )
    officer = f.officer(session)
    # Offer A: £12.00 from 1, £10.00 from 100; no capacity limit.
    make_offer(session, f.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
    # Offer B: £13.00 from 1, £11.00 from 50, £9.50 from 120; capacity 200.
    make_offer(
        session,
        f.contractor(session),
        tiers=[("1", "13.00"), ("50", "11.00"), ("120", "9.50")],
        capacity="200",
    )
    # Conservation hours: C is cheap but holds only 100 hours; D has room.
    make_offer(
        session,
        f.contractor(session),
        category="conservation",
        unit="hour",
        tiers=[("1", "40.00")],
        capacity="100",
    )
    make_offer(
        session,
        f.contractor(session),
        category="conservation",
        unit="hour",
        tiers=[("1", "50.00"), ("100", "45.00")],
    )
    lines = {
        "camden": demand(
            session, camden, quantity=60, start_date=YEAR_2027[0], end_date=YEAR_2027[1]
        ),
        "hackney": demand(
            session, hackney, quantity=30, start_date=YEAR_2027[0], end_date=YEAR_2027[1]
        ),
        "islington": demand(
            session, islington, quantity=40, start_date=APR_DEC_2027[0], end_date=APR_DEC_2027[1]
        ),
        # Storage again, but starting after every 2027 term has ended: a lot of its own.
        "hackney_2029": demand(
            session, hackney, quantity=20, start_date=date(2029, 1, 1), end_date=date(2029, 12, 31)
        ),
        # Boxes: no offer at all.
        "camden_boxes": demand(
            session,
            camden,
            unit="box_year",
            quantity=300,
            start_date=YEAR_2027[0],
            end_date=YEAR_2027[1],
        ),
        "camden_hours": demand(
            session,
            camden,
            category="conservation",
            unit="hour",
            quantity=60,
            start_date=YEAR_2027[0],
            end_date=YEAR_2027[1],
        ),
        "hackney_hours": demand(
            session,
            hackney,
            category="conservation",
            unit="hour",
            quantity=70,
            start_date=YEAR_2027[0],
            end_date=YEAR_2027[1],
        ),
    }
    session.commit()
    return {
        "officer": officer,
        "lines": {k: v.id for k, v in lines.items()},
        "managers": (camden, hackney, islington),
    }


def _stored(client, tender_id: int, headers: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The tender as ``GET`` reads it back, less the bid counts only that view adds."""
    view = client.get(f"/api/v1/tenders/{tender_id}", headers=headers).json()
    for lot in view["lots"]:
        assert lot["bid_count"] == 0
        lot["bid_count"] = None
    return dict(view)


def test_lots_and_hand_computed_figures(client, session: Session) -> None:
    s = _scenario(session)
    headers = f.token_headers(client, s["officer"].email)
    response = client.post(
        "/api/v1/tenders/aggregate", json={"title": "Joint storage 2027"}, headers=headers
    )
    assert response.status_code == 201, response.text
    tender = response.json()
    assert tender["status"] == "draft" and tender["title"] == "Joint storage 2027"
    assert tender["reference"] == "LAP-2026-0001"
    ids = s["lines"]
    lots = tender["lots"]
    # Ordered by category (storage, conservation), unit, earliest start.
    assert [(lot["number"], lot["category"], lot["unit"]) for lot in lots] == [
        (1, "storage", "linear_metre_year"),
        (2, "storage", "linear_metre_year"),
        (3, "storage", "box_year"),
        (4, "conservation", "hour"),
    ]
    pooled, later, boxes, hours = lots
    assert sorted(pooled["demand_ids"]) == sorted([ids["camden"], ids["hackney"], ids["islington"]])
    assert pooled["boroughs"] == ["Camden", "Hackney", "Islington"]
    assert Decimal(pooled["total_quantity"]) == 130
    assert pooled["title"] == "Storage – linear metre per year (Jan 2027 – Dec 2027)"
    # Pooled, 130 m reaches B's £9.50 tier (B has room for 130): per-year, so × days ÷ 365.
    #   9.50 × (60×365 + 30×365 + 40×275) ÷ 365 = 9.50 × 43,850 ÷ 365 = 1,141.3013… → 1,141.30
    # Alone: Camden 60 → B £11.00: 660.00; Hackney 30 → A £12.00: 360.00;
    #   Islington 40 → A £12.00 × 275/365: 361.6438… ; sum 1,381.6438… → 1,381.64
    # Saving 1,381.64 − 1,141.30 = 240.34
    assert pooled["estimated_value"] == "1141.30"
    assert pooled["standalone_value"] == "1381.64"
    assert pooled["estimated_saving"] == "240.34"
    assert pooled["no_reference_rate"] is False
    # 2029 alone: 20 m at A's £12.00 for 365 days = 240.00 either way.
    assert later["demand_ids"] == [ids["hackney_2029"]]
    assert (later["estimated_value"], later["standalone_value"], later["estimated_saving"]) == (
        "240.00",
        "240.00",
        "0.00",
    )
    assert boxes["no_reference_rate"] is True
    assert boxes["estimated_value"] is None and boxes["standalone_value"] is None
    assert boxes["estimated_saving"] is None
    # 130 hours exceed C's capacity of 100, so pooled they cost D's £45.00: 5,850.00; alone
    # each fits C at £40.00: 60×40 + 70×40 = 5,200.00; the saving is shown as it is: −650.00.
    assert (hours["estimated_value"], hours["standalone_value"], hours["estimated_saving"]) == (
        "5850.00",
        "5200.00",
        "-650.00",
    )
    assert tender["estimated_value"] == "7231.30"  # 1,141.30 + 240.00 + 5,850.00
    # Built from the figures pooling computed, the answer is what reading the draft gives.
    assert _stored(client, tender["id"], headers) == tender

    session.expire_all()
    statuses = {d.id: (d.status, d.tender_id) for d in session.exec(select(Demand)).all()}
    assert all(v == ("in_tender", tender["id"]) for v in statuses.values())
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "tender.aggregated")).one()
    assert event.details["demand_count"] == 7


def test_filters_double_pool_and_release_on_delete(client, session: Session) -> None:
    s = _scenario(session)
    headers = f.token_headers(client, s["officer"].email)
    first = client.post(
        "/api/v1/tenders/aggregate",
        headers=headers,
        json={"category": "conservation", "unit": "hour"},
    )
    assert first.status_code == 201
    assert [lot["unit"] for lot in first.json()["lots"]] == ["hour"]

    again = client.post(
        "/api/v1/tenders/aggregate", headers=headers, json={"category": "conservation"}
    )
    assert again.status_code == 422 and again.json()["field"] == "demand"

    rest = client.post("/api/v1/tenders/aggregate", headers=headers, json={})
    assert rest.status_code == 201
    assert rest.json()["reference"] == "LAP-2026-0002"
    assert len(rest.json()["lots"]) == 3  # the storage lines only: hours are taken
    assert client.post("/api/v1/tenders/aggregate", headers=headers, json={}).status_code == 422
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Tender)).one() == 2

    deleted = client.delete(f"/api/v1/tenders/{first.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    session.expire_all()
    hours = [session.get(Demand, s["lines"][k]) for k in ("camden_hours", "hackney_hours")]
    assert [(d.status, d.tender_id, d.lot_id) for d in hours] == [("submitted", None, None)] * 2
    assert (
        client.delete(f"/api/v1/tenders/{first.json()['id']}", headers=headers).status_code == 404
    )
    # Released demand can be pooled again.
    third = client.post("/api/v1/tenders/aggregate", headers=headers, json={})
    assert third.status_code == 201 and third.json()["lots"][0]["unit"] == "hour"

    # Once published, a tender is no longer a draft to delete.
    published = session.get(Tender, rest.json()["id"])
    published.status = "published"  # type: ignore[union-attr]
    session.add(published)
    session.commit()
    assert client.delete(f"/api/v1/tenders/{published.id}", headers=headers).status_code == 409
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "tender.deleted")).one()


def test_lot_moves_recompute_the_figures(client, session: Session) -> None:
    s = _scenario(session)
    ids = s["lines"]
    headers = f.token_headers(client, s["officer"].email)
    tender = client.post(
        "/api/v1/tenders/aggregate", headers=headers, json={"category": "storage"}
    ).json()
    url = f"/api/v1/tenders/{tender['id']}/lots"

    # The 2029 line joins lot 1; lot 2 empties, goes, and the box lot becomes lot 2.
    moved = client.patch(
        url, headers=headers, json={"moves": [{"demand_id": ids["hackney_2029"], "to_lot": 1}]}
    )
    assert moved.status_code == 200, moved.text
    lots = moved.json()["lots"]
    assert [(lot["number"], lot["unit"]) for lot in lots] == [
        (1, "linear_metre_year"),
        (2, "box_year"),
    ]
    assert Decimal(lots[0]["total_quantity"]) == 150
    # 150 m: A £10.00 vs B £9.50 (room for 150) → 9.50 × (43,850 + 20×365) ÷ 365 = 1,331.30
    # Alone: the three as before (1,381.6438…) + 20 × £12.00 = 240.00 → 1,621.64
    assert (lots[0]["estimated_value"], lots[0]["standalone_value"]) == ("1331.30", "1621.64")
    assert lots[0]["title"] == "Storage – linear metre per year (Jan 2027 – Dec 2029)"

    # Islington to a new lot of its own, Hackney's 2027 line out of the draft.
    moved = client.patch(
        url,
        headers=headers,
        json={
            "moves": [
                {"demand_id": ids["islington"], "to_lot": "new"},
                {"demand_id": ids["hackney"], "to_lot": None},
            ]
        },
    )
    assert moved.status_code == 200, moved.text
    lots = moved.json()["lots"]
    assert [lot["demand_ids"] for lot in lots] == [
        sorted([ids["camden"], ids["hackney_2029"]]),
        [ids["camden_boxes"]],
        [ids["islington"]],
    ]
    # Islington alone: 40 × £12.00 × 275/365 = 361.6438… → 361.64 both ways.
    assert (lots[2]["estimated_value"], lots[2]["estimated_saving"]) == ("361.64", "0.00")
    # Camden 60 + Hackney 20 = 80 → B £11.00: 660.00 + 20 × 11.00 = 880.00;
    # alone: 660.00 + 240.00 = 900.00.
    assert (lots[0]["estimated_value"], lots[0]["standalone_value"]) == ("880.00", "900.00")
    session.expire_all()
    released = session.get(Demand, ids["hackney"])
    assert (released.status, released.tender_id, released.lot_id) == ("submitted", None, None)  # type: ignore[union-attr]

    wrong_unit = client.patch(
        url, headers=headers, json={"moves": [{"demand_id": ids["camden_boxes"], "to_lot": 1}]}
    )
    assert wrong_unit.status_code == 422 and wrong_unit.json()["field"] == "moves.0.to_lot"
    not_ours = client.patch(
        url, headers=headers, json={"moves": [{"demand_id": ids["camden_hours"], "to_lot": 1}]}
    )
    assert not_ours.status_code == 422 and not_ours.json()["field"] == "moves.0.demand_id"
    no_lot = client.patch(
        url, headers=headers, json={"moves": [{"demand_id": ids["camden"], "to_lot": 9}]}
    )
    assert no_lot.status_code == 422
    assert client.patch(url, headers=headers, json={"moves": []}).status_code == 422
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Lot)).one() == 3

    tender_row = session.get(Tender, tender["id"])
    tender_row.status = "published"  # type: ignore[union-attr]
    session.add(tender_row)
    session.commit()
    late = client.patch(
        url, headers=headers, json={"moves": [{"demand_id": ids["camden"], "to_lot": None}]}
    )
    assert late.status_code == 409
    assert (
        session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "tender.lots_edited")
        ).one()
        == 2
    )


def test_roles_and_bad_filters(client, session: Session) -> None:
    s = _scenario(session)
    camden = s["managers"][0]
    manager_headers = f.token_headers(client, camden.email)
    assert (
        client.post("/api/v1/tenders/aggregate", json={}, headers=manager_headers).status_code
        == 403
    )
    headers = f.token_headers(client, s["officer"].email)
    for body, field in [
        ({"category": "catering"}, "category"),
        ({"category": "training", "unit": "hour"}, "unit"),
        ({"needed_by_from": "2027-05-01", "needed_by_to": "2027-04-01"}, "needed_by_to"),
        ({"title": "x" * 201}, "title"),
    ]:
        response = client.post("/api/v1/tenders/aggregate", json=body, headers=headers)
        assert response.status_code == 422, body
        detail = response.json()
        assert detail.get("field") == field or field in [e["field"] for e in detail["detail"]]
    # Needed-by window: none of the scenario's lines has a needed-by date.
    window = client.post(
        "/api/v1/tenders/aggregate",
        headers=headers,
        json={"needed_by_from": "2026-12-01", "needed_by_to": "2027-12-31"},
    )
    assert window.status_code == 422
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Tender)).one() == 0


@pytest.mark.postgres_only
def test_concurrent_aggregations_pool_each_line_once(app, session: Session) -> None:
    s = _scenario(session)
    officer_id = s["officer"].id
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, int]] = []

    def run() -> None:
        with Session(app.state.engine) as own:
            officer = own.get(type(s["officer"]), officer_id)
            barrier.wait()
            try:
                tender = service.aggregate_demand(own, officer, filters=AggregateRequest())
                own.commit()
                outcomes.append(("pooled", tender.id))  # type: ignore[arg-type]
            except DomainError as exc:
                own.rollback()
                outcomes.append(("refused", exc.status_code))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # The loser either saw nothing left (422) or lost the race for the rows (409).
    assert sorted(kind for kind, _ in outcomes) == ["pooled", "refused"], outcomes
    assert [code for kind, code in outcomes if kind == "refused"][0] in (409, 422)
    session.expire_all()
    tenders = session.exec(select(Tender)).all()
    assert len(tenders) == 1
    assert {d.tender_id for d in session.exec(select(Demand)).all()} == {tenders[0].id}


def test_a_large_mixed_pool_answers_exactly_what_is_stored(client, session: Session) -> None:
    """Hundreds of lines over several boroughs, units and terms (some overlapping, some
    apart): the pooling response matches the stored tender field for field, every line is
    in exactly one lot, and every lot's lines are listed by id."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    managers = [f.manager(session, g) for g in ("E09000007", "E09000012", "E09000019")]
    officer = f.officer(session)
    make_offer(session, f.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
    make_offer(
        session, f.contractor(session), tiers=[("1", "13.00"), ("120", "9.50")], capacity="500"
    )
    kinds = [("storage", "linear_metre_year"), ("storage", "box_year"), ("conservation", "hour")]
    ids = []
    for n in range(240):
        category, unit = kinds[n % 3]
        start = date(2027 + (n % 7) // 3, 1 + n % 12, 1)
        line = demand(
            session,
            managers[n % 3],
            category=category,
            unit=unit,
            quantity=Decimal(1 + n % 37) + (Decimal("0.25") if unit != "box_year" else 0),
            start_date=start,
            end_date=date(start.year, 12, 31),
        )
        ids.append(line.id)
    session.commit()
    headers = f.token_headers(client, officer.email)
    response = client.post("/api/v1/tenders/aggregate", json={}, headers=headers)
    assert response.status_code == 201, response.text
    pooled = response.json()
    assert len(pooled["lots"]) > 3
    listed = [i for lot in pooled["lots"] for i in lot["demand_ids"]]
    assert sorted(listed) == sorted(ids)
    assert all(lot["demand_ids"] == sorted(lot["demand_ids"]) for lot in pooled["lots"])
    assert _stored(client, pooled["id"], headers) == pooled
