"""Browser sign-in helpers shared by tests (API tokens: ``tests.factories.accounts``)."""

from __future__ import annotations


def browser_login(page, base_url: str, email: str, password: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real login form (demo password by default)."""
    from lap_market.demo import DEMO_PASSWORD

    page.goto(f"{base_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/dashboard")


def browser_logout(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """Sign out with the header button."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/login")
