"""Two borough managers raise demand (one by CSV), the officer previews the pooling,
creates the draft and moves a line between lots (real Chromium, axe on every page)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accessibility import assert_accessible
from tests.browser import assert_no_sideways_scroll, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_raise_pool_and_move_a_line(live_server, page: Page) -> None:
    base = live_server.url

    # Camden raises a need with the form (a fractional day is refused first).
    sign_in(page, base, "camden@lap.example")
    page.goto(base + "/needs")
    assert_accessible(page)
    page.get_by_label("Service and unit").select_option("training:course_day")
    page.get_by_label("Quantity").fill("4.5")
    page.get_by_label("Service starts").fill("2027-05-01")
    page.get_by_label("Service ends").fill("2027-05-31")
    page.get_by_role("button", name="Raise need").click()
    expect(page.locator(".lap-error-summary")).to_contain_text("whole number")
    assert_accessible(page)
    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Raise need").click()
    expect(page.get_by_role("status")).to_contain_text("Need raised")
    # The receipt is shown on the new need's own page (issue 13); the list holds it too.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Training")
    page.goto(base + "/needs")
    expect(page.locator("#needs-table")).to_contain_text("Training – course day")
    sign_out(page)

    # Hackney uploads a CSV file.
    sign_in(page, base, "hackney@lap.example")
    page.goto(base + "/needs")
    csv = (
        "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling\n"
        "training,course_day,6,2027-09-01,2027-09-30,2027-08-01,Cataloguing course,1800.00\n"
    )
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "needs.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status")).to_contain_text("1 need raised from needs.csv")
    assert_accessible(page)
    sign_out(page)

    # The officer narrows the pipeline in place, previews, creates the draft.
    sign_in(page, base, "officer@lap.example")
    page.goto(base + "/pipeline")
    assert_accessible(page)
    page.get_by_label("Category").select_option("training")
    expect(page).to_have_url(re.compile(r"category=training"))
    page.get_by_label("Unit").select_option("course_day")
    expect(page).to_have_url(re.compile(r"unit=course_day"))
    expect(page.locator("#pipeline-lines")).to_contain_text("Hackney")
    expect(page.locator("#pipeline-lines")).not_to_contain_text("Barnet")
    page.get_by_role("link", name="Preview aggregation of submitted needs").click()
    expect(page).to_have_url(re.compile(r"/pipeline/aggregate\?category=training&unit=course_day"))
    rows = page.locator("#preview-lots tbody tr")
    expect(rows).to_have_count(2)  # May and September do not overlap
    assert_accessible(page)
    page.get_by_label("Tender title (optional)").fill("Joint training days 2027")
    page.get_by_role("button", name="Create draft tender").click()
    expect(page).to_have_url(re.compile(r"/tenders/\d+/lots"))
    expect(page.get_by_role("heading", name="Joint training days 2027")).to_be_visible()
    expect(page.locator("section.lap-lot")).to_have_count(2)
    assert_accessible(page)

    # Hackney's September line joins lot 1; lot 2 empties and goes.
    hackney_select = page.get_by_label(re.compile(r"Move D\d+ \(Hackney\) to"))
    hackney_select.select_option("1")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("1 line moved")
    expect(page.locator("section.lap-lot")).to_have_count(1)
    expect(page.locator("#lot-1-title")).to_contain_text("(May 2027 – Sep 2027)")
    expect(page.locator("#lot-1")).to_contain_text("Camden")
    expect(page.locator("#lot-1")).to_contain_text("Hackney")
    assert_accessible(page)


def test_pages_at_phone_width(live_server, page: Page) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 800})

    # A borough's needs page, with the table of a refused file's row errors.
    sign_in(page, base, "camden@lap.example")
    page.goto(base + "/needs")
    bad = (
        "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling\n"
        "storage,box_year,10.5,2027-04-01,2030-03-31,,,\n"
        "digitisation,image,9000,2027-31-01,2028-03-31,,,\n"
    )
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "needs.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Upload file").click()
    expect(page.locator("#row-errors tbody tr")).to_have_count(2)
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    sign_out(page)

    # The officer's pipeline, the preview, the lot editor; then the draft is deleted and
    # its needs go back to the pipeline.
    sign_in(page, base, "officer@lap.example")
    page.goto(base + "/pipeline")
    expect(page.locator("#pipeline-summary")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.goto(base + "/pipeline/aggregate?category=conservation&unit=item")
    expect(page.locator("#preview-lots")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.get_by_role("button", name="Create draft tender").click()
    expect(page).to_have_url(re.compile(r"/tenders/\d+/lots"))
    expect(page.locator("section.lap-lot")).not_to_have_count(0)
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete draft tender").click()
    expect(page).to_have_url(re.compile(r"/pipeline\?status=submitted"))
    page.goto(base + "/pipeline/aggregate?category=conservation&unit=item")
    expect(page.locator("#preview-lots")).to_be_visible()
