"""Demand through the JSON API: raising, reading, changing, withdrawing; roles, isolation
between boroughs, and every kind of bad input (each leaving nothing written)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, func, select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.demand.models import Demand
from tests.factories import accounts as f
from tests.factories.demand import demand, payload


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(Demand)).one())


def test_raise_read_change_withdraw(client, session: Session) -> None:
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    manager = f.manager(session, "E09000007")
    session.commit()
    headers = f.token_headers(client, manager.email)

    created = client.post("/api/v1/demands", json=payload(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "submitted"
    assert body["borough"]["gss_code"] == "E09000007"
    assert body["borough"]["name"] == "Camden"
    assert body["category"] == "storage" and body["unit"] == "linear_metre_year"
    assert body["quantity"] == "120.00"
    assert body["budget_ceiling"] == "50000.00"
    assert body["tender_id"] is None and body["lot_id"] is None
    demand_id = body["id"]

    got = client.get(f"/api/v1/demands/{demand_id}", headers=headers)
    assert got.status_code == 200 and got.json()["specification"].startswith("Archive storage")

    patched = client.patch(
        f"/api/v1/demands/{demand_id}",
        headers=headers,
        json={"quantity": "150.5", "budget_ceiling": None, "needed_by": "2027-02-01"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["quantity"] == "150.50"
    assert patched.json()["budget_ceiling"] is None
    assert patched.json()["needed_by"] == "2027-02-01"

    # Changing the unit re-checks the quantity against it: boxes are whole.
    refused = client.patch(
        f"/api/v1/demands/{demand_id}", headers=headers, json={"unit": "box_year"}
    )
    assert refused.status_code == 422 and refused.json()["field"] == "quantity"

    listed = client.get("/api/v1/demands", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == demand_id

    withdrawn = client.post(f"/api/v1/demands/{demand_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = client.post(f"/api/v1/demands/{demand_id}/withdraw", headers=headers)
    assert again.status_code == 409
    late = client.patch(f"/api/v1/demands/{demand_id}", headers=headers, json={"quantity": 10})
    assert late.status_code == 409

    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.object_type == "demand").order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    assert actions == ["demand.created", "demand.updated", "demand.withdrawn"]


def test_boroughs_never_see_each_others_demand(client, session: Session) -> None:
    camden = f.manager(session, "E09000007")
    hackney = f.manager(session, "E09000012")
    theirs = demand(session, camden)
    ours = demand(session, hackney, quantity=30)
    session.commit()
    headers = f.token_headers(client, hackney.email)

    listed = client.get("/api/v1/demands", headers=headers).json()
    assert [d["id"] for d in listed["items"]] == [ours.id]
    assert client.get(f"/api/v1/demands/{theirs.id}", headers=headers).status_code == 404
    patch = client.patch(f"/api/v1/demands/{theirs.id}", headers=headers, json={"quantity": 1})
    assert patch.status_code == 404
    assert client.post(f"/api/v1/demands/{theirs.id}/withdraw", headers=headers).status_code == 404
    # Acting for another borough is refused outright.
    other = client.get("/api/v1/demands", params={"borough": "E09000007"}, headers=headers)
    assert other.status_code == 403 and other.json()["field"] == "borough"
    forged = client.post(
        "/api/v1/demands", headers=headers, json=payload(borough_id=camden.organisation_id)
    )
    assert forged.status_code == 403 and forged.json()["field"] == "borough_id"
    session.expire_all()
    assert session.get(Demand, theirs.id).quantity == 120  # type: ignore[union-attr]
    assert session.get(Demand, theirs.id).status == "submitted"  # type: ignore[union-attr]
    assert _count(session) == 2


def test_roles_and_officer_filters(client, session: Session) -> None:
    camden = f.manager(session, "E09000007")
    hackney = f.manager(session, "E09000012")
    officer = f.officer(session)
    provider = f.provider(session)
    demand(session, camden)
    demand(session, camden, category="training", unit="delegate_place", quantity=12)
    withdrawn = demand(session, hackney, category="digitisation", unit="image", quantity=5000)
    withdrawn.status = "withdrawn"
    session.add(withdrawn)
    session.commit()
    officer_headers = f.token_headers(client, officer.email)

    raised = client.post("/api/v1/demands", json=payload(), headers=officer_headers)
    assert raised.status_code == 403
    everyone = client.get("/api/v1/demands", headers=officer_headers).json()
    assert everyone["total"] == 3
    by_borough = client.get(
        "/api/v1/demands", params={"borough": "E09000012"}, headers=officer_headers
    ).json()
    assert [d["borough"]["name"] for d in by_borough["items"]] == ["Hackney"]
    training = client.get(
        "/api/v1/demands",
        params={"category": "training", "unit": "delegate_place"},
        headers=officer_headers,
    ).json()
    assert training["total"] == 1 and training["items"][0]["quantity"] == "12.00"
    submitted = client.get(
        "/api/v1/demands", params={"status": "submitted"}, headers=officer_headers
    ).json()
    assert submitted["total"] == 2
    paged = client.get(
        "/api/v1/demands", params={"page": 2, "page_size": 2}, headers=officer_headers
    ).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1
    bad = client.get("/api/v1/demands", params={"status": "lost"}, headers=officer_headers)
    assert bad.status_code == 422 and bad.json()["field"] == "status"

    provider_headers = f.token_headers(client, provider.email)
    assert client.get("/api/v1/demands", headers=provider_headers).status_code == 403
    assert (
        client.post("/api/v1/demands", json=payload(), headers=provider_headers).status_code == 403
    )
    assert _count(session) == 3


BAD_INPUTS: list[tuple[dict[str, object], str]] = [
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "-5"}, "quantity"),
    ({"quantity": "1000000000.01"}, "quantity"),
    ({"quantity": "1e12"}, "quantity"),
    ({"quantity": "12.345"}, "quantity"),
    ({"quantity": "abc"}, "quantity"),
    ({"category": "training", "unit": "delegate_place", "quantity": "2.5"}, "quantity"),
    ({"unit": "image"}, "unit"),
    ({"category": "catering"}, "category"),
    ({"start_date": "2027-04-01", "end_date": "2027-03-31"}, "end_date"),
    ({"needed_by": "2027-04-02"}, "needed_by"),
    ({"start_date": "2027-02-30"}, "start_date"),
    ({"specification": "x" * 5001}, "specification"),
    ({"budget_ceiling": "-1.00"}, "budget_ceiling"),
    ({"budget_ceiling": "10.005"}, "budget_ceiling"),
    ({"colour": "blue"}, "colour"),
]


def test_bad_input_names_the_field_and_writes_nothing(client, session: Session) -> None:
    manager = f.manager(session, "E09000007")
    session.commit()
    headers = f.token_headers(client, manager.email)
    for change, field in BAD_INPUTS:
        response = client.post("/api/v1/demands", json=payload(**change), headers=headers)
        assert response.status_code == 422, (change, response.text)
        body = response.json()
        fields = (
            [e["field"] for e in body["detail"]]
            if isinstance(body["detail"], list)
            else [body["field"]]
        )
        assert field in fields, (change, body)
    missing = client.post("/api/v1/demands", json={"category": "storage"}, headers=headers)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["detail"]} >= {"unit", "quantity", "start_date"}
    assert _count(session) == 0


PATCH_BAD_INPUTS: list[tuple[dict[str, object], int, str]] = [
    ({"quantity": "0"}, 422, "quantity"),
    ({"quantity": "-1"}, 422, "quantity"),
    ({"quantity": "1000000001"}, 422, "quantity"),
    ({"unit": "box_year"}, 422, "quantity"),  # 120.5 boxes: boxes are whole
    ({"unit": "image"}, 422, "unit"),
    ({"end_date": "2027-03-31"}, 422, "end_date"),
    ({"needed_by": "2027-04-02"}, 422, "needed_by"),
    ({"specification": "x" * 5001}, 422, "specification"),
    ({"quantity": None}, 422, "quantity"),
]


def test_bad_changes_name_the_field_and_change_nothing(client, session: Session) -> None:
    camden = f.manager(session, "E09000007")
    hackney = f.manager(session, "E09000012")
    officer = f.officer(session)
    line = demand(session, camden, quantity="120.5")
    session.commit()
    headers = f.token_headers(client, camden.email)
    url = f"/api/v1/demands/{line.id}"
    before = client.get(url, headers=headers).json()
    demand_events = (
        select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "demand")
    )
    events = session.exec(demand_events).one()
    for change, status, field in PATCH_BAD_INPUTS:
        response = client.patch(url, json=change, headers=headers)
        assert response.status_code == status, (change, response.text)
        body = response.json()
        fields = (
            [e["field"] for e in body["detail"]]
            if isinstance(body["detail"], list)
            else [body["field"]]
        )
        assert field in fields, (change, body)
    # Handing the line to another borough, or an officer changing it: refused.
    moved = client.patch(url, json={"borough_id": hackney.organisation_id}, headers=headers)
    assert moved.status_code == 403 and moved.json()["field"] == "borough_id"
    officer_headers = f.token_headers(client, officer.email)
    assert client.patch(url, json={"quantity": "5"}, headers=officer_headers).status_code == 403
    assert client.post(f"{url}/withdraw", headers=officer_headers).status_code == 403
    assert client.get(url, headers=headers).json() == before
    session.expire_all()
    assert session.exec(demand_events).one() == events
