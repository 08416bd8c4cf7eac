"""Cache-Control on signed-in pages and API JSON; HSTS and Permissions-Policy over HTTPS."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lap_market.main import create_app
from tests.factories import accounts as f


def _web_login(client: TestClient, email: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post("/login", follow_redirects=False, data={
        "email": email, "password": f.PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 303


def test_signed_in_pages_and_api_json_are_never_stored(client, session):
    admin = f.admin(session)
    session.commit()
    headers = f.token_headers(client, admin.email)
    api = [
        client.get("/api/v1/me", headers=headers),
        client.get("/api/v1/users", headers=headers),
        client.get("/api/v1/me"),                      # a 401 error body
        client.get("/api/v1/users/x", headers=headers),  # a 422 validation error
        client.get("/api/v1/openapi.json"),
    ]
    for response in api:
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["Cache-Control"] == "no-store", response.request.url
    _web_login(client, admin.email)
    for path in ("/dashboard", "/admin/users", "/admin/organisations", "/account/password",
                 "/no-such-page"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    fragment = client.get("/admin/users", headers={"HX-Request": "true"})
    assert fragment.headers["Cache-Control"] == "no-store"
    # Static assets keep their own caching.
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_no_hsts_over_plain_http(client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "Permissions-Policy" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/healthz", "/static/app.css"])
def test_hsts_and_permissions_policy_when_cookies_are_secure(settings, path):
    app = create_app(settings.model_copy(update={"cookie_secure": True}))
    try:
        with TestClient(app, base_url="https://testserver") as client:
            response = client.get(path)
    finally:
        app.state.engine.dispose()
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    policy = response.headers["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy
