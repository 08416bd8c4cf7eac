"""A whole tender in a real Chromium: the officer pools needs and publishes (with every error
at once, then a confirmation), a provider asks and the officer answers, two providers bid and
replace with receipts, the clock passes the deadline, the officer scores a lot in one save and
awards it to the second-ranked bid with a reason."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.clock import clock, format_london
from lap_market.tenders.models import Award, Tender
from tests.accessibility import assert_accessible
from tests.browser import assert_fits_a_phone, sign_in
from tests.factories import demand as df
from tests.factories import tenders as tf

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")


def _needs_to_pool(live_server) -> None:  # type: ignore[no-untyped-def]
    """Camden's and Hackney's submitted needs for the same training days."""
    with Session(live_server.app.state.engine) as session:
        for email in ("camden@lap.example", "hackney@lap.example"):
            manager = session.exec(select(User).where(User.email == email)).one()
            df.demand(session, manager, category="training", unit="course_day", quantity=3,
                      start_date=date(2027, 5, 1), end_date=date(2027, 5, 31))
        session.commit()


def _local(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _flash(page: Page) -> Locator:
    return page.locator("#flash")


def test_a_whole_tender(live_server, page: Page) -> None:
    """Officer: aggregate → edit lots → publish (errors at once, confirm) → answer → score
    (one save) → award (confirm, reason when not top). Providers: ask, bid, replace, receipt."""
    base = live_server.url
    start = clock.now().replace(second=0, microsecond=0)
    clock.set(start)
    _needs_to_pool(live_server)

    # The officer pools the needs into a draft and gives Hackney's line a lot of its own.
    sign_in(page, base, "officer@lap.example")
    page.goto(base + "/pipeline/aggregate?category=training&unit=course_day")
    page.get_by_label("Tender title (optional)").fill("Browser training tender")
    page.get_by_role("button", name="Create draft tender").click()
    expect(page).to_have_url(re.compile(r"/tenders/\d+/lots"))
    tender_id = int(re.search(r"/tenders/(\d+)/lots", page.url).group(1))  # type: ignore[union-attr]
    page.get_by_label(re.compile(r"Move D\d+ \(Hackney\) to")).select_option("new")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("section.lap-lot")).to_have_count(2)
    assert_accessible(page)

    # Publish: every problem at once, the typed values kept, nothing published.
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator(".lap-back-link")).to_have_text("Back to tenders")
    expect(page.locator("#lots ~ table td[data-label=Status]").first).to_have_text("draft")
    page.get_by_label("Title").fill("")
    page.get_by_label("Price weight (%)").fill("70")
    page.get_by_label("Quality weight (%)").fill("40")
    page.get_by_label("Clarification deadline (London time)").fill(_local(start + timedelta(days=1)))
    page.get_by_label("Submission deadline (London time)").fill(_local(start + timedelta(days=3)))
    page.get_by_role("button", name="Publish tender").click()
    summary = page.locator(".lap-error-summary")
    expect(summary).to_contain_text("Enter a title.")
    expect(summary).to_contain_text("add up to 100")
    expect(summary).to_contain_text("at least 10 days after publication")
    expect(page.get_by_label("Price weight (%)")).to_have_value("70")
    assert_accessible(page)
    sub = start + timedelta(days=12)
    page.get_by_label("Title").fill("Browser training tender")
    page.get_by_label("Quality weight (%)").fill("30")
    page.get_by_label("Clarification deadline (London time)").fill(_local(start + timedelta(days=5)))
    page.get_by_label("Submission deadline (London time)").fill(_local(sub))
    page.get_by_role("button", name="Publish tender").click()
    expect(page).to_have_url(re.compile(rf"/tenders/{tender_id}/publish$"))
    expect(page.locator("main")).to_contain_text(format_london(sub))  # London time, GMT/BST
    expect(page.locator("#consequences")).to_contain_text("Every provider is told")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"Yes, publish LAP-")).click()
    expect(_flash(page)).to_contain_text("was published at")
    expect(_flash(page)).to_contain_text(f"bids are due by {format_london(sub)}")
    assert_accessible(page)
    assert_fits_a_phone(page)

    # A provider asks, bids, is refused, bids, replaces: each with a receipt.
    lot_id = tf_lot_id(live_server, tender_id)
    sign_in(page, base, "thames@lap.example")
    page.goto(f"{base}/opportunities/{tender_id}")
    expect(page.locator(".lap-back-link")).to_have_text("Back to opportunities")
    page.get_by_label("Ask a clarification question").fill("Is mobile racking acceptable?")
    page.get_by_role("button", name="Send question").click()
    expect(_flash(page)).to_contain_text("Your question was sent at")
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("0")
    page.get_by_label("Quality statement for lot 1").fill("Trainers with ARA accreditation.")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("Lot 1 unit price")
    expect(page.locator(".lap-error-summary")).to_contain_text("more than zero")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("10.00")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    lot_name = page.locator(f"#lot-{lot_id}-title").inner_text().split(" open")[0]
    expect(_flash(page)).to_contain_text(f"Your bid for {lot_name} was received at "
                                         f"{format_london(clock.now())}")
    expect(_flash(page)).to_contain_text("£10.00 per unit")
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("9.00")
    page.get_by_role("button", name="Replace bid for lot 1").click()
    expect(_flash(page)).to_contain_text(f"Your bid for {lot_name} was replaced at")
    expect(_flash(page)).to_contain_text("£9.00 per unit")
    expect(page.locator(f"#lot-{lot_id}")).to_contain_text("£9.00")
    assert_accessible(page)

    # The officer answers; the answer is published.
    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator("main")).not_to_contain_text("9.00")  # sealed
    page.get_by_label("Answer to question 1").fill("Yes, if BS EN 16893 conditions are met.")
    page.get_by_role("button", name="Publish answer to question 1").click()
    expect(_flash(page)).to_contain_text("Your answer was published to every provider")
    expect(page.locator("main")).to_contain_text("Answer: Yes, if BS EN 16893")

    # A second provider bids and sees the answer without the asker's name.
    sign_in(page, base, "bankside@lap.example")
    page.goto(f"{base}/opportunities/{tender_id}")
    expect(page.locator("main")).to_contain_text("Answer: Yes, if BS EN 16893")
    expect(page.locator("main")).not_to_contain_text("Thames")
    page.get_by_label("Unit price for lot 1 (£, ex VAT)").fill("8.00")
    page.get_by_label("Quality statement for lot 1").fill("Accredited conservators.")
    page.get_by_role("button", name="Submit bid for lot 1").click()
    expect(_flash(page)).to_contain_text("£8.00 per unit")

    # Past the deadline: the statements sit beside the boxes; one "Save scores" for the lot,
    # all or none.
    clock.set(sub + timedelta(minutes=1))
    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    # Issue 17: the officer declares (no conflict of interest) before scoring.
    page.get_by_label("I have no conflict of interest with any bidder").check()
    page.get_by_role("button", name="Record my declaration").click()
    expect(page.locator("#declarations-table")).to_contain_text("No conflict")
    evaluation = page.locator("#evaluation")
    expect(evaluation).to_contain_text("Trainers with ARA accreditation.")
    expect(evaluation).to_contain_text("Accredited conservators.")
    page.get_by_label("Quality score for Thames Records Storage Ltd").fill("100")
    page.get_by_label("Quality score for Bankside Conservation Studio").fill("101")
    page.get_by_role("button", name="Save scores for lot 1").click()
    expect(page.locator(".lap-error-summary")).to_contain_text(
        "The bid from Bankside Conservation Studio: enter a quality score from 0 to 100")
    expect(page.get_by_label("Quality score for Thames Records Storage Ltd")).to_have_value("100")
    expect(evaluation).not_to_contain_text("92.22")  # nothing saved
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("Quality score for Bankside Conservation Studio").fill("50")
    page.get_by_role("button", name="Save scores for lot 1").click()
    expect(_flash(page)).to_contain_text("2 scores saved for Lot 1")
    expect(evaluation).to_contain_text("92.22")  # (70 × 88.89 + 30 × 100) ÷ 100
    expect(evaluation).to_contain_text("85.00")  # (70 × 100 + 30 × 50) ÷ 100
    days = live_server.app.state.settings.standstill_working_days
    expect(evaluation).to_contain_text(f"({days} working days")

    # Awarding to the second-ranked bid: the confirmation asks why.
    page.get_by_label(re.compile(r"Bankside Conservation Studio \(rank 2")).check()
    page.get_by_role("button", name="Award lot 1…").click()
    expect(page.locator("h1")).to_have_text("Award lot 1 to Bankside Conservation Studio?")
    expect(page.locator("main")).to_contain_text("£8.00 per unit")
    page.get_by_role("button", name="Yes, award lot 1 to Bankside Conservation Studio").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("not ranked first")
    assert_accessible(page)
    page.get_by_label(re.compile(r"Why award to Bankside")).fill("Conservation expertise.")
    page.get_by_role("button", name="Yes, award lot 1 to Bankside Conservation Studio").click()
    expect(_flash(page)).to_contain_text("was awarded to Bankside Conservation Studio at £8.00")
    expect(page.locator("main")).to_contain_text("Awarded to Bankside Conservation Studio")
    assert_accessible(page)

    # Camden's view of the tender holding its demand: the award, never the bids.
    sign_in(page, base, "camden@lap.example")
    page.goto(f"{base}/tenders/{tender_id}")
    expect(page.locator("main")).to_contain_text("Lot 1 awarded to Bankside Conservation Studio")
    expect(page.locator("main")).not_to_contain_text("Thames")
    expect(page.locator("main")).not_to_contain_text("£9.00")
    assert_accessible(page)
    assert_fits_a_phone(page)
    with Session(live_server.app.state.engine) as session:
        award = session.exec(select(Award).where(Award.tender_id == tender_id)).one()
        assert award.unit_price_pence == 800 and award.reason == "Conservation expertise."


def tf_lot_id(live_server, tender_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(live_server.app.state.engine) as session:
        tender = session.get(Tender, tender_id)
        assert tender is not None
        return tf.lots_of(session, tender)[0].id  # type: ignore[return-value]
