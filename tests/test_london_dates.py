"""Days are England's and times are shown in London time with their zone (GMT or BST).

At 23:30 UTC on a summer night it is already 00:30 BST tomorrow in London: offers whose
validity ended "today" in UTC have ended, a direct commission cannot start on the UTC day,
and pages, PDFs and reports say so in London terms. In winter London is on GMT.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import User
from lap_market.catalogue.models import Offer
from lap_market.clock import (
    clock,
    format_london,
    format_london_long,
    in_london,
    london_date,
    start_of_london_day,
)
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import catalogue as cat

SUMMER_NIGHT = datetime(2026, 7, 13, 23, 30, tzinfo=UTC)  # Tuesday 14 July, 00:30 BST
WINTER_NIGHT = datetime(2026, 12, 14, 23, 30, tzinfo=UTC)  # still Monday 14 December, GMT


def test_today_and_times_follow_london() -> None:
    clock.set(SUMMER_NIGHT)
    assert clock.today() == date(2026, 7, 14)
    clock.set(WINTER_NIGHT)
    assert clock.today() == date(2026, 12, 14)
    assert format_london(SUMMER_NIGHT) == "14 Jul 2026, 00:30 BST"
    assert format_london(SUMMER_NIGHT.replace(tzinfo=None)) == "14 Jul 2026, 00:30 BST"  # SQLite
    assert format_london(WINTER_NIGHT) == "14 Dec 2026, 23:30 GMT"
    assert format_london_long(SUMMER_NIGHT) == "14 July 2026 at 00:30 BST"
    assert in_london(SUMMER_NIGHT).utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert london_date(WINTER_NIGHT) == date(2026, 12, 14)
    # A London day starts at 23:00 UTC the evening before in summer, at midnight in winter;
    # the day the clocks go forward (29 March 2026) starts at midnight GMT and is 23 hours.
    assert start_of_london_day(date(2026, 7, 14)) == datetime(2026, 7, 13, 23, 0, tzinfo=UTC)
    assert start_of_london_day(date(2026, 12, 14)) == datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
    assert (start_of_london_day(date(2026, 3, 30)) - start_of_london_day(date(2026, 3, 29))
            ).total_seconds() == 23 * 3600


def _offer(session: Session, **overrides: Any) -> Offer:
    values: dict[str, Any] = {
        "category": "conservation", "unit": "hour", "tiers": [("1", "45.00")],
        "valid_from": date(2026, 1, 1), "valid_until": date(2027, 12, 31),
    }
    values.update(overrides)
    return cat.make_offer(session, acc.lma(session), **values)


def _commission(client: TestClient, app: FastAPI, who: User, offer: Offer, start: str) -> Any:
    body = {"offer_id": offer.id, "quantity": "10", "start_date": start, "end_date": "2026-12-31"}
    return client.post("/api/v1/contracts", json=body, headers=auth(app, who))


def _page(client: TestClient, app: FastAPI, who: User, path: str) -> str:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, auth(app, who)["Authorization"].removeprefix("Bearer "))
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def test_offer_validity_ends_at_midnight_in_london(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    provider_org = acc.contractor(session, "Night Owl Storage Ltd")
    provider = acc.provider(session, provider_org)
    camden = acc.manager(session, "E09000007")
    ending = cat.make_offer(session, provider_org, valid_until=date(2026, 7, 13),
                            title="Valid to 13 July")
    lasting = cat.make_offer(session, provider_org, valid_until=date(2026, 7, 14),
                             title="Valid to 14 July")
    draft = cat.make_offer(session, provider_org, valid_until=date(2026, 7, 13), publish=False)
    session.commit()

    clock.set(SUMMER_NIGHT)  # still 13 July in UTC, already 14 July in London
    titles = [o["title"] for o in client.get(
        "/api/v1/offers", params={"q": "Valid to"}, headers=auth(app, camden)).json()["items"]]
    assert titles == ["Valid to 14 July"]
    refused = client.post(f"/api/v1/offers/{draft.id}/publish", headers=auth(app, provider))
    assert refused.status_code == 422 and refused.json()["field"] == "valid_until"
    assert ending.id is not None and lasting.id is not None

    clock.set(datetime(2026, 7, 13, 22, 59, tzinfo=UTC))  # 23:59 BST on 13 July
    titles = [o["title"] for o in client.get(
        "/api/v1/offers", params={"q": "Valid to"}, headers=auth(app, camden)).json()["items"]]
    assert sorted(titles) == ["Valid to 13 July", "Valid to 14 July"]


def test_direct_commission_pages_pdf_and_report_in_london_time(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    offer = _offer(session)
    camden = acc.manager(session, "E09000007")
    session.commit()

    # Summer: the UTC day (13 July) is yesterday in London, so it cannot be the start date.
    clock.set(SUMMER_NIGHT)
    past = _commission(client, app, camden, offer, "2026-07-13")
    assert past.status_code == 422 and past.json()["field"] == "start_date"
    made = _commission(client, app, camden, offer, "2026-07-14")
    assert made.status_code == 201, made.text
    summer_id = made.json()["id"]

    page = _page(client, app, camden, f"/contracts/{summer_id}")
    assert "14 Jul 2026, 00:30 BST" in page and "UTC" not in page
    pdf = client.get(f"/api/v1/contracts/{summer_id}/pdf", headers=auth(app, camden))
    assert "Issued 14 July 2026 at 00:30 BST" in flat(" ".join(pdf_pages(pdf.content)))

    # The savings report's days are London days: issued on 14 July, not 13 July.
    def contracts_on(day: str) -> int:
        report = client.get("/api/v1/reports/savings", params={"from": day, "to": day},
                            headers=auth(app, camden)).json()
        return sum(row["contracts"] for row in report["rows"])

    assert (contracts_on("2026-07-13"), contracts_on("2026-07-14")) == (0, 1)

    # Winter: London is on GMT, 23:30 UTC is still the same day.
    clock.set(WINTER_NIGHT)
    made = _commission(client, app, camden, offer, "2026-12-14")
    assert made.status_code == 201, made.text
    page = _page(client, app, camden, f"/contracts/{made.json()['id']}")
    assert "14 Dec 2026, 23:30 GMT" in page
    assert (contracts_on("2026-12-14"), contracts_on("2026-12-15")) == (1, 0)
