"""What the browser tests share: signing in and out through the real forms, and the checks
that a page reads on a phone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from lap_market.demo import DEMO_PASSWORD
from tests.accessibility import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page


def sign_in(page: Page, base: str, email: str, password: str | None = None) -> None:
    """Sign in through the real login form (the demo password by default). Whoever was
    signed in before is forgotten first, so a journey can switch people in one browser."""
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def sign_out(page: Page) -> None:
    """Sign out with the header button."""
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def assert_no_sideways_scroll(page: Page) -> None:
    """At the page's present width the page itself does not scroll sideways (wide tables
    scroll inside their own wrapper)."""
    width, viewport = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= viewport, f"{page.url} is {width} px wide at {viewport} px"


def assert_fits_a_phone(
    page: Page, width: int = 375, height: int = 800, *, accessible: bool = True
) -> None:
    """At a phone's size nothing makes the page scroll sideways and (unless ``accessible`` is
    False) the page is still accessible; then the earlier size is restored."""
    size = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        assert_no_sideways_scroll(page)
        if accessible:
            assert_accessible(page)
    finally:
        if size:
            page.set_viewport_size(size)


def checked(page: Page, *, accessible_on_phone: bool = True) -> None:
    """Accessible as it is, and it fits a 390 px phone."""
    assert_accessible(page)
    assert_fits_a_phone(page, 390, 844, accessible=accessible_on_phone)
