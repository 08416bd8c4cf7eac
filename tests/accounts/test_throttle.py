"""Sign-in throttling per (account, client address) and per address: it cannot be turned
against the account's owner, and only configured proxies may name the client address."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import col, select

from lap_market.accounts.models import LoginFailure
from lap_market.accounts.throttle import client_address
from lap_market.config import Settings
from lap_market.main import create_app
from tests.factories import accounts as f

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
WRONG = "wrong-password-123"  # noqa: S105 - a test input


def _nets(*items: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(i, strict=False) for i in items)


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.9", None, (), "203.0.113.9"),
    # Without configured proxies the header is ignored: clients cannot pick their address.
    ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),
    # A peer that is not a configured proxy is not believed either.
    ("203.0.113.9", "1.2.3.4", ("10.0.0.0/8",), "203.0.113.9"),
    # Behind a trusted proxy the last hop it appended is the client...
    ("10.0.0.2", "198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
    # ...and whatever the client wrote to the left of it is ignored.
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
    # A chain of trusted proxies is walked right to left.
    ("10.0.0.2", "198.51.100.7, 10.0.0.3", ("10.0.0.0/8",), "198.51.100.7"),
    ("10.0.0.2", "198.51.100.7, 10.0.0.3", ("10.0.0.2", "10.0.0.3"), "198.51.100.7"),
    # A malformed hop ends the chain at the last trusted address.
    ("10.0.0.2", "198.51.100.7, not-an-ip", ("10.0.0.0/8",), "10.0.0.2"),
    # Ports and IPv6.
    ("10.0.0.2", "198.51.100.7:5123", ("10.0.0.0/8",), "198.51.100.7"),
    ("::1", "[2001:db8::5]:443", ("::1",), "2001:db8::5"),
    ("::1", "2001:db8::5", ("::1",), "2001:db8::5"),
    ("testclient", "1.2.3.4", ("10.0.0.0/8",), "testclient"),
    (None, None, (), "unknown"),
])
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, _nets(*trusted)) == expected


def test_trusted_proxies_setting(monkeypatch, tmp_path):
    assert Settings(data_dir=tmp_path).trusted_proxies == ()
    monkeypatch.setenv("LAP_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,::1")
    assert Settings(data_dir=tmp_path).trusted_proxies == _nets("10.0.0.1", "192.168.0.0/16", "::1")
    monkeypatch.setenv("LAP_TRUSTED_PROXIES", "10.0.0.1,proxy.example")
    with pytest.raises(ValidationError, match="LAP_TRUSTED_PROXIES"):
        Settings(data_dir=tmp_path)


@contextmanager
def _from(app, address: str) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, client=(address, 40000)) as client:
        yield client


def _token(client: TestClient, email: str, password: str = f.PASSWORD) -> int:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password}).status_code


def _web_login(client: TestClient, email: str, password: str = f.PASSWORD):  # type: ignore[no-untyped-def]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    return client.post("/login", follow_redirects=False, data={
        "email": email, "password": password, "csrf_token": token.group(1), "next": "/dashboard"})


def test_an_attacker_cannot_lock_the_owner_out(app, session, settings):
    manager = f.manager(session)
    session.commit()
    with _from(app, ATTACKER) as attacker, _from(app, OWNER) as owner:
        for _ in range(settings.login_max_failures):
            assert _token(attacker, manager.email, WRONG) == 401
        # The attacker's address is throttled for this account, even with the right password.
        refused = attacker.post("/api/v1/auth/token", data={"username": manager.email, "password": f.PASSWORD})
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == str(settings.login_window_minutes * 60)
        assert "from your address" in refused.json()["detail"]
        # The owner, elsewhere, signs in as usual: by the API and by the web form.
        assert _token(owner, manager.email) == 200
        assert _web_login(owner, manager.email).status_code == 303
        # ...and their success does not hand the attacker a fresh allowance.
        assert _token(attacker, manager.email, WRONG) == 429
    session.expire_all()
    rows = session.exec(select(LoginFailure).where(LoginFailure.email == manager.email)).all()
    assert {r.client_address for r in rows} == {ATTACKER}
    assert len(rows) == settings.login_max_failures


def test_the_web_form_is_throttled_the_same_way(app, session, settings):
    officer = f.officer(session)
    session.commit()
    with _from(app, ATTACKER) as attacker, _from(app, OWNER) as owner:
        for _ in range(settings.login_max_failures):
            assert _web_login(attacker, officer.email, WRONG).status_code == 401
        page = _web_login(attacker, officer.email)
        assert page.status_code == 429
        assert "Too many failed sign-in attempts" in page.text
        assert "lap_session" not in page.headers.get("set-cookie", "")
        # Web and API share one count per (account, address).
        assert _token(attacker, officer.email) == 429
        assert _web_login(owner, officer.email).status_code == 303


def test_one_address_guessing_across_accounts_is_throttled(session, settings):
    tight = settings.model_copy(update={"login_max_failures_per_address": 3})
    app = create_app(tight)
    try:
        users = [f.manager(session) for _ in range(4)]
        session.commit()
        with _from(app, ATTACKER) as attacker, _from(app, OWNER) as other:
            for user in users[:3]:
                assert _token(attacker, user.email, WRONG) == 401
            # A fourth account, never tried before, is refused to this address...
            refused = attacker.post("/api/v1/auth/token", data={"username": users[3].email, "password": WRONG})
            assert refused.status_code == 429
            assert refused.json()["detail"].startswith("Too many failed sign-in attempts from your address")
            # ...but not to anyone else.
            assert _token(other, users[0].email) == 200
    finally:
        app.state.engine.dispose()


def test_forwarded_address_counts_only_behind_a_trusted_proxy(session, settings):
    manager = f.manager(session)
    session.commit()
    proxied = settings.model_copy(update={"trusted_proxies": _nets("10.0.0.0/8")})
    app = create_app(proxied)
    try:
        with _from(app, "10.0.0.2") as proxy:
            for _ in range(settings.login_max_failures):
                response = proxy.post("/api/v1/auth/token", headers={"X-Forwarded-For": ATTACKER},
                                      data={"username": manager.email, "password": WRONG})
                assert response.status_code == 401
            spoofed = {"X-Forwarded-For": f"{OWNER}, {ATTACKER}"}  # the proxy appended ATTACKER
            assert proxy.post("/api/v1/auth/token", headers=spoofed, data={
                "username": manager.email, "password": f.PASSWORD}).status_code == 429
            assert proxy.post("/api/v1/auth/token", headers={"X-Forwarded-For": OWNER}, data={
                "username": manager.email, "password": f.PASSWORD}).status_code == 200
        with _from(app, "192.0.2.1") as direct:
            # Not a trusted proxy: its header is ignored, so rotating it gains nothing.
            for n in range(settings.login_max_failures):
                assert direct.post("/api/v1/auth/token", headers={"X-Forwarded-For": f"192.0.2.{n + 10}"},
                                   data={"username": manager.email, "password": WRONG}).status_code == 401
            assert direct.post("/api/v1/auth/token", headers={"X-Forwarded-For": OWNER}, data={
                "username": manager.email, "password": f.PASSWORD}).status_code == 429
    finally:
        app.state.engine.dispose()
    session.expire_all()
    addresses = set(session.exec(select(LoginFailure.client_address)).all())
    assert addresses == {ATTACKER, "192.0.2.1"}


def test_parallel_guesses_cannot_pass_the_limit(app, session, settings):
    """Attempts are counted before the password is checked, so a burst of parallel guesses
    gets no more than the limit checked."""
    manager = f.manager(session)
    session.commit()
    email = manager.email  # read here: the test's session is not for other threads
    attempts = settings.login_max_failures + 4
    barrier = threading.Barrier(attempts)
    results: list[int] = []

    def guess() -> None:
        with _from(app, ATTACKER) as client:
            barrier.wait(timeout=30)
            results.append(_token(client, email, WRONG))

    threads = [threading.Thread(target=guess) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == attempts
    assert set(results) <= {401, 429}
    checked = results.count(401)
    assert checked <= settings.login_max_failures
    session.expire_all()
    stored = session.exec(select(LoginFailure).where(col(LoginFailure.email) == email)).all()
    assert len(stored) == checked
