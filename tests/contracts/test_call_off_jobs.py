"""The page queues the call-off job; page and API follow its progress; a job given up
after its workers kept dying frees the lot to be issued again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from lap_market import jobs
from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.security import csrf_token_for
from lap_market.clock import clock
from lap_market.contracts import call_off_jobs
from lap_market.contracts.models import CallOffBatch, Contract
from lap_market.jobs import queue
from lap_market.jobs.models import Job
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import contracts as cf


def _sign_in(client, app, user) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set(SESSION_COOKIE, acc.session_token(app, user, minutes=600))
    client.cookies.set("lap_csrf", "c" * 32)


def test_the_page_queues_the_job_and_both_faces_show_progress(session, client, app) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "10"), ("E09000012", "12"),
                                               ("E09000019", "14")])
    session.commit()
    awarded.after_standstill()
    _sign_in(client, app, awarded.officer)
    page_url = f"/tenders/{awarded.tender.id}/lots/{awarded.lot.id}/call-offs"
    api_url = f"/api/v1{page_url}/progress"

    started = client.post(page_url, data={"csrf_token": csrf_token_for(
        app.state.settings.secret_key, "c" * 32)}, follow_redirects=False)
    assert started.status_code == 303
    batch = session.exec(select(CallOffBatch)).one()
    job = session.exec(select(Job).where(Job.key == call_off_jobs.job_key(batch.id))).one()  # type: ignore[arg-type]
    assert (batch.status, batch.total, job.status) == ("running", 3, "queued")
    page = client.get(page_url)
    assert "Issuing call-off contracts" in page.text and "0 of 3" in page.text
    assert "Issue 3 call-off contracts" not in page.text  # no second batch while one runs
    progress = client.get(api_url, headers=auth(app, awarded.officer)).json()
    assert (progress["status"], progress["done"], progress["total"]) == ("running", 0, 3)
    # A second press while it runs starts nothing new.
    client.post(page_url, data={"csrf_token": csrf_token_for(
        app.state.settings.secret_key, "c" * 32)})
    assert len(session.exec(select(CallOffBatch)).all()) == 1

    assert jobs.run_until_idle(app.state.engine, app.state.settings, periodic=False) == 1
    progress = client.get(api_url, headers=auth(app, awarded.officer)).json()
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 3, 3)
    assert "3 of 3 call-off contracts issued." in client.get(page_url).text
    assert len(session.exec(select(Contract)).all()) == 3


def test_a_job_whose_workers_keep_dying_is_given_up_and_the_lot_freed(
    session, client, app
) -> None:
    awarded = cf.awarded_lot(session, demands=[("E09000007", "10")])
    session.commit()
    awarded.after_standstill()
    batch_id = call_off_jobs.start_issue(session, awarded.officer, tender_id=awarded.tender.id,  # type: ignore[arg-type]
                                         lot_id=awarded.lot.id)  # type: ignore[arg-type]
    session.commit()
    engine, settings = app.state.engine, app.state.settings
    lease = jobs.lease_of(settings)
    for n in range(1 + queue.LOST_LEASE_ALLOWANCE):  # each claimer dies holding the job
        assert queue.claim(engine, f"doomed-{n}", lease) is not None
        clock.advance(lease + timedelta(seconds=1))
    jobs.run_until_idle(engine, settings, periodic=False)
    session.expire_all()
    job = session.exec(select(Job).where(Job.key == call_off_jobs.job_key(batch_id))).one()  # type: ignore[arg-type]
    assert job.status == "failed" and "Gave up after 7 starts" in (job.last_error or "")
    assert session.exec(select(Contract)).all() == []
    _sign_in(client, app, awarded.officer)
    page = client.get(f"/tenders/{awarded.tender.id}/lots/{awarded.lot.id}/call-offs")
    assert "Nothing was issued" in page.text and "kept stopping" in page.text
    assert "Issue 1 call-off contracts" in page.text  # the officer can try again
    progress = client.get(f"/api/v1/tenders/{awarded.tender.id}/lots/{awarded.lot.id}"
                          "/call-offs/progress", headers=auth(app, awarded.officer)).json()
    assert progress["status"] == "failed" and "kept stopping" in progress["error"]
