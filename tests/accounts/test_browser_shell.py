"""Every role signs in through Chromium, sees its dashboard, and signs out; axe finds no
serious or critical violations on the login page or any dashboard."""

import pytest

from tests.accessibility import assert_accessible
from tests.browser import sign_in, sign_out

ROLES = [
    ("admin@lap.example", "Admin dashboard", "London Archives Partnership"),
    ("officer@lap.example", "Procurement officer dashboard", "London Archives Partnership"),
    ("camden@lap.example", "Borough manager dashboard", "Camden"),
    ("lma@lap.example", "Provider dashboard", "London Metropolitan Archives"),
    ("thames@lap.example", "Provider dashboard", "Thames Records Storage Ltd"),
]


def test_login_page_is_accessible(page, live_server):
    page.goto(f"{live_server.url}/login")
    assert page.get_by_role("heading", name="Sign in to LAP Market").is_visible()
    assert_accessible(page)


def test_wrong_password_shows_error_summary(page, live_server):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email address").fill("officer@lap.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert page.get_by_role("link", name="Email address: Incorrect email or password.").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize(("email", "heading", "organisation"), ROLES)
def test_each_role_sees_its_dashboard(page, live_server, email, heading, organisation):
    sign_in(page, live_server.url, email)
    assert page.get_by_role("heading", name=heading).is_visible()
    assert page.get_by_text(organisation).first.is_visible()
    assert page.get_by_role("heading", name=f"Recent activity in {organisation}").is_visible()
    assert_accessible(page)
    # Narrow (phone) layout stays usable.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.get_by_role("button", name="Sign out").is_visible()
    sign_out(page)
    page.goto(f"{live_server.url}/dashboard")
    page.wait_for_url(f"{live_server.url}/login?next=/dashboard")


def test_admin_adds_a_user_with_errors_beside_fields(page, live_server):
    sign_in(page, live_server.url, "admin@lap.example")
    page.goto(f"{live_server.url}/admin/users")
    assert_accessible(page)
    page.get_by_label("Full name").fill("Morgan Merton")
    page.get_by_label("Email address").fill("morgan@merton.example")
    page.get_by_label("Role").select_option("provider")
    page.get_by_label("Organisation").select_option(label="Merton (borough)")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add user").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert page.locator("#f-password-error").is_visible()
    assert_accessible(page)
    page.get_by_label("Role").select_option("borough_manager")
    page.get_by_label("Initial password").fill("merton-archives-2026")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_url(f"{live_server.url}/admin/users")
    assert page.get_by_role("cell", name="morgan@merton.example", exact=True).is_visible()
    page.goto(f"{live_server.url}/admin/organisations")
    assert page.get_by_role("cell", name="E09000024", exact=True).is_visible()
    assert_accessible(page)
