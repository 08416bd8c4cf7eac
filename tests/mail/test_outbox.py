"""Email through the outbox, delivered to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from lap_market import jobs
from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.security import csrf_token_for
from lap_market.audit.models import AuditEvent
from lap_market.clock import as_utc, clock
from lap_market.config import get_settings
from lap_market.mail import OutboxMessage, queue_email
from lap_market.mail.delivery import deliver_due, parse_smtp_url
from tests.factories import accounts as acc

PUBLIC = "https://market.lap.example"


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """queue_email reads the process settings, as a serving app does."""
    monkeypatch.setenv("LAP_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()
    yield PUBLIC
    get_settings.cache_clear()


def _queue(session: Session, user, **overrides) -> None:  # type: ignore[no-untyped-def]
    fields = {
        "kind": "tender.published",
        "subject": "New opportunity: LAP-2026-0042 Storage of archives",
        "text": "A tender in a category you offer was published.\nDeadline: 4 January 2027.",
        "html": "<p>A tender in a category you offer was published.</p>",
        "link_path": "/opportunities/42",
    }
    fields.update(overrides)
    queue_email(session, to_user=user, **fields)


def _outbox(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_a_queued_email_reaches_the_smtp_server_with_both_parts(app, session, smtp_server) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    provider = acc.provider(session)
    _queue(session, provider, key="tender.published:42:provider")
    _queue(session, provider, key="tender.published:42:provider")  # the same notification
    queue_email(session, to_address="records@camden.example", kind="contract.issued",
                subject="Contract issued", text="Your contract is ready.",
                html="<p>Your contract is ready.</p>")
    session.commit()
    rows = _outbox(session)
    assert [r.status for r in rows] == ["pending", "pending"]

    settings = app.state.settings.model_copy(update={"smtp_url": smtp_server.url,
                                                    "mail_from": "LAP Market <mail@lap.example>"})
    jobs.run_until_idle(app.state.engine, settings, periodic=False)

    received = {m["To"]: m for m in smtp_server.messages()}
    assert len(smtp_server.messages()) == 2
    message = received[provider.email]
    assert message.rcpt_tos == [provider.email]
    assert message["From"] == "LAP Market <mail@lap.example>"
    assert message["Subject"] == "New opportunity: LAP-2026-0042 Storage of archives"
    assert message["Message-ID"] == rows[0].message_id
    assert rows[0].message_id.startswith("<") and rows[0].message_id.endswith("@lap-market>")
    assert message["List-Unsubscribe"] == f"<{PUBLIC}/account/notifications>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Deadline: 4 January 2027." in text
    assert f"Open it in LAP Market: {PUBLIC}/opportunities/42" in text
    assert f"Choose which emails you get: {PUBLIC}/account/notifications" in text
    assert "<p>A tender in a category you offer was published.</p>" in html
    assert f'<a href="{PUBLIC}/opportunities/42">' in html
    assert f'<a href="{PUBLIC}/account/notifications">' in html
    assert received["records@camden.example"]["Subject"] == "Contract issued"

    rows = _outbox(session)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
    # Sent is sent: another round sends nothing.
    jobs.run_until_idle(app.state.engine, settings, periodic=False)
    assert smtp_server.count() == 2


def test_an_unreachable_server_means_retries_with_backoff_then_failed(
    app, session, smtp_server
) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    _queue(session, acc.provider(session))
    session.commit()
    closed = smtp_server.url.rsplit(":", 1)[0] + ":1"
    down = app.state.settings.model_copy(update={
        "smtp_url": closed, "mail_retry_seconds": 60, "mail_max_attempts": 3})
    engine = app.state.engine

    assert deliver_due(engine, down) == 1
    row = _outbox(session)[0]
    assert (row.status, row.attempts) == ("pending", 1)
    assert as_utc(row.next_attempt_at) == clock.now() + timedelta(seconds=60)
    assert "SMTP connection" in (row.last_error or "")
    assert deliver_due(engine, down) == 0  # not due yet
    clock.advance(timedelta(seconds=60))
    assert deliver_due(engine, down) == 1
    row = _outbox(session)[0]
    assert as_utc(row.next_attempt_at) == clock.now() + timedelta(seconds=120)  # doubled
    clock.advance(timedelta(seconds=120))
    deliver_due(engine, down)
    row = _outbox(session)[0]
    assert (row.status, row.attempts) == ("failed", 3)
    first_id = row.message_id

    # An admin sends it again once the server is back: the same Message-ID.
    admin = acc.admin(session)
    session.commit()
    client_session = _admin_client(app, admin)
    with client_session as client:
        page = client.get("/admin/outbox?status=failed")
        assert page.status_code == 200 and "New opportunity: LAP-2026-0042" in page.text
        resent = client.post(f"/admin/outbox/{row.public_id}/resend",
                             data={"csrf_token": csrf_token_for(app.state.settings.secret_key,
                                                                "c" * 32)},
                             follow_redirects=False)
        assert resent.status_code == 303
    up = app.state.settings.model_copy(update={"smtp_url": smtp_server.url})
    assert deliver_due(engine, up) == 1
    assert [m["Message-ID"] for m in smtp_server.messages()] == [first_id]
    assert _outbox(session)[0].status == "sent"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "email.resend")).one()


def _admin_client(app, admin):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, acc.session_token(app, admin))
    client.cookies.set("lap_csrf", "c" * 32)
    return client


def test_without_smtp_messages_wait_in_the_outbox_for_admins(app, session) -> None:
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    provider = acc.provider(session)
    admin = acc.admin(session)
    _queue(session, provider, text="Unique body text 7f3a for the admin page.")
    session.commit()
    assert app.state.settings.smtp_url == ""
    jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False)
    assert _outbox(session)[0].status == "pending"

    with _admin_client(app, admin) as client:
        page = client.get("/admin/outbox")
        assert page.status_code == 200
        assert "No SMTP server is configured" in page.text
        assert "Unique body text 7f3a for the admin page." in page.text
        assert provider.email in page.text and "Pending (1)" in page.text
        assert client.get("/admin/outbox?status=bogus").status_code == 422
        # Nothing to re-send while it is still pending.
        row = _outbox(session)[0]
        again = client.post(f"/admin/outbox/{row.public_id}/resend", data={
            "csrf_token": csrf_token_for(app.state.settings.secret_key, "c" * 32)})
        assert again.status_code == 409
    with _admin_client(app, provider) as client:
        assert client.get("/admin/outbox").status_code == 403


def test_smtp_urls_are_parsed() -> None:
    target = parse_smtp_url("smtp://user%40x:p%3Ass@mail.example:587?starttls=1")
    assert (target.host, target.port, target.username, target.password) == (
        "mail.example", 587, "user@x", "p:ss")
    assert target.starttls and not target.tls
    assert parse_smtp_url("smtps://mail.example").port == 465
    with pytest.raises(ValueError, match="LAP_SMTP_URL"):
        parse_smtp_url("http://mail.example")
