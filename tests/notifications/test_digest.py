"""Preferences at work, through a real SMTP server: off sends nothing, daily sends one
digest at 07:00 London time, immediate sends at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from lap_market import jobs
from lap_market.accounts.models import Organisation, User
from lap_market.clock import clock
from lap_market.config import get_settings
from lap_market.notifications import preferences
from lap_market.notifications.kinds import Mode
from lap_market.notifications.schemas import PreferenceIn
from lap_market.tenders import drafting, questions
from lap_market.tenders.schemas import AnswerCreate, QuestionCreate
from tests.factories import accounts as acc
from tests.factories import catalogue as cf
from tests.factories import tenders as tf

PUBLIC = "https://market.lap.example"


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LAP_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()
    yield PUBLIC
    get_settings.cache_clear()


def test_off_sends_nothing_and_daily_sends_one_digest_at_seven(app, session, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings = app.state.settings.model_copy(update={"smtp_url": smtp_server.url})

    def received(*, periodic: bool = False) -> list[tuple[str, str]]:
        session.commit()
        jobs.run_until_idle(app.state.engine, settings, periodic=periodic)
        jobs.run_until_idle(app.state.engine, settings, periodic=False)
        return sorted((",".join(m.rcpt_tos), str(m["Subject"])) for m in smtp_server.messages())

    clock.set(datetime(2026, 11, 2, 10, tzinfo=UTC))  # Monday, GMT
    officer = acc.officer(session)
    chooser, other = (acc.provider(session, acc.contractor(session)) for _ in range(2))
    for provider in (chooser, other):
        cf.make_offer(session, _org(session, provider))
    preferences.set_preferences(session, chooser, [
        PreferenceIn(kind="opportunity", mode=Mode.DAILY),
        PreferenceIn(kind="answer", mode=Mode.OFF)])
    tender = tf.draft_tender(session, officer, title="Digest storage")
    tender.clarification_deadline = datetime(2026, 11, 9, 12, tzinfo=UTC)
    tender.submission_deadline = datetime(2026, 11, 30, 12, tzinfo=UTC)
    drafting.publish_tender(session, officer, tender.id,  # type: ignore[arg-type]
                           settings=app.state.settings)
    question = questions.ask_question(session, other, tender.id,  # type: ignore[arg-type]
                                      data=QuestionCreate(question="Racking?"))
    questions.answer_question(session, officer, tender.id, question.id,  # type: ignore[arg-type]
                              data=AnswerCreate(answer="Yes."))
    ref = tender.reference
    opportunity = f"New opportunity {ref}: Digest storage"
    answered = f"A question on {ref} has been answered"
    immediate = [(officer.email, f"New question on {ref}"), (other.email, answered),
                 (other.email, opportunity)]
    assert received() == sorted(immediate)  # nothing at all for the chooser yet

    clock.set(datetime(2026, 11, 2, 15, tzinfo=UTC))  # today's digest time has passed
    assert received(periodic=True) == sorted(immediate)
    clock.set(datetime(2026, 11, 3, 6, 59, tzinfo=UTC))
    assert received(periodic=True) == sorted(immediate)
    clock.set(datetime(2026, 11, 3, 7, 0, tzinfo=UTC))
    digest = (chooser.email, "Your LAP Market digest: 1 update")
    assert received(periodic=True) == sorted([*immediate, digest])
    message = next(m for m in smtp_server.messages() if m["To"] == chooser.email)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert opportunity in text and f"{PUBLIC}/opportunities/{tender.id}" in text
    assert answered not in text  # "off" means off, digest included
    assert f'href="{PUBLIC}/opportunities/{tender.id}"' in html
    assert message["List-Unsubscribe"] == f"<{PUBLIC}/account/notifications>"
    clock.set(datetime(2026, 11, 3, 11, 0, tzinfo=UTC))
    assert received(periodic=True) == sorted([*immediate, digest])  # one a day


def _org(session: Session, user: User) -> Organisation:
    org = session.get(Organisation, user.organisation_id)
    assert org is not None
    return org
