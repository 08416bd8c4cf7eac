"""The "Commission this service" page: the quote, the 422 that offers demand instead."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from lap_market.accounts.security import csrf_token_for
from lap_market.clock import clock
from lap_market.contracts.models import Contract
from tests.factories import accounts as acc
from tests.factories import catalogue as cat


def test_commission_page_quotes_refuses_and_commissions(session, client, app) -> None:
    clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    offer = cat.make_offer(session, acc.lma(session), category="conservation", unit="hour",
                           tiers=[("1", "45.00"), ("50", "40.00")], title="Studio hours")
    manager = acc.manager(session)
    session.commit()
    secret = app.state.settings.secret_key
    client.cookies.set("lap_session", acc.session_token(app, manager))
    client.cookies.set("lap_csrf", "c" * 32)
    url = f"/catalogue/offers/{offer.id}/commission"

    page = client.get(url, params={"quantity": "60", "start_date": "2027-01-04",
                                   "end_date": "2027-03-31"})
    assert page.status_code == 200
    assert "£2,400.00" in page.text and "£2,880.00" in page.text

    over = client.get(url, params={"quantity": "700", "start_date": "2027-01-04",
                                   "end_date": "2027-03-31"})
    assert over.status_code == 422
    assert "direct-award limit" in over.text
    assert "raise it as demand instead" in over.text
    assert "/needs?category=conservation&amp;unit=hour&amp;quantity=700" in over.text

    made = client.post(url, data={"quantity": "60", "start_date": "2027-01-04",
                                  "end_date": "2027-03-31",
                                  "csrf_token": csrf_token_for(secret, "c" * 32)},
                       follow_redirects=False)
    assert made.status_code == 303
    contract = session.exec(select(Contract)).one()
    assert made.headers["location"] == f"/contracts/{contract.id}"
    detail = client.get(made.headers["location"])
    assert detail.status_code == 200 and contract.reference in detail.text
    assert "Accept contract" in detail.text
