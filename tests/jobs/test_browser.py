"""Through Chromium: a batch whose worker died shows its progress and is finished by the
server's own worker once the lease lapses; admins read the outbox."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.contracts import call_off_jobs
from lap_market.jobs.queue import JOB
from lap_market.mail import queue_email
from tests.accessibility import assert_accessible
from tests.browser import sign_in, sign_out
from tests.factories import contracts as cf

BOROUGHS = ["E09000001", "E09000002", "E09000003", "E09000004", "E09000005", "E09000006"]


def test_a_dead_workers_batch_shows_progress_and_is_resumed(page, live_server) -> None:
    with Session(live_server.app.state.engine) as session:
        officer = session.exec(select(User).where(User.email == "officer@lap.example")).one()
        awarded = cf.awarded_lot(
            session, demands=[(gss, "25") for gss in BOROUGHS], officer=officer,
            provider=session.exec(select(User).where(User.email == "lma@lap.example")).one(),
        )
        session.commit()
        awarded.after_standstill()
        tender_id, lot_id, ref = awarded.tender.id, awarded.lot.id, awarded.tender.reference
        batch_id = call_off_jobs.start_issue(session, officer, tender_id=tender_id,  # type: ignore[arg-type]
                                             lot_id=lot_id)  # type: ignore[arg-type]
        # A worker on another machine took the job and then died (its lease runs a minute).
        session.execute(
            sa.update(JOB).where(JOB.c.key == call_off_jobs.job_key(batch_id))  # type: ignore[arg-type]
            .values(status="running", locked_by="other-machine:4242/dead", attempts=1,
                    lease_until=clock.now() + timedelta(seconds=60))
        )
        session.commit()
    base = live_server.url

    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/tenders/{tender_id}/lots/{lot_id}/call-offs")
    page.get_by_role("heading", name="Issuing call-off contracts").wait_for()
    assert page.locator("#call-off-count").inner_text() == "0 of 6"
    assert page.get_by_role("button", name="Issue 6 call-off contracts").count() == 0
    assert_accessible(page)

    clock.advance(timedelta(seconds=61))  # the lease lapses; the server's worker takes over
    page.get_by_text("6 of 6 call-off contracts issued.").wait_for(timeout=60_000)
    assert page.get_by_role("link", name=f"{ref}-L1-C06").is_visible()
    assert_accessible(page)
    sign_out(page)


def test_admins_read_the_outbox(page, live_server) -> None:
    with Session(live_server.app.state.engine) as session:
        camden = session.exec(select(User).where(User.email == "camden@lap.example")).one()
        queue_email(session, to_user=camden, kind="contract.issued",
                    subject="Your call-off contract LAP-TEST-C01 is ready",
                    text="Please review and accept it.", html="<p>Please review and accept it.</p>",
                    link_path="/contracts")
        session.commit()
    base = live_server.url
    sign_in(page, base, "admin@lap.example")
    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("heading", name="Email outbox").wait_for()
    message = page.get_by_role("region", name="Your call-off contract LAP-TEST-C01 is ready")
    assert message.get_by_text("camden@lap.example").is_visible()
    message.get_by_text("Message text").click()
    assert message.get_by_text("Please review and accept it.", exact=False).is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Pending", exact=False).click()
    page.wait_for_url(f"{base}/admin/outbox?status=pending")
    assert_accessible(page)
    sign_out(page)
