"""Scheduled work run by the worker: tenders close at their deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from lap_market import jobs
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.tenders.models import Tender
from tests.factories import accounts as acc
from tests.factories import tenders as tf


def test_the_worker_closes_tenders_at_their_deadline(app, session) -> None:
    clock.set(datetime(2026, 11, 2, 9, tzinfo=UTC))
    officer = acc.officer(session)
    soon = tf.published_tender(session, officer,
                               submission_deadline=clock.now() + timedelta(hours=1))
    later = tf.published_tender(session, officer,
                                submission_deadline=clock.now() + timedelta(days=3))
    session.commit()

    jobs.run_until_idle(app.state.engine, app.state.settings)
    session.expire_all()
    assert [session.get(Tender, t.id).status for t in (soon, later)] == [  # type: ignore[union-attr]
        "published", "published"]

    clock.advance(timedelta(hours=1, minutes=1))
    jobs.run_until_idle(app.state.engine, app.state.settings)
    session.expire_all()
    assert [session.get(Tender, t.id).status for t in (soon, later)] == [  # type: ignore[union-attr]
        "closed", "published"]
    closed = session.exec(select(AuditEvent).where(AuditEvent.action == "tender.closed")).all()
    assert [e.object_id for e in closed] == [str(soon.id)]
