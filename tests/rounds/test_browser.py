"""A demand round in real Chromium, from opening to tender: the officer opens it (a close in
the past is refused first), Camden adds a line by form (one outside the term is refused) and
one by CSV, sees its own saving and confirms with a budget reference; Hackney declares a
nil return; the officer sees the grid, reminds, extends, and once the clock has passed the
close pools the confirmed lines into a draft tender that names the round. Every page is
checked with axe, and at 390 px nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from lap_market.clock import clock, in_london
from tests.accessibility import assert_accessible
from tests.browser import checked, sign_in, sign_out

pytestmark = pytest.mark.browser
HEADER = "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling\n"


def local(moment) -> str:  # type: ignore[no-untyped-def]
    return in_london(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_round_from_opening_to_tender(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    start = clock.now().replace(second=0, microsecond=0)
    clock.set(start)
    closes = start + timedelta(days=20)

    # The officer opens a round; a close in the past is refused, naming the field.
    sign_in(page, base, "officer@lap.example")
    page.get_by_role("link", name="Demand rounds").first.click()
    expect(page.locator("#rounds-table")).to_contain_text("Storage and conservation")
    checked(page)
    page.get_by_label("Title").fill("Archive storage round")
    page.locator("#f-category-storage").check()
    page.get_by_label("Term starts").fill("2027-04-01")
    page.get_by_label("Term ends").fill("2030-03-31")
    page.get_by_label("Closes at (London time)").fill(local(start - timedelta(days=1)))
    page.get_by_role("button", name="Open round").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("Closes at")
    assert_accessible(page)
    page.get_by_label("Closes at (London time)").fill(local(closes))
    page.get_by_role("button", name="Open round").click()
    expect(page.get_by_role("status")).to_contain_text("The round is open")
    round_url = page.url.split("?")[0]
    expect(page.locator("#response-grid tbody tr")).to_have_count(33)
    checked(page)
    sign_out(page)

    # Camden: a line outside the term is refused; one by form, one by CSV; confirm.
    sign_in(page, base, "camden@lap.example")
    page.goto(round_url)
    page.get_by_label("Service and unit").select_option("storage:linear_metre_year")
    page.get_by_label("Quantity").fill("80")
    page.get_by_label("Service starts").fill("2027-01-04")
    page.get_by_label("Service ends").fill("2027-12-31")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("the start of round")
    assert_accessible(page)
    page.get_by_label("Service starts").fill("2027-04-01")
    page.get_by_label("Service ends").fill("2028-03-31")
    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_role("status")).to_contain_text("The line has been added")
    csv = HEADER + "storage,box_year,300,2027-04-01,2028-03-31,,Boxed minutes,\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "round.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status")).to_contain_text("The file's lines have been added")
    expect(page.locator("#lines-table tbody tr")).to_have_count(2)
    expect(page.locator("#estimate-table")).to_contain_text("Camden")
    page.get_by_label("Budget reference (optional)").fill("CAM-ARC-1")
    page.get_by_role("button", name="Confirm our return").click()
    expect(page.get_by_role("status")).to_contain_text("Your return is confirmed")
    expect(page.locator("#return-status")).to_contain_text("confirmed")
    checked(page)
    sign_out(page)

    # Hackney needs nothing this round.
    sign_in(page, base, "hackney@lap.example")
    page.goto(round_url)
    page.get_by_role("button", name="We need nothing this round").click()
    expect(page.locator("#return-status")).to_contain_text("nil return")
    checked(page)
    sign_out(page)

    # The officer: the grid, a reminder, an extension; then the close passes and one click
    # pools the confirmed lines into a draft tender that names the round.
    sign_in(page, base, "officer@lap.example")
    page.goto(round_url)
    grid = page.locator("#response-grid")
    expect(grid.locator("tr", has_text="Camden")).to_contain_text("confirmed")
    expect(grid.locator("tr", has_text="Camden")).to_contain_text("CAM-ARC-1")
    expect(grid.locator("tr", has_text="Hackney")).to_contain_text("nil return")
    page.get_by_role("button", name="Remind boroughs that have not confirmed").click()
    expect(page.get_by_role("status")).to_contain_text("reminded")
    page.get_by_label("New close (London time)").fill(local(closes + timedelta(days=7)))
    page.get_by_label("Reason").fill("Budgets are set next week.")
    page.get_by_role("button", name="Extend").click()
    expect(page.get_by_role("status")).to_contain_text("The close has been moved")
    expect(page.get_by_text("Budgets are set next week.")).to_be_visible()
    checked(page)
    clock.set(closes + timedelta(days=7, minutes=1))
    sign_in(page, base, "officer@lap.example")  # the session lapsed over the weeks passed
    page.goto(round_url)
    expect(page.locator("#round-facts")).to_contain_text("closed")
    page.get_by_role("button", name="Pool confirmed lines into a draft tender").click()
    expect(page.get_by_role("status")).to_contain_text("pooled into a draft tender")
    checked(page)
    page.locator("#tender-link").click()
    expect(page.locator("#demand-round")).to_contain_text("Archive storage round")
    assert_accessible(page)
