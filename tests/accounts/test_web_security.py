"""Cookie sessions, CSRF refusal, security headers and error pages."""

import re

from tests.factories import accounts as f


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client, email):
    page = client.get("/login")
    token = _csrf(page.text)
    return client.post("/login", data={"email": email, "password": f.PASSWORD,
                                       "csrf_token": token, "next": "/dashboard"},
                       follow_redirects=False)


def test_login_sets_httponly_lax_cookie_and_shows_dashboard(client, session):
    manager = f.manager(session)
    session.commit()
    response = _login(client, manager.email)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "lap_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Camden" in dashboard.text and "Borough manager dashboard" in dashboard.text


def test_login_without_csrf_token_is_refused(client, session):
    manager = f.manager(session)
    session.commit()
    client.get("/login")
    response = client.post("/login", data={"email": manager.email, "password": f.PASSWORD})
    assert response.status_code == 403
    assert "lap_session" not in response.headers.get("set-cookie", "")


def test_state_changing_web_requests_need_csrf(client, session):
    admin = f.admin(session)
    session.commit()
    assert _login(client, admin.email).status_code == 303
    # Form post without token, with a wrong token, and an HTMX-style header with a wrong token.
    form = {"name": "Evil Ltd", "kind": "contractor"}
    assert client.post("/admin/organisations", data=form).status_code == 403
    assert client.post("/admin/organisations", data={**form, "csrf_token": "0" * 64}).status_code == 403
    assert client.post("/admin/organisations", data=form,
                       headers={"X-CSRF-Token": "nope", "HX-Request": "true"}).status_code == 403
    page = client.get("/admin/organisations")
    assert "Evil Ltd" not in page.text
    # With the page's token it works, as a form field or as the HTMX header.
    token = _csrf(page.text)
    ok = client.post("/admin/organisations", data={**form, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    ok2 = client.post("/admin/organisations", data={"name": "Good Ltd", "kind": "contractor"},
                      headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert ok2.status_code == 303
    assert "Evil Ltd" in client.get("/admin/organisations").text


def test_logout_needs_csrf_and_ends_session(client, session):
    officer = f.officer(session)
    session.commit()
    _login(client, officer.email)
    assert client.post("/logout").status_code == 403
    token = _csrf(client.get("/dashboard").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_security_headers_and_request_id(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.headers["X-Request-ID"]) >= 16
    assert '<script src="/static/htmx.min.js"' in response.text
    assert client.get("/static/htmx.min.js").status_code == 200


def test_error_pages_in_house_style(client, session):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    manager = f.manager(session)
    session.commit()
    _login(client, manager.email)
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403 and "You do not have access" in forbidden.text
    api_missing = client.get("/api/v1/nothing")
    assert api_missing.status_code == 404 and api_missing.json()["code"] == "not_found"


def test_login_redirect_is_local_only(client, session):
    manager = f.manager(session)
    session.commit()
    page = client.get("/login")
    response = client.post("/login", data={"email": manager.email, "password": f.PASSWORD,
                                           "csrf_token": _csrf(page.text), "next": "//evil.example/x"},
                           follow_redirects=False)
    assert response.headers["location"] == "/dashboard"


def test_user_text_is_escaped(client, session):
    admin = f.admin(session)
    admin.name = "<script>alert(1)</script>"
    session.add(admin)
    session.commit()
    _login(client, admin.email)
    html = client.get("/dashboard").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
