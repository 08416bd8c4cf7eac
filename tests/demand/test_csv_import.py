"""CSV import: all rows or none, every bad row listed, size limits, nothing written on refusal."""

from __future__ import annotations

from sqlmodel import Session, func, select

from lap_market.audit.models import AuditEvent
from lap_market.demand.models import Demand
from tests.factories import accounts as f
from tests.factories.demand import csv_text

CSV = {"Content-Type": "text/csv"}
GOOD = [
    "storage",
    "linear_metre_year",
    "40",
    "2027-04-01",
    "2030-03-31",
    "2027-03-01",
    "Boxed council minutes",
    "12000.00",
]


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(Demand)).one())


def _post(client, headers, text: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/demands/import", content=text.encode(), headers={**headers, **CSV})


def test_import_all_rows(client, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    session.commit()
    headers = f.token_headers(client, manager.email)
    rows = [
        GOOD,
        ["conservation", "hour", "37.5", "2027-05-01", "2027-12-31", "", '"Repairs, mould"', ""],
        ["training", "delegate_place", "6", "2027-06-01", "2027-06-30", "2027-05-01", "", "900"],
    ]
    # Plus enough lines to exercise the bulk insert.
    rows += [
        ["digitisation", "image", str(1000 + i), "2027-09-01", "2028-08-31", "", "", ""]
        for i in range(1500)
    ]
    response = _post(client, headers, csv_text(rows))
    assert response.status_code == 201, response.text[:500]
    body = response.json()
    assert body["imported"] == 1503 and len(body["demand_ids"]) == 1503
    first = client.get(f"/api/v1/demands/{body['demand_ids'][1]}", headers=headers).json()
    assert first["category"] == "conservation" and first["quantity"] == "37.50"
    assert first["specification"] == "Repairs, mould" and first["budget_ceiling"] is None
    assert first["borough"]["gss_code"] == "E09000012" and first["status"] == "submitted"
    assert _count(session) == 1503
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "demand.imported")).one()
    assert event.details["rows"] == 1503


def test_bad_rows_are_all_listed_and_nothing_is_written(client, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    session.commit()
    headers = f.token_headers(client, manager.email)
    rows = [
        GOOD,
        ["storage", "linear_metre_year", "-4", "2027-04-01", "2030-03-31", "", "", ""],  # row 3
        GOOD,
        ["storage", "linear_metre_year", "4", "2027-13-01", "2030-03-31", "", "", ""],  # row 5
        ["training", "delegate_place", "2.5", "2027-04-01", "2027-03-01", "", "", ""],  # row 6
        ["storage", "image", "4", "2027-04-01", "2030-03-31", "", "", ""],  # row 7
        ["storage", "linear_metre_year", "4", "2027-04-01", "2030-03-31", "", "x" * 5001, ""],
        ["storage", "linear_metre_year", "4"],  # row 9
    ]
    response = _post(client, headers, csv_text(rows))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    found = {(e["row"], e["field"]) for e in body["errors"]}
    assert found == {
        (3, "quantity"),
        (5, "start_date"),
        (6, "quantity"),
        (6, "end_date"),
        (7, "unit"),
        (8, "specification"),
        (9, "row"),
    }
    assert all(e["message"] for e in body["errors"])
    assert _count(session) == 0


def test_wrong_header_bad_type_and_too_many_rows(client, app, session: Session) -> None:
    manager = f.manager(session, "E09000012")
    officer = f.officer(session)
    session.commit()
    headers = f.token_headers(client, manager.email)

    wrong = _post(client, headers, csv_text([GOOD], header="category,unit,qty,start,end"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"row": 1, "field": "header", "message": wrong.json()["errors"][0]["message"]}
    ]

    as_json = client.post("/api/v1/demands/import", json={"rows": []}, headers=headers)
    assert as_json.status_code == 422 and as_json.json()["field"] == "content_type"

    header_only = _post(client, headers, csv_text([]))
    assert header_only.status_code == 422

    line = ",".join(GOOD)
    too_many = csv_text([]) + "\n".join([line] * 100_001) + "\n"
    response = _post(client, headers, too_many)
    assert response.status_code == 413, response.text[:300]
    assert "100,000" in response.json()["detail"]

    app.state.settings.max_upload_bytes = 2_000
    oversized = _post(client, headers, csv_text([GOOD] * 40))
    assert oversized.status_code == 413

    officer_headers = f.token_headers(client, officer.email)
    app.state.settings.max_upload_bytes = 20 * 1024 * 1024
    assert _post(client, officer_headers, csv_text([GOOD])).status_code == 403
    assert _count(session) == 0
