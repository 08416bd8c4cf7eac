"""A whole tender in a real Chromium: the officer publishes, a provider asks and the officer
answers, two providers bid, the clock passes the deadline, the officer scores and awards."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.demo import DEMO_PASSWORD
from lap_market.tenders.models import Award, Tender
from tests.accessibility import assert_accessible
from tests.factories import tenders as tf

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")


def sign_in(page: Page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def assert_fits_a_phone(page: Page) -> None:
    """At 375 px nothing makes the page scroll sideways (wide tables scroll in their own
    wrapper), and the page is still accessible; then the desktop size is restored."""
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} is {overflow}px wider than a 375px phone"
        assert_accessible(page)
    finally:
        if size:
            page.set_viewport_size(size)


def test_a_whole_tender(live_server, page: Page) -> None:
    base = live_server.url
    start = clock.now().replace(second=0, microsecond=0)
    clock.set(start)
    with Session(live_server.app.state.engine) as session:
        officer = session.exec(select(User).where(User.email == "officer@lap.example")).one()
        tender = tf.draft_tender(session, officer, title="Browser storage tender")
        session.commit()
        tender_id = tender.id
    clar = (start + timedelta(days=5)).astimezone(LONDON)
    sub = (start + timedelta(days=10)).astimezone(LONDON)

    # The officer sets the deadlines and weights and publishes.
    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    page.get_by_label("Price weight (%)").fill("70")
    page.get_by_label("Quality weight (%)").fill("40")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("add up to 100")
    assert_accessible(page)
    page.get_by_label("Quality weight (%)").fill("30")
    page.get_by_label("Clarification deadline (London time)").fill(clar.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Submission deadline (London time)").fill(sub.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save details").click()
    page.get_by_role("button", name="Publish tender").click()
    expect(page.locator("main")).to_contain_text("published")
    assert_accessible(page)
    assert_fits_a_phone(page)

    # A provider finds it, asks a question and bids.
    sign_in(page, base, "thames@lap.example")
    page.goto(base + "/opportunities")
    page.get_by_role("link", name=re.compile(r"LAP-\d{4}-\d{4}")).filter(
        has_text=""
    ).first.wait_for()
    assert_accessible(page)
    page.goto(f"{base}/opportunities/{tender_id}")
    page.get_by_label("Ask a clarification question").fill("Is mobile racking acceptable?")
    page.get_by_role("button", name="Send question").click()
    expect(page.locator("#questions ~ .lap-qa").first).to_contain_text(
        "Is mobile racking acceptable?"
    )
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("0")
    page.get_by_label("Quality statement for lot 1").fill("Dartford store.")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("more than zero")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("10.00")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    expect(page.locator("#lot-" + str(tf_lot_id(live_server, tender_id)))).to_contain_text("£10.00")

    # The officer answers; the answer is published.
    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator("main")).not_to_contain_text("10.00")  # sealed
    page.get_by_label("Answer to question 1").fill("Yes, if BS EN 16893 conditions are met.")
    page.get_by_role("button", name="Publish answer to question 1").click()
    expect(page.locator("main")).to_contain_text("Answer: Yes, if BS EN 16893")

    # A second provider bids and sees the answer without the asker's name.
    sign_in(page, base, "bankside@lap.example")
    page.goto(f"{base}/opportunities/{tender_id}")
    expect(page.locator("main")).to_contain_text("Answer: Yes, if BS EN 16893")
    expect(page.locator("main")).not_to_contain_text("Thames")
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("8.00")
    page.get_by_label("Quality statement for lot 1").fill("Accredited store.")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    expect(page.locator("main")).to_contain_text("£8.00")

    # Time passes the deadline; the officer scores in place and awards.
    clock.set(start + timedelta(days=10, minutes=1))
    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator("main")).to_contain_text("closed")
    # Issue 17: the officer declares (no conflict of interest) before scoring.
    page.get_by_label("I have no conflict of interest with any bidder").check()
    page.get_by_role("button", name="Record my declaration").click()
    expect(page.locator("#declarations-table")).to_contain_text("No conflict")
    page.get_by_label("Quality score for Thames Records Storage Ltd").fill("100")
    page.get_by_role("button", name="Save score for Thames Records Storage Ltd").click()
    expect(page.locator("#evaluation")).to_contain_text("86.00")  # (70 × 80 + 30 × 100) ÷ 100
    page.get_by_label("Quality score for Bankside Conservation Studio").fill("50")
    page.get_by_role("button", name="Save score for Bankside Conservation Studio").click()
    expect(page.locator("#evaluation")).to_contain_text("85.00")  # (70 × 100 + 30 × 50) ÷ 100
    assert_accessible(page)
    # The standstill preview reads the setting, not a number written into the page.
    days = live_server.app.state.settings.standstill_working_days
    expect(page.locator("#evaluation")).to_contain_text(f"({days} working days")
    # In-place scoring shows a bad score beside its field without leaving the page.
    page.get_by_label("Quality score for Bankside Conservation Studio").fill("101")
    page.get_by_role("button", name="Save score for Bankside Conservation Studio").click()
    expect(page.locator("#evaluation .lap-error-message")).to_contain_text("100")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("Quality score for Bankside Conservation Studio").fill("50")
    page.get_by_role("button", name="Save score for Bankside Conservation Studio").click()
    expect(page.locator("#evaluation .lap-error-message")).to_have_count(0)
    page.get_by_role("button", name="Award lot 1").click()
    expect(page.locator("main")).to_contain_text("Awarded to Thames Records Storage Ltd")
    expect(page.locator("main")).to_contain_text("Standstill ends on")
    assert_accessible(page)

    # The bidder is told, on its notifications page.
    sign_in(page, base, "thames@lap.example")
    page.goto(f"{base}/notifications")
    expect(page.locator("main")).to_contain_text("is to be awarded to you")
    assert_accessible(page)

    # Camden's view of the tender holding its demand: the award, never the bids.
    sign_in(page, base, "camden@lap.example")
    page.goto(f"{base}/tenders")
    page.get_by_role("link", name=re.compile(r"LAP-\d{4}-\d{4}")).first.wait_for()
    assert_accessible(page)
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator("main")).to_contain_text("Lot 1 awarded to Thames Records Storage Ltd")
    expect(page.locator("main")).not_to_contain_text("Bankside")
    expect(page.locator("main")).not_to_contain_text("£8.00")
    assert_accessible(page)
    assert_fits_a_phone(page)
    with Session(live_server.app.state.engine) as session:
        award = session.exec(select(Award).where(Award.tender_id == tender_id)).one()
        assert session.get(Tender, tender_id).status == "awarded"  # type: ignore[union-attr]
        assert award.unit_price_pence == 1000


def tf_lot_id(live_server, tender_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(live_server.app.state.engine) as session:
        tender = session.get(Tender, tender_id)
        assert tender is not None
        return tf.lots_of(session, tender)[0].id  # type: ignore[return-value]
