"""The lot editor (API and page): lines sent to "a new lot" in one save share it, the page
links back to its tender and answers through the one web-action path; and pooling refuses
when the demand it priced changed under it (a line withdrawn while another arrived)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, func, select

from lap_market.aggregation import service
from lap_market.aggregation import web as aggregation_web
from lap_market.aggregation.schemas import AggregateRequest
from lap_market.clock import clock
from lap_market.demand import service as demand_service
from lap_market.demand.models import Demand
from lap_market.errors import Conflict
from lap_market.tenders.models import Lot, Tender
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.factories.demand import demand

TERM = (date(2027, 4, 1), date(2028, 3, 31))


def _draft(client, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One storage lot of three boroughs' lines and one box lot, pooled by the officer."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    boroughs = [f.manager(session, g) for g in ("E09000007", "E09000012", "E09000019")]
    officer = f.officer(session)
    make_offer(session, f.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
    metres = [demand(session, b, quantity=40, start_date=TERM[0], end_date=TERM[1])
              for b in boroughs]
    boxes = [demand(session, b, unit="box_year", quantity=50, start_date=TERM[0],
                    end_date=TERM[1]) for b in boroughs[:2]]
    session.commit()
    headers = f.token_headers(client, officer.email)
    tender = client.post("/api/v1/tenders/aggregate", headers=headers, json={}).json()
    return {"officer": officer, "headers": headers, "tender": tender,
            "metres": [d.id for d in metres], "boxes": [d.id for d in boxes]}


def test_lines_sent_to_a_new_lot_together_make_one_lot_per_unit(client, session: Session) -> None:
    d = _draft(client, session)
    assert [len(lot["demand_ids"]) for lot in d["tender"]["lots"]] == [3, 2]
    moves = [{"demand_id": d["metres"][1], "to_lot": "new"},
             {"demand_id": d["boxes"][0], "to_lot": "new"},
             {"demand_id": d["metres"][2], "to_lot": "new"}]
    moved = client.patch(f"/api/v1/tenders/{d['tender']['id']}/lots", headers=d["headers"],
                         json={"moves": moves})
    assert moved.status_code == 200, moved.text
    lots = [(lot["unit"], lot["demand_ids"]) for lot in moved.json()["lots"]]
    assert lots == [
        ("linear_metre_year", [d["metres"][0]]),
        ("box_year", [d["boxes"][1]]),
        ("linear_metre_year", sorted(d["metres"][1:])),  # both metres: one new lot
        ("box_year", [d["boxes"][0]]),
    ]
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Lot)).one() == 4


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client, email: str) -> None:  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": f.PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_editor_page_back_link_one_new_lot_and_receipts(
    client, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _draft(client, session)
    tender_id = d["tender"]["id"]
    _login(client, d["officer"].email)
    url = f"/tenders/{tender_id}/lots"
    page = client.get(url)
    assert page.status_code == 200
    back = f'<a href="/tenders/{tender_id}" class="lap-back-link">Back to {d["tender"]["reference"]}</a>'
    assert back in page.text
    token = _csrf(page.text)
    form = {"csrf_token": token}
    for line in d["metres"]:
        form[f"current-{line}"] = "1"
        form[f"move-{line}"] = "1"
    for line in d["boxes"]:
        form[f"current-{line}"] = "2"
        form[f"move-{line}"] = "2"
    form[f"move-{d['metres'][1]}"] = form[f"move-{d['metres'][2]}"] = "new"

    saved = client.post(url, data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == url
    after = client.get(url)
    assert "2 lines moved; the figures are recomputed." in after.text  # the receipt, once
    assert "Lot 3: Storage" in after.text and "Lot 4" not in after.text
    assert "2 lines moved" not in client.get(url).text
    session.expire_all()
    lots = session.exec(select(Lot).where(Lot.tender_id == tender_id)).all()
    assert sorted(len(session.exec(select(Demand).where(Demand.lot_id == lot.id)).all())
                  for lot in lots) == [1, 2, 2]

    # Nothing changed: said so, in place for HTMX.
    nothing = client.post(url, data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert nothing.status_code == 200 and "Nothing was moved." in nothing.text
    assert "<html" not in nothing.text

    # A line of another unit sent to a lot of metres: refused beside the form, 422.
    wrong = client.post(url, data={"csrf_token": token, f"current-{d['boxes'][1]}": "2",
                                   f"move-{d['boxes'][1]}": "1"})
    assert wrong.status_code == 422 and "same category and unit" in wrong.text

    # A large draft shows each lot's lines a page at a time (here 1 a page: lot 3 has 2).
    monkeypatch.setattr(aggregation_web, "LINES_PER_PAGE", 1)
    second = client.get(url, params={"lot": 3, "page": 2})
    assert "Lines 2–2 of 2" in second.text and "Page 2 of 2" in second.text
    assert f'id="move-{max(d["metres"][1:])}"' in second.text
    assert f'id="move-{min(d["metres"][1:])}"' not in second.text
    assert f'id="move-{d["metres"][0]}"' in second.text  # other lots: their first page

    deleted = client.post(f"{url}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/pipeline?status=submitted"
    assert "was deleted; its needs are back in the pipeline" in client.get("/pipeline").text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Tender)).one() == 0


@pytest.mark.postgres_only  # SQLite: pooling holds the write lock from its read to its commit
def test_pooling_refuses_when_its_lines_changed_meanwhile(
    app, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between reading the lines and taking them, other requests withdraw one line and
    submit another of the same kind: as many lines as planned still match, but not the same
    ones. Nothing is created (409) and the new line stays submitted."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    camden, hackney = f.manager(session, "E09000007"), f.manager(session, "E09000012")
    officer = f.officer(session)
    planned = [demand(session, camden, quantity=10 + n) for n in range(3)]
    session.commit()
    ids: dict[str, int] = {}
    real_plan_lots = service.plan_lots

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        with Session(app.state.engine) as other:
            arrived = demand(other, other.merge(hackney), quantity=12)
            demand_service.withdraw_demand(other, other.merge(camden), planned[0].id)  # type: ignore[arg-type]
            other.commit()
            ids["arrived"] = arrived.id  # type: ignore[assignment]
        return real_plan_lots(*args, **kwargs)

    monkeypatch.setattr(service, "plan_lots", meanwhile)
    with pytest.raises(Conflict):
        service.pool_demand(session, officer, filters=AggregateRequest())
    session.rollback()
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Tender)).one() == 0
    assert session.get(Demand, ids["arrived"]).status == "submitted"  # type: ignore[union-attr]


def test_a_refused_pooling_leaves_no_draft(client, session: Session) -> None:
    """On SQLite too: the draft's savepoint sits inside the pooling's transaction."""
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    officer = f.officer(session)
    session.commit()
    headers = f.token_headers(client, officer.email)
    refused = client.post("/api/v1/tenders/aggregate", headers=headers, json={})
    assert refused.status_code == 422
    camden = f.manager(session)
    demand(session, camden)
    session.commit()
    assert client.post("/api/v1/tenders/aggregate", headers=headers, json={}).status_code == 201
    session.expire_all()
    assert [t.reference for t in session.exec(select(Tender))] == ["LAP-2026-0001"]
