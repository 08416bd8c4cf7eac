"""Bad input to demand rounds gets a clear 4xx naming the field, and writes nothing:
a category outside the round, a term outside it, a closing date in the past, a borough not
invited, a provider reading a round; plus who sees which rounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, func, select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.demand.models import Demand
from lap_market.rounds.models import DemandRound, RoundReturn
from tests.factories import accounts as f
from tests.factories.rounds import payload

CAMDEN, HACKNEY, TOWER_HAMLETS = "E09000007", "E09000012", "E09000030"
HEADER = "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling\n"


def counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(int(session.exec(select(func.count()).select_from(m)).one())
                 for m in (DemandRound, RoundReturn, Demand, AuditEvent))


@pytest.fixture
def world(client, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    users = {"officer": f.officer(session), "provider": f.provider(session),
             CAMDEN: f.manager(session, CAMDEN), HACKNEY: f.manager(session, HACKNEY),
             TOWER_HAMLETS: f.manager(session, TOWER_HAMLETS)}
    invited = [f.borough(session, g).id for g in (CAMDEN, HACKNEY)]
    session.commit()
    headers = {k: f.token_headers(client, u.email) for k, u in users.items()}
    response = client.post("/api/v1/demand-rounds", headers=headers["officer"],
                           json=payload(borough_ids=invited))
    assert response.status_code == 201, response.text
    everyone = client.post("/api/v1/demand-rounds", headers=headers["officer"],
                           json=payload(title="Everyone"))
    assert len(everyone.json()["responses"]) == 33  # 32 boroughs and the City
    return {"h": headers, "rid": response.json()["id"], "lma": f.lma(session).id}


@pytest.mark.parametrize(("change", "field"), [
    ({"closes_at": "2027-01-03T09:00:00Z"}, "closes_at"),
    ({"categories": ["storage", "shelving"]}, "categories"),
    ({"categories": []}, "categories"),
    ({"term_end": "2027-03-31"}, "term_end"),
    ({"borough_ids": [999_999]}, "borough_ids"),
    ({"title": ""}, "title"),
])
def test_opening_refuses_bad_input(client, session: Session, world: dict[str, Any],  # type: ignore[no-untyped-def]
                                   change: dict[str, Any], field: str) -> None:
    before = counts(session)
    response = client.post("/api/v1/demand-rounds", headers=world["h"]["officer"],
                           json=payload(**change))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body.get("field") == field or field in str(body.get("detail"))
    assert counts(session) == before


def test_opening_names_a_non_borough(client, session: Session, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/demand-rounds", headers=world["h"]["officer"],
                           json=payload(borough_ids=[world["lma"]]))
    assert response.status_code == 422 and response.json()["field"] == "borough_ids"


def test_only_officers_open_rounds(client, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    for who in (CAMDEN, "provider"):
        assert client.post("/api/v1/demand-rounds", headers=world["h"][who],
                           json=payload()).status_code == 403


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "conservation", "unit": "hour"}, "category"),
    ({"start_date": "2027-03-01"}, "start_date"),
    ({"end_date": "2030-06-30"}, "end_date"),
])
def test_lines_outside_the_round_are_refused(client, session: Session, world: dict[str, Any],  # type: ignore[no-untyped-def]
                                              change: dict[str, Any], field: str) -> None:
    before = counts(session)
    line = {"category": "storage", "unit": "linear_metre_year", "quantity": "10",
            "start_date": "2027-04-01", "end_date": "2028-03-31", "round_id": world["rid"],
            **change}
    response = client.post("/api/v1/demands", headers=world["h"][CAMDEN], json=line)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    cells = [line["category"], line["unit"], "10", line["start_date"], line["end_date"], "", "",
             ""]
    response = client.post(f"/api/v1/demands/import?round_id={world['rid']}",
                           content=HEADER + ",".join(cells) + "\n",
                           headers={**world["h"][CAMDEN], "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(2, field)]
    assert counts(session) == before


def test_a_borough_not_invited(client, session: Session, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    before = counts(session)
    rid, outsider = world["rid"], world["h"][TOWER_HAMLETS]
    line = {"category": "storage", "unit": "linear_metre_year", "quantity": "10",
            "start_date": "2027-04-01", "end_date": "2028-03-31", "round_id": rid}
    response = client.post("/api/v1/demands", headers=outsider, json=line)
    assert response.status_code == 403 and response.json()["field"] == "round_id"
    for path in ("confirm", "nil-return"):
        assert client.post(f"/api/v1/demand-rounds/{rid}/{path}", headers=outsider).status_code == 403
    assert client.get(f"/api/v1/demand-rounds/{rid}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/demand-rounds/{rid}/estimate", headers=outsider).status_code == 404
    assert rid not in [r["id"] for r in client.get("/api/v1/demand-rounds",
                                                   headers=outsider).json()]
    missing = client.post("/api/v1/demands", headers=outsider, json={**line, "round_id": 999_999})
    assert missing.status_code == 404 and missing.json()["field"] == "round_id"
    assert counts(session) == before


def test_providers_see_no_rounds(client, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    provider, rid = world["h"]["provider"], world["rid"]
    for path in ("/api/v1/demand-rounds", f"/api/v1/demand-rounds/{rid}",
                 f"/api/v1/demand-rounds/{rid}/estimate"):
        response = client.get(path, headers=provider)
        assert response.status_code == 403, path
        assert "Storage" not in response.text


def test_officer_only_actions_and_an_open_round_cannot_be_pooled(client, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    rid, camden = world["rid"], world["h"][CAMDEN]
    for path in ("remind", "aggregate"):
        assert client.post(f"/api/v1/demand-rounds/{rid}/{path}", headers=camden).status_code == 403
    assert client.post(f"/api/v1/demand-rounds/{rid}/extend", headers=camden, json={
        "closes_at": "2027-02-05T17:00:00Z", "reason": "x"}).status_code == 403
    early = client.post(f"/api/v1/demand-rounds/{rid}/aggregate", headers=world["h"]["officer"])
    assert early.status_code == 409 and early.json()["field"] == "closes_at"
    rounds = client.get("/api/v1/demand-rounds", headers=camden).json()
    assert [r["own_status"] for r in rounds] == ["not_responded", "not_responded"]


def test_withdrawing_a_line_unconfirms_the_return(client, world: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    rid, camden = world["rid"], world["h"][CAMDEN]
    line = client.post("/api/v1/demands", headers=camden, json={
        "category": "storage", "unit": "linear_metre_year", "quantity": "10",
        "start_date": "2027-04-01", "end_date": "2028-03-31", "round_id": rid}).json()
    assert client.post(f"/api/v1/demand-rounds/{rid}/confirm", headers=camden).status_code == 200
    assert client.post(f"/api/v1/demands/{line['id']}/withdraw", headers=camden).status_code == 200
    mine = client.get(f"/api/v1/demand-rounds/{rid}", headers=camden).json()["responses"][0]
    assert (mine["status"], mine["lines"]) == ("in_progress", 0)
