"""Migration 0003_sealfix on a database that already holds audit events, outbox messages,
notifications and digest items: down and up again keeps every row and gives each of the
first three a random public id."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, func, select

from lap_market.audit import service as audit
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.db import downgrade_migrations, run_migrations
from lap_market.mail import queue_email
from lap_market.mail.models import OutboxMessage
from lap_market.notifications.models import DigestItem
from lap_market.tenders import notifications as in_app
from lap_market.tenders.models import Notification
from tests.factories import accounts as acc

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _public_ids(session: Session, model: type) -> list[str]:
    return list(session.exec(select(model.public_id)).all())  # type: ignore[attr-defined]


def test_sealfix_migration_fills_public_ids_on_existing_rows(db_url, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    engine = app.state.engine
    with Session(engine) as session:
        officer, provider = acc.officer(session), acc.provider(session)
        for n in range(3):
            audit.record(session, officer, action="test.done", object_type="test", object_id=n)
            queue_email(session, to_user=provider, kind="test", subject=f"Subject {n}",
                        text="Text", html="<p>Text</p>")
        in_app.notify(session, {provider.organisation_id, officer.organisation_id},
                      tender_id=None, kind="test", message="Hello")
        session.add(DigestItem(user_id=provider.id, kind="test", subject="Held",
                               text="Held", created_at=NOW))
        session.commit()
        counts = {m: session.exec(select(func.count()).select_from(m)).one()
                  for m in (AuditEvent, OutboxMessage, Notification, DigestItem)}
    engine.dispose()

    downgrade_migrations(db_url, "0003_sealfix-1")
    run_migrations(db_url)
    engine.dispose()

    with Session(engine) as session:
        assert counts == {m: session.exec(select(func.count()).select_from(m)).one()
                          for m in counts}
        for model in (AuditEvent, OutboxMessage, Notification):
            ids = _public_ids(session, model)
            assert len(ids) == counts[model] and len(set(ids)) == len(ids), model
            assert all(len(p) >= 16 and not p.isdigit() for p in ids), ids
        assert session.exec(select(OutboxMessage.sealed_tender_id)).all() == [None] * 3
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
