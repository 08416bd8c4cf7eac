"""The dashboard's “Needs your action” list and the preferences page in a real Chromium,
on the demo data (checked with axe); the demo's outbox holds the notification emails."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accessibility import assert_accessible
from tests.browser import sign_in, sign_out

pytestmark = pytest.mark.browser


def test_the_action_list_leads_to_where_the_action_is_done(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    sign_in(page, base, "officer@lap.example")
    actions = page.get_by_role("region", name="Needs your action")
    expect(actions).to_be_visible()
    question = actions.get_by_role("link", name=re.compile(r"^Answer 1 question on LAP-"))
    expect(question).to_be_visible()
    expect(actions.get_by_role("link", name=re.compile(r"contracts? waiting on a party"))) \
        .to_have_attribute("href", "/contracts?status=issued")
    assert_accessible(page)
    question.click()
    expect(page).to_have_url(re.compile(r"/tenders/\d+#questions$"))
    expect(page.get_by_role("button", name=re.compile("answer", re.I)).first).to_be_visible()
    sign_out(page)

    sign_in(page, base, "hackney@lap.example")
    actions = page.get_by_role("region", name="Needs your action")
    accept = actions.get_by_role("link", name=re.compile(r"^Accept contract LAP-2026-"))
    expect(accept).to_be_visible()
    assert_accessible(page)
    accept.click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+$"))
    expect(page.get_by_role("button", name=re.compile("accept", re.I)).first).to_be_visible()
    sign_out(page)

    sign_in(page, base, "camden@lap.example")
    expect(page.get_by_role("region", name="Needs your action")).to_contain_text(
        "Nothing needs your action.")


def test_preferences_page_and_the_demo_outbox(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    sign_in(page, base, "thames@lap.example")
    page.get_by_role("link", name="Email settings").click()
    expect(page.get_by_role("heading", name="Your notifications")).to_be_visible()
    assert_accessible(page)
    receipts = page.get_by_role("group", name="Receipts for your bids")
    receipts.get_by_label("Daily digest at 07:00").check()
    contracts = page.get_by_role("group", name="Contracts issued to you")
    expect(contracts.get_by_label("Off")).to_have_count(0)  # cannot be turned off
    page.get_by_role("button", name="Save choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your choices have been saved.")
    expect(page.get_by_role("group", name="Receipts for your bids")
           .get_by_label("Daily digest at 07:00")).to_be_checked()
    sign_out(page)

    sign_in(page, base, "admin@lap.example")
    page.goto(f"{base}/admin/outbox")
    expect(page.get_by_text(re.compile(r"New opportunity LAP-2026-")).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"Contract LAP-2026-\S+ issued: please accept it")).first) \
        .to_be_visible()
