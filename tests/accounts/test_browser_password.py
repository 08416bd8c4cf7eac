"""The password page through Chromium: reachable from the header, accessible, and its
error summary links to the field."""

from tests.accessibility import assert_accessible
from tests.browser import sign_in


def test_password_page_is_accessible_and_shows_errors(page, live_server):
    sign_in(page, live_server.url, "camden@lap.example")
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(f"{live_server.url}/account/password")
    assert page.get_by_role("heading", name="Change your password").is_visible()
    assert_accessible(page)
    page.get_by_label("Current password").fill("not-my-current-password")
    page.get_by_label("New password", exact=True).fill("a-brand-new-passphrase")
    page.get_by_label("Confirm new password").fill("a-brand-new-passphrase")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert page.get_by_role(
        "link", name="Current password: Your current password is not correct."
    ).is_visible()
    assert_accessible(page)
