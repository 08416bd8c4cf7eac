"""A borough calls off from the demo framework by direct award, and the top-ranked supplier
accepts: through the pages only, each checked with axe and at phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import checked, sign_in

pytestmark = pytest.mark.browser


def test_direct_award_call_off_accepted_by_the_top_ranked_member(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    sign_in(page, base, "hackney@lap.example")
    page.get_by_role("link", name="Frameworks").first.click()
    checked(page, accessible_on_phone=False)
    page.get_by_role("link", name=re.compile(r"-FW$")).click()
    expect(page.get_by_role("heading", name="Conservation services framework 2026–2029")).to_be_visible()
    checked(page, accessible_on_phone=False)
    page.get_by_role("link", name="Call off from lot 1").click()
    first = page.locator("#cascade-first")
    expect(first).to_contain_text("Thames")
    expect(first).to_contain_text("£48.00")
    checked(page, accessible_on_phone=False)
    page.get_by_role("button", name="Call off").click()  # nothing filled in
    expect(page.locator(".lap-error-summary")).to_contain_text("Quantity")
    checked(page, accessible_on_phone=False)
    page.get_by_label("Quantity (hour)").fill("25")
    page.get_by_label("Service starts").fill("2027-05-01")
    page.get_by_label("Service ends").fill("2027-10-31")
    page.get_by_label("Specification").fill("Conservation of a fire-damaged minute book.")
    page.get_by_role("button", name="Call off").click()
    expect(page.locator("#flash")).to_contain_text("offered to the top-ranked supplier")
    expect(page.locator("main")).to_contain_text("Thames")
    checked(page, accessible_on_phone=False)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "thames@lap.example")
    page.get_by_role("link", name="Call-off offers").first.click()
    checked(page, accessible_on_phone=False)
    row = page.locator("tr", has=page.get_by_text("pending"))
    row.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("Hackney")
    expect(page.locator("main")).to_contain_text("£48.00")
    checked(page, accessible_on_phone=False)
    page.get_by_role("link", name="Accept").click()
    expect(page.get_by_role("heading", name="Accept this call-off?")).to_be_visible()
    checked(page, accessible_on_phone=False)
    page.get_by_role("button", name="Yes, accept the call-off").click()
    expect(page.locator("#flash")).to_contain_text("You have accepted the call-off")
    expect(page.locator("main")).to_contain_text("accepted")
    checked(page, accessible_on_phone=False)
