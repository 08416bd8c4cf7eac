"""OCDS release packages over HTTP, for a tender in each state, on SQLite and PostgreSQL.

Every package is validated against the OCDS 1.1.5 schema and codelists; no request signs in.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.tenders import awards, cancellation, drafting
from lap_market.tenders.models import LotStatus, Tender, TenderStatus
from lap_market.tenders.schemas import AmendmentCreate
from tests.factories import accounts as people
from tests.factories import tenders as make
from tests.ocds.validation import assert_valid

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TERM = (date(2027, 4, 1), date(2028, 3, 31))  # 366 days: 2028 is a leap year
LOTS: list[dict[str, Any]] = [
    {
        "category": "storage", "unit": "linear_metre_year", "title": "Archive storage",
        "estimated_value": Decimal("2400.00"), "standalone_value": Decimal("2640.00"),
        "demands": [("E09000007", Decimal("120"), *TERM), ("E09000012", Decimal("80"), *TERM)],
    },
    {
        "category": "conservation", "unit": "item", "title": "Conservation of bound volumes",
        "estimated_value": Decimal("6250.50"),
        "demands": [("E09000028", Decimal("500"), *TERM)],
    },
]
SECRET_STATEMENT = "Our sealed quality statement XYZZY"


def package(client: TestClient, tender: Tender) -> dict[str, Any]:
    response = client.get(f"/api/v1/ocds/release-packages/{tender.id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_valid(body)
    return body


def by_tag(body: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    return [r for r in body["releases"] if tag in r["tag"]]


def roles(release: dict[str, Any]) -> dict[str, list[str]]:
    return {p["name"]: p["roles"] for p in release["parties"]}


def test_tender_through_its_life(client: TestClient, session: Session) -> None:
    clock.set(START)
    officer = people.officer(session)
    winner = people.provider(session, people.contractor(session, "Vault Storage Ltd"))
    runner_up = people.provider(session, people.contractor(session, "Second Place Ltd"))
    withdrawn = people.provider(session, people.contractor(session, "Changed Mind Ltd"))
    tender = make.published_tender(session, officer, lots=LOTS, title="Joint storage 2027")
    draft = make.draft_tender(session, officer, title="Not yet public")
    lot1, lot2 = make.lots_of(session, tender)
    winning = make.bid(session, winner, lot1, unit_price="9.87", quality_statement=SECRET_STATEMENT)
    make.bid(session, runner_up, lot1, unit_price="11.13", quality_statement=SECRET_STATEMENT)
    second = make.bid(session, runner_up, lot2, unit_price="12.31", quality_statement=SECRET_STATEMENT)
    make.bid(session, withdrawn, lot2, unit_price="8.76", status="withdrawn")
    session.commit()

    # Drafts never appear.
    assert client.get(f"/api/v1/ocds/release-packages/{draft.id}").status_code == 404
    assert client.get("/api/v1/ocds/release-packages/999999").status_code == 404

    # Published: one tender release; the partnership procures, every borough buys.
    body = package(client, tender)
    ocid = f"ocds-lapmkt-{tender.reference}"
    assert body["version"] == "1.1" and body["publisher"] == {"name": "London Archives Partnership"}
    assert [r["id"] for r in body["releases"]] == [f"{ocid}-tender"]
    release = body["releases"][0]
    assert release["ocid"] == ocid and release["tag"] == ["tender"]
    assert roles(release) == {
        "London Archives Partnership": ["procuringEntity"], "Camden": ["buyer"],
        "Hackney": ["buyer"], "Southwark": ["buyer"],
    }
    camden = next(p for p in release["parties"] if p["name"] == "Camden")
    assert camden["additionalIdentifiers"][0]["id"] == "E09000007"
    t = release["tender"]
    assert (t["status"], t["procurementMethod"], t["mainProcurementCategory"]) == (
        "active", "open", "services")
    assert t["value"] == {"amount": 8650.5, "currency": "GBP"}
    assert [(lot["id"], lot["status"], lot["value"]["amount"]) for lot in t["lots"]] == [
        ("lot-1", "active", 2400), ("lot-2", "active", 6250.5)]
    assert [(i["classification"]["id"], i["quantity"], i["relatedLot"]) for i in t["items"]] == [
        ("63121100", 200, "lot-1"), ("92512000", 500, "lot-2")]
    assert t["tenderPeriod"]["endDate"] == "2026-11-16T09:00:00Z"
    assert "tenderers" not in t and "numberOfTenderers" not in t

    # An amendment extends the deadline; the tender release keeps the deadline it had.
    clock.set(START + timedelta(days=3))
    drafting.amend_tender(session, officer, tender.id, data=AmendmentCreate(  # type: ignore[arg-type]
        reason="More time for site visits", submission_deadline=START + timedelta(days=16)))
    session.commit()
    body = package(client, tender)
    assert [r["tag"] for r in body["releases"]] == [["tender"], ["tenderAmendment"]]
    first, amended = body["releases"]
    assert first["tender"]["tenderPeriod"]["endDate"] == "2026-11-16T09:00:00Z"
    assert amended["tender"]["tenderPeriod"]["endDate"] == "2026-11-18T09:00:00Z"
    assert amended["tender"]["amendments"] == [{
        "id": "1", "date": "2026-11-05T09:00:00Z", "rationale": "More time for site visits",
        "description": "Changed: submission deadline", "amendsReleaseID": f"{ocid}-tender",
        "releaseID": f"{ocid}-amendment-1",
    }]

    # Sealed until the deadline: no bidder, price or statement anywhere, listing included.
    for text in (client.get(f"/api/v1/ocds/release-packages/{tender.id}").text,
                 client.get("/api/v1/ocds/release-packages").text):
        for secret in ("Vault Storage", "Second Place", "Changed Mind", "9.87", "11.13",
                       "12.31", "8.76", "XYZZY", "tenderer"):
            assert secret not in text

    # Closed: bidders with an active bid become tenderers; prices and statements stay out.
    clock.set(START + timedelta(days=16, minutes=1))
    body = package(client, tender)
    closed = by_tag(body, "tenderUpdate")[0]
    assert closed["id"] == f"{ocid}-tender-closed" and closed["date"] == "2026-11-18T09:00:00Z"
    assert closed["tender"]["numberOfTenderers"] == 2
    assert sorted(x["name"] for x in closed["tender"]["tenderers"]) == [
        "Second Place Ltd", "Vault Storage Ltd"]
    assert roles(closed)["Vault Storage Ltd"] == ["tenderer"]
    for secret in ("Changed Mind", "9.87", "11.13", "12.31", "8.76", "XYZZY"):
        assert secret not in client.get(f"/api/v1/ocds/release-packages/{tender.id}").text

    # Lot 1 awarded: pending during the standstill, valued as the call-offs will be.
    clock.set(START + timedelta(days=17))
    award = make.award(session, officer, winning)
    session.commit()
    body = package(client, tender)
    award_release = by_tag(body, "award")[0]
    assert award_release["id"] == f"{ocid}-award-{award.id}"
    assert roles(award_release)["Vault Storage Ltd"] == ["tenderer", "supplier"]
    (a,) = award_release["awards"]
    # Camden 120 × £9.87 × 366/365 = £1,187.64; Hackney 80 × £9.87 × 366/365 = £791.76.
    assert a["status"] == "pending" and a["value"] == {"amount": 1979.4, "currency": "GBP"}
    assert a["relatedLots"] == ["lot-1"] and a["items"][0]["unit"]["value"]["amount"] == 9.87
    assert a["contractPeriod"] == {"startDate": "2027-04-01T00:00:00Z",
                                   "endDate": "2028-03-31T23:59:59Z"}
    assert award_release["tender"]["status"] == "active"  # lot 2 is still open
    assert [lot["status"] for lot in award_release["tender"]["lots"]] == ["complete", "active"]
    assert "12.31" not in client.get(f"/api/v1/ocds/release-packages/{tender.id}").text

    # Lot 2 awarded too: the tender is complete; after the standstill both awards are active.
    clock.set(START + timedelta(days=18))
    make.award(session, officer, second)
    session.commit()
    assert by_tag(package(client, tender), "award")[-1]["tender"]["status"] == "complete"
    clock.set(datetime.combine(award.standstill_ends + timedelta(days=2), datetime.min.time(), UTC))
    body = package(client, tender)
    updates = by_tag(body, "awardUpdate")
    assert [u["awards"][0]["status"] for u in updates] == ["active", "active"]
    assert [r["date"] for r in body["releases"]] == sorted(r["date"] for r in body["releases"])
    assert "8.76" not in client.get(f"/api/v1/ocds/release-packages/{tender.id}").text

    # Call-offs issued: the tender and its lots are contracted; the package still validates.
    session.refresh(tender)
    tender.status = TenderStatus.CONTRACTED
    session.add(tender)
    for contracted in make.lots_of(session, tender):
        contracted.status = LotStatus.CONTRACTED
        session.add(contracted)
    session.commit()
    body = package(client, tender)
    last = body["releases"][-1]
    assert last["tender"]["status"] == "complete"
    assert [lot["status"] for lot in last["tender"]["lots"]] == ["complete", "complete"]


def test_cancelled_lot_cancelled_tender_and_revoked_award(client: TestClient, session: Session) -> None:
    clock.set(START)
    officer = people.officer(session)
    bidder = people.provider(session, people.contractor(session, "Early Bird Ltd"))
    tender = make.published_tender(session, officer, lots=LOTS)
    lot1, lot2 = make.lots_of(session, tender)
    make.bid(session, bidder, lot1, unit_price="7.77")
    session.commit()

    # A lot cancelled: it says so from then on, and its borough stays a buyer.
    clock.set(START + timedelta(days=1))
    cancellation.cancel_lot(session, officer, tender.id, lot2.id, reason="Budget withdrawn")  # type: ignore[arg-type]
    session.commit()
    body = package(client, tender)
    first, = body["releases"]
    assert [lot["status"] for lot in first["tender"]["lots"]] == ["active", "active"]
    assert "Southwark" in roles(first)  # demand went back to the pipeline; still a buyer here

    # The whole tender cancelled before its deadline: bidders are never revealed.
    clock.set(START + timedelta(days=2))
    cancellation.cancel_tender(session, officer, tender.id, reason="Requirements changed")  # type: ignore[arg-type]
    session.commit()
    clock.set(START + timedelta(days=30))
    body = package(client, tender)
    assert [r["tag"] for r in body["releases"]] == [["tender"], ["tenderCancellation"]]
    cancelled = body["releases"][-1]
    assert cancelled["id"] == f"ocds-lapmkt-{tender.reference}-cancellation"
    assert cancelled["tender"]["status"] == "cancelled"
    assert cancelled["tender"]["statusDetails"] == "Requirements changed"
    assert [lot["status"] for lot in cancelled["tender"]["lots"]] == ["cancelled", "cancelled"]
    assert set(roles(cancelled)) == {
        "London Archives Partnership", "Camden", "Hackney", "Southwark"}
    assert "Early Bird" not in client.get(f"/api/v1/ocds/release-packages/{tender.id}").text

    # An award revoked during its standstill.
    clock.set(START)
    other = make.published_tender(session, officer, lots=LOTS[:1])
    (lot,) = make.lots_of(session, other)
    winning = make.bid(session, bidder, lot, unit_price="7.77")
    clock.set(START + timedelta(days=15))
    award = make.award(session, officer, winning)
    session.commit()
    clock.set(START + timedelta(days=16))
    awards.revoke_award(session, officer, award.id, reason="Capacity not confirmed")  # type: ignore[arg-type]
    session.commit()
    clock.set(START + timedelta(days=60))
    body = package(client, other)
    assert [r["tag"] for r in body["releases"]] == [
        ["tender"], ["tenderUpdate"], ["award"], ["awardCancellation"]]
    assert [r["awards"][0]["status"] for r in body["releases"][2:]] == ["pending", "cancelled"]
    assert body["releases"][-1]["tender"]["status"] == "active"
    assert [x["status"] for x in body["releases"][-1]["tender"]["lots"]] == ["active"]


def test_listing_since_a_date(client: TestClient, session: Session) -> None:
    clock.set(START)
    officer = people.officer(session)
    older = make.published_tender(session, officer, lots=LOTS[:1], title="Older")
    make.draft_tender(session, officer, title="Draft never listed")
    clock.set(START + timedelta(days=5))
    newer = make.published_tender(session, officer, lots=LOTS[1:], title="Newer")
    session.commit()
    clock.set(START + timedelta(days=6))

    everything = client.get("/api/v1/ocds/release-packages")
    assert everything.status_code == 200
    assert_valid(everything.json())
    assert [r["tender"]["title"] for r in everything.json()["releases"]] == ["Older", "Newer"]

    recent = client.get("/api/v1/ocds/release-packages", params={"since": "2026-11-04T00:00:00Z"})
    assert_valid(recent.json())
    assert [r["ocid"] for r in recent.json()["releases"]] == [f"ocds-lapmkt-{newer.reference}"]
    assert recent.json()["uri"].endswith("since=2026-11-04T00%3A00%3A00Z")

    # The older tender's deadline passes: its close is a new release.
    clock.set(START + timedelta(days=15))
    later = client.get("/api/v1/ocds/release-packages", params={"since": "2026-11-10T00:00:00"})
    assert [(r["ocid"], r["tag"]) for r in later.json()["releases"]] == [
        (f"ocds-lapmkt-{older.reference}", ["tenderUpdate"])]

    assert client.get("/api/v1/ocds/release-packages",
                      params={"since": "2027-01-01T00:00:00Z"}).status_code == 204
    bad = client.get("/api/v1/ocds/release-packages", params={"since": "last tuesday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "since"


@pytest.mark.parametrize("prefix", ["ocds-abc123"])
def test_ocid_prefix_is_a_setting(db_url: str, tmp_path: Any, prefix: str) -> None:
    from lap_market.config import Settings
    from lap_market.main import create_app

    settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key="x" * 40,
                        env="test", ocid_prefix=prefix)
    app = create_app(settings)
    try:
        with Session(app.state.engine) as session:
            clock.set(START)
            tender = make.published_tender(session, people.officer(session), lots=LOTS[:1])
            session.commit()
            tender_id, reference = tender.id, tender.reference
        with TestClient(app) as client:
            body = client.get(f"/api/v1/ocds/release-packages/{tender_id}").json()
        assert_valid(body)
        assert body["releases"][0]["ocid"] == f"{prefix}-{reference}"
    finally:
        app.state.engine.dispose()
