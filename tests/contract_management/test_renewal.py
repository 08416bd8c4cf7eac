"""Renewal reminders 90 and 30 days before the end, once each, from the scheduled job."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from lap_market import jobs
from lap_market.clock import clock
from lap_market.tenders.models import Notification
from tests.factories import contract_management as cmf


def reminders(session) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.exec(select(Notification.message).where(
        Notification.kind == "contract.renewal_due").order_by(Notification.id)).all())


def test_reminders_at_90_and_30_days(app, session) -> None:
    active = cmf.active_contract(session)  # ends 31 March 2028
    session.commit()
    engine, settings = app.state.engine, app.state.settings
    clock.set(datetime(2027, 12, 31, 9, 0, tzinfo=UTC))  # 91 days before the end
    jobs.run_until_idle(engine, settings)
    assert reminders(session) == []
    clock.set(datetime(2028, 1, 1, 9, 0, tzinfo=UTC))  # 90 days
    jobs.run_until_idle(engine, settings)
    jobs.run_until_idle(engine, settings)
    first = reminders(session)
    assert len(first) == 1
    assert "ends on 31 March 2028, in 90 days" in first[0]
    assert "framework" in first[0] and "direct commissioning" in first[0]
    clock.set(datetime(2028, 3, 1, 9, 0, tzinfo=UTC))  # 30 days
    jobs.run_until_idle(engine, settings)
    assert len(reminders(session)) == 2 and "in 30 days" in reminders(session)[1]
    assert active.contract.reference in reminders(session)[1]
