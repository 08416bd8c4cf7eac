"""A provider lists an offer; a borough manager finds, compares and prices it (real Chromium)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accessibility import assert_accessible
from tests.browser import assert_no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser


def test_provider_publishes_and_manager_finds_compares_and_prices(live_server, page: Page) -> None:
    base = live_server.url
    sign_in(page, base, "thames@lap.example")
    page.goto(base + "/my-offers")
    assert_accessible(page)
    page.get_by_role("link", name="Create an offer").click()
    page.get_by_label("Title").fill("Docklands climate-controlled storage")
    page.get_by_label("Description").fill("Racked strongroom space in the Royal Docks.")
    page.get_by_label("Category").select_option("storage")
    page.get_by_label("Unit", exact=True).select_option("linear_metre_year")
    for row, (minimum, price) in enumerate([("1", "11.20"), ("100", "9.60"), ("500", "8.70")], 1):
        page.get_by_label(f"Tier {row} from quantity").fill(minimum)
        page.get_by_label(f"Tier {row} unit price in pounds").fill(price)
    # A rising price is refused, with the error beside the field.
    page.get_by_label("Tier 3 unit price in pounds").fill("9.90")
    page.get_by_label("Capacity (optional)").fill("5000")
    page.get_by_label("Lead time in days").fill("10")
    page.get_by_label("Valid from").fill("2026-01-01")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#f-tiers\\.2\\.unit_price-error")).to_contain_text("never rise")
    assert_accessible(page)
    page.get_by_label("Tier 3 unit price in pounds").fill("8.70")
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(r"/my-offers$"))
    expect(page.locator("#flash")).to_contain_text("Offer created.")
    page.get_by_role("button", name="Publish Docklands climate-controlled storage").click()
    expect(page.get_by_role("row", name=re.compile("Docklands"))).to_contain_text("published")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "camden@lap.example")
    page.goto(base + "/catalogue")
    assert_accessible(page)
    page.get_by_label("Search").fill("docklands")
    result = page.locator("#results").get_by_role("link", name="Docklands climate-controlled storage")
    expect(result).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("1 offer found")
    expect(page).to_have_url(re.compile(r"q=docklands"))  # kept in step for bookmarking
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Docklands climate-controlled storage")
    assert_accessible(page)

    # 120 m for three years, 2027-01-01..2029-12-31 = 1096 days (2028 is a leap year), tier
    # from 100 at £9.60: 120 × 9.60 × 1096 / 365 = 3459.1561… → £3,459.16; VAT £691.83;
    # total £4,150.99.
    page.get_by_label("Quantity (linear metre per year)").fill("120")
    page.get_by_label("Start date").fill("2027-01-01")
    page.get_by_label("End date").fill("2029-12-31")
    page.get_by_role("button", name="Calculate price").click()
    expect(page.locator("#quote-value")).to_have_text("£3,459.16")
    expect(page.locator("#quote-vat")).to_have_text("£691.83")
    expect(page.locator("#quote-total")).to_have_text("£4,150.99")
    expect(page).to_have_url(re.compile(r"quantity=120"))
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Compare with other")).click()
    table = page.locator("#comparison-table")
    expect(table).to_be_visible()
    # At 120 m the new offer's £9.60 beats LMA's £11.00 and Thames's own £13.80 shelving.
    # (Camden also sells storage in the demo: its own offer is listed as "yours", unranked.)
    first = table.locator("tbody tr", has_not_text="Yours").first
    expect(first).to_contain_text("Docklands climate-controlled storage")
    expect(first).to_contain_text("£9.60")
    expect(table).to_contain_text("LMA strongroom storage (shelving)")
    assert_accessible(page)


def test_catalogue_pages_at_phone_width(live_server, page: Page) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, base, "camden@lap.example")
    page.goto(base + "/catalogue?category=storage&quantity=250&sort=price")
    expect(page.locator("#result-count")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.locator("#results").get_by_role("link", name="Thames secure records storage").click()
    page.get_by_label(re.compile(r"^Quantity")).fill("250")
    page.get_by_label("Start date").fill("2027-01-01")
    page.get_by_label("End date").fill("2027-12-31")
    page.get_by_role("button", name="Calculate price").click()
    # 250 m reaches the tier from 250 at £11.40: 250 × 11.40 × 365 / 365 = £2,850.00.
    expect(page.locator("#quote-value")).to_have_text("£2,850.00")
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.goto(base + "/catalogue/compare?category=storage&unit=linear_metre_year&quantity=250")
    expect(page.locator("#comparison-table")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "thames@lap.example")
    page.goto(base + "/my-offers")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Edit Thames secure records storage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change this offer")
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    # A rising price on the edit form is refused beside the field; nothing changes.
    page.get_by_label("Tier 2 unit price in pounds").fill("14.00")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#f-tiers\\.1\\.unit_price-error")).to_contain_text("never rise")
    assert_no_sideways_scroll(page)
    assert_accessible(page)
