"""An officer reads the savings dashboard in a real browser and regroups it in place."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlmodel import Session

from tests.accessibility import assert_accessible
from tests.factories import accounts as fa
from tests.factories import reports as fr


def test_officer_reads_savings_and_switches_grouping(live_server, page):
    with Session(live_server.app.state.engine) as session:
        officer = fa.officer(session)
        contractor = fa.contractor(session, "Browser Test Conservation Ltd")
        # Issued in 2021, before any demo contract, so the date filter isolates them:
        # Camden 1000.00 against 1250.00, Hackney 351.00 against 400.00; saving
        # 250.00 + 49.00 = 299.00 of 1650.00 standalone = 18.12…% → 18.1.
        fr.contract(
            session, buyer=fa.borough(session, "E09000007"), supplier=fa.lma(session),
            issued_by=officer, value="1000.00", standalone="1250.00",
            issued_at=datetime(2021, 5, 4, 12, tzinfo=UTC),
        )
        fr.contract(
            session, buyer=fa.borough(session, "E09000012"), supplier=contractor,
            issued_by=officer, category="conservation", value="351.00", standalone="400.00",
            issued_at=datetime(2021, 6, 1, 12, tzinfo=UTC),
        )
        session.commit()
        email = officer.email

    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(fa.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Savings", exact=True)).to_be_visible()

    page.get_by_role("link", name="Savings", exact=True).click()
    expect(page.get_by_role("heading", name="Savings from buying together")).to_be_visible()
    page.get_by_label("Issued from").fill("2021-01-01")
    page.get_by_label("Issued to").fill("2021-12-31")
    page.get_by_role("button", name="Apply dates").click()
    expect(page.locator("#headline-saving")).to_have_text("£299.00 (18.1%)")
    expect(page).to_have_url(re.compile(r"from=2021-01-01&to=2021-12-31"))
    expect(page.get_by_role("img", name="Contracted and standalone value by borough")).to_be_visible()
    table = page.get_by_role("table", name=re.compile("Savings by borough"))
    expect(table.get_by_role("rowheader")).to_have_text([
        "Camden (E09000007)", "Hackney (E09000012)", "Total"
    ])
    assert_accessible(page)

    page.evaluate("window.__samePage = true")
    page.get_by_role("link", name="By category").click()
    expect(page).to_have_url(re.compile(r"group_by=category&from=2021-01-01&to=2021-12-31"))
    table = page.get_by_role("table", name=re.compile("Savings by category"))
    expect(table.get_by_role("rowheader")).to_have_text(["Archive storage", "Conservation", "Total"])
    expect(page.get_by_role("link", name="By category")).to_have_attribute("aria-current", "true")
    expect(page.locator("#headline-saving")).to_have_text("£299.00 (18.1%)")
    assert page.evaluate("window.__samePage") is True  # swapped in place, not reloaded
    # At phone width the chart shrinks to fit and only the table's own box scrolls.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    chart = page.get_by_role("img", name="Contracted and standalone value by category")
    box = chart.bounding_box()
    assert box is not None and box["width"] <= 375
    assert_accessible(page)
    expect(page.get_by_role("link", name=re.compile("Download these figures as CSV"))).to_have_attribute(
        "href", "/savings.csv?group_by=category&from=2021-01-01&to=2021-12-31"
    )
    assert_accessible(page)
