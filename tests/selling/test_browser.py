"""A borough that sells lists an offer, then sees it marked "yours", unranked, when it
compares offers (real Chromium, demo data: Camden sells)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accessibility import assert_accessible
from tests.browser import sign_in

pytestmark = pytest.mark.browser


def test_a_borough_manager_lists_an_offer_and_sees_it_marked_yours(
    live_server, page: Page
) -> None:
    base = live_server.url
    sign_in(page, base, "camden@lap.example")
    # The same account that buys for Camden sells for it: its offers are in the menu.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My offers").click()
    assert_accessible(page)
    page.get_by_role("link", name="Create an offer").click()
    page.get_by_label("Title").fill("Camden overflow strongroom bays")
    page.get_by_label("Description").fill("Spare bays in Camden's strongroom, sold to members.")
    page.get_by_label("Category").select_option("storage")
    page.get_by_label("Unit", exact=True).select_option("linear_metre_year")
    page.get_by_label("Tier 1 from quantity").fill("1")
    page.get_by_label("Tier 1 unit price in pounds").fill("8.10")
    page.get_by_label("Capacity (optional)").fill("300")
    page.get_by_label("Lead time in days").fill("14")
    page.get_by_label("Valid from").fill("2026-01-01")
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(r"/my-offers"))
    page.get_by_role("button", name="Publish Camden overflow strongroom bays").click()
    expect(page.get_by_role("row", name=re.compile("Camden overflow"))).to_contain_text(
        "published")

    page.goto(base + "/catalogue/compare")
    page.get_by_label("Category").select_option("storage")
    page.get_by_label("Unit").select_option("linear_metre_year")
    page.get_by_label("Quantity").fill("120")
    page.get_by_role("button", name="Compare").click()
    table = page.locator("#comparison-table")
    expect(table).to_be_visible()
    own = table.get_by_role("row", name=re.compile("Camden overflow strongroom bays"))
    expect(own.locator("td").first).to_contain_text("Yours")
    expect(own.locator("td").first).to_contain_text("not ranked")
    # It is the cheapest, yet the ranking starts with another member's offer.
    first = table.locator("tbody tr").first
    expect(first).to_contain_text("Camden")
    ranks = table.locator("tbody tr td:first-child").all_inner_texts()
    numbers = [text for text in ranks if text.strip().isdigit()]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and numbers
    assert_accessible(page)
