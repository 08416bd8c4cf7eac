"""Issue 13, the borough's journeys in a real Chromium, through the pages only: compare →
quote → commission (values carried, the cheaper-offer warning, the receipt); compare → raise
a need (values carried, a past term refused beside its field, the receipt); accepting a
call-off with a purchase-order number (confirmation, receipt). axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accessibility import assert_accessible
from tests.browser import sign_in

pytestmark = pytest.mark.browser
TERM = ("2027-04-01", "2028-03-31")


def _compare(page: Page, base: str) -> None:
    """Compare boxed storage at 1,200 boxes for a year: Thames (£1.65) ranks above LMA (£1.80)."""
    page.goto(base + "/catalogue/compare")
    page.get_by_label("Category").select_option("storage")
    page.get_by_label("Unit", exact=True).select_option("box_year")
    page.get_by_label("Quantity").fill("1200")
    page.get_by_label("Service starts (optional)").fill(TERM[0])
    page.get_by_label("Service ends (optional)").fill(TERM[1])
    page.get_by_role("button", name="Compare").click()
    table = page.get_by_role("table", name=re.compile(r"2 offers at 1200 box per year"))
    expect(table).to_be_visible()
    expect(table.get_by_role("row").nth(1)).to_contain_text("Thames boxed records storage")
    assert_accessible(page)


def test_borough_compares_quotes_and_commissions_then_raises_a_need(
    live_server, page: Page
) -> None:
    base = live_server.url
    sign_in(page, base, "camden@lap.example")
    _compare(page, base)

    page.get_by_role("link", name="LMA strongroom storage (boxed)").click()
    # The quantity and term came along: the offer page has already priced them.
    expect(page.get_by_label("Quantity (box per year)")).to_have_value("1200")
    expect(page.locator("#quote")).to_contain_text("£1.80")
    assert_accessible(page)
    page.get_by_role("link", name="Commission this service").click()
    expect(page.get_by_label("Quantity (box per year)")).to_have_value("1200")
    expect(page.get_by_label("Service start date")).to_have_value(TERM[0])
    warning = page.locator("#cheaper-offer")
    expect(warning).to_contain_text("Thames boxed records storage")
    expect(warning).to_contain_text("£1.65")
    assert_accessible(page)
    page.get_by_role("button", name="Commission", exact=True).click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+$"))
    receipt = page.locator("#flash")
    expect(receipt).to_contain_text(re.compile(r"Contract LAP-DC-\d{4}-\d+ made: 1,200 at £1\.80"))
    expect(receipt).to_contain_text("1 April 2027 to 31 March 2028")
    assert_accessible(page)

    _compare(page, base)
    page.get_by_role("link", name=re.compile("Raise a need for 1200 box per year")).click()
    expect(page.get_by_label("Service and unit")).to_have_value("storage:box_year")
    expect(page.get_by_label("Quantity")).to_have_value("1200")
    expect(page.get_by_label("Service ends")).to_have_value(TERM[1])
    page.get_by_label("Service starts").fill("2025-04-01")
    page.get_by_role("button", name="Raise need").click()
    expect(page.locator("#f-start_date-error")).to_contain_text("or later")
    expect(page.get_by_role("link", name=re.compile("Service starts"))).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Service starts").fill(TERM[0])
    page.get_by_role("button", name="Raise need").click()
    expect(page).to_have_url(re.compile(r"/needs/\d+$"))
    expect(page.locator("#flash")).to_contain_text(
        re.compile(r"Need raised: D\d+: 1,200 box per year of Archive storage"))
    expect(page.locator("#need-details")).to_contain_text("1 Apr 2027 to 31 Mar 2028")
    assert_accessible(page)


def test_borough_accepts_a_call_off_with_its_po_number(live_server, page: Page) -> None:
    base = live_server.url
    sign_in(page, base, "hackney@lap.example")
    page.goto(base + "/contracts?kind=call_off&status=issued")
    assert_accessible(page)
    page.locator("#contract-results").get_by_role("link").first.click()
    reference = page.locator("h1").inner_text().split()[0]
    page.get_by_role("button", name=re.compile("^Accept contract")).click()
    expect(page.get_by_role("heading", name=f"Accept contract {reference}?")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your purchase-order number (optional)").fill("HAC-PO-2231")
    page.get_by_role("button", name=re.compile("^Confirm and accept")).click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+$"))
    expect(page.locator("#flash")).to_contain_text(
        f"You accepted contract {reference} with purchase order HAC-PO-2231")
    expect(page.get_by_text("HAC-PO-2231", exact=True)).to_be_visible()
    assert_accessible(page)
