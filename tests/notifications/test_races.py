"""Two workers scanning at the same moment: each scheduled message still goes out once."""

from __future__ import annotations

import threading
from typing import Any

from sqlmodel import Session, func, select

from lap_market.mail import OutboxMessage
from lap_market.notifications import periodic
from lap_market.notifications.models import NotificationMark
from lap_market.tenders.models import Notification
from tests.factories import contracts as cof


def test_two_scans_at_once_send_the_standstill_message_once(app, session) -> None:  # type: ignore[no-untyped-def]
    awarded = cof.awarded_lot(session)
    awarded.after_standstill()
    session.commit()
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            with Session(app.state.engine) as own:
                barrier.wait(timeout=10)
                sent.append(periodic.send_standstill_ended(own))
                own.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(sent) == [0, 1]

    def count(query: Any) -> int:
        return int(session.exec(query).one())

    session.expire_all()
    assert count(select(func.count()).select_from(NotificationMark)) == 1
    assert count(select(func.count()).where(OutboxMessage.kind == "standstill_ended")) == 1
    assert count(select(func.count()).where(Notification.kind == "standstill_ended")) == 1
