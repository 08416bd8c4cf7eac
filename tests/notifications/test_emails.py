"""Who hears about what, by email through a real SMTP server (aiosmtpd): a tender's whole
life walked through the services and the job worker, asserting on every received message
(recipients, subject, both parts, links, headers) and that nothing sealed ever appears."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from lap_market import jobs
from lap_market.accounts import service as accounts
from lap_market.accounts.models import User
from lap_market.accounts.schemas import UserUpdate
from lap_market.clock import clock
from lap_market.config import get_settings
from lap_market.contracts import acceptance, call_offs
from lap_market.jobs.registry import PERIODICS, discover
from lap_market.notifications import preferences
from lap_market.notifications.kinds import Mode
from lap_market.notifications.schemas import PreferenceIn
from lap_market.tenders import awards, bids, declarations, drafting, evaluation, questions, service
from lap_market.tenders.schemas import (
    AmendmentCreate,
    AnswerCreate,
    AwardIn,
    BidIn,
    DeclarationIn,
    QuestionCreate,
)
from tests.factories import accounts as acc
from tests.factories import catalogue as cf
from tests.factories import tenders as tf

PUBLIC = "https://market.lap.example"
PRICES = ("987.65", "98765", "1012.34", "101234")
STATEMENTS = ("SEALED-STATEMENT-7Q2X", "SEALED-STATEMENT-9K4P")
WINNER, LOSER = "Quietly Sealed Vaults Ltd", "Second Sealed Stores Ltd"


def utc(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)  # GMT: London = UTC


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """queue_email reads the process settings, as a serving app does."""
    monkeypatch.setenv("LAP_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()
    yield PUBLIC
    get_settings.cache_clear()


@dataclass
class Mail:
    to: str
    subject: str
    text: str
    html: str
    raw: Any


class Inbox:
    """What the SMTP server received since the last look, after the workers ran."""

    def __init__(self, app: Any, smtp: Any) -> None:
        self.app, self.smtp, self.seen = app, smtp, 0
        self.settings = app.state.settings.model_copy(update={"smtp_url": smtp.url})
        self.all: list[Mail] = []

    def new(self, session: Session, *, periodic: bool = False) -> list[Mail]:
        session.commit()
        jobs.run_until_idle(self.app.state.engine, self.settings, periodic=periodic)
        if periodic:  # the periodic jobs queued email: deliver it
            jobs.run_until_idle(self.app.state.engine, self.settings, periodic=False)
        messages = self.smtp.messages()[self.seen:]
        self.seen += len(messages)
        mails = [Mail(to=",".join(m.rcpt_tos), subject=str(m["Subject"]),
                      text=m.get_body(("plain",)).get_content(),
                      html=m.get_body(("html",)).get_content(), raw=m) for m in messages]
        self.all += mails
        return mails


def pairs(mails: list[Mail]) -> set[tuple[str, str]]:
    return {(m.to, m.subject) for m in mails}


def check_message(mail: Mail, link_path: str) -> None:
    """Both parts, the link to the page, the preferences link, and the headers."""
    message = mail.raw
    assert message.get_content_type() == "multipart/alternative"
    assert re.fullmatch(r"<[0-9a-f]{32}@lap-market>", message["Message-ID"])
    assert message["List-Unsubscribe"] == f"<{PUBLIC}/account/notifications>"
    assert f"Open it in LAP Market: {PUBLIC}{link_path}" in mail.text
    assert f'href="{PUBLIC}{link_path}"' in mail.html
    assert f"Choose which emails you get: {PUBLIC}/account/notifications" in mail.text


def sealed_leaks(mail: Mail) -> list[str]:
    blob = f"{mail.subject}\n{mail.text}\n{mail.html}"
    return [s for s in PRICES + STATEMENTS if s.lower() in blob.lower()]


@dataclass
class Cast:
    officer: User
    camden: User
    hackney: User
    winner: User
    loser: User
    idle: User  # offers storage, never bids
    conservator: User  # offers conservation only


def cast(session: Session) -> Cast:
    def provider(name: str, category: str, unit: str) -> User:
        org = acc.contractor(session, name)
        cf.make_offer(session, org, category=category, unit=unit)
        return acc.provider(session, org)

    return Cast(
        officer=acc.officer(session), camden=acc.manager(session, "E09000007"),
        hackney=acc.manager(session, "E09000012"),
        winner=provider(WINNER, "storage", "linear_metre_year"),
        loser=provider(LOSER, "storage", "box_year"),
        idle=provider("Idle Storage Ltd", "storage", "linear_metre_year"),
        conservator=provider("Only Conservation Ltd", "conservation", "item"),
    )


def test_a_tenders_life_by_email(app, session, smtp_server) -> None:  # type: ignore[no-untyped-def]
    clock.set(utc(2, 11, 9))  # Monday 2 November 2026
    c = cast(session)
    inbox = Inbox(app, smtp_server)
    tender = tf.draft_tender(session, c.officer, title="Joint archive storage 2027")
    tender.clarification_deadline = utc(9, 11, 12)
    tender.submission_deadline = utc(18, 11, 12)
    session.add(tender)
    tid = tender.id
    assert tid is not None
    lot = tf.lots_of(session, tender)[0]
    ref = tender.reference

    drafting.publish_tender(session, c.officer, tid, settings=app.state.settings)
    mails = inbox.new(session)
    assert pairs(mails) == {
        (c.camden.email, f"{ref} holding your demand is published"),
        (c.hackney.email, f"{ref} holding your demand is published"),
        *{(p.email, f"New opportunity {ref}: Joint archive storage 2027")
          for p in (c.winner, c.loser, c.idle)},
    }
    opportunity = next(m for m in mails if m.to == c.idle.email)
    check_message(opportunity, f"/opportunities/{tid}")
    assert "Wed 18 Nov 2026, 12:00 (London time)" in opportunity.text
    assert "<strong>" in opportunity.html and "Joint archive storage 2027" in opportunity.html

    question = questions.ask_question(session, c.winner, tid,
                                      data=QuestionCreate(question="Is racking <included>?"))
    mails = inbox.new(session)
    assert pairs(mails) == {(c.officer.email, f"New question on {ref}")}
    check_message(mails[0], f"/tenders/{tid}#questions")
    assert WINNER not in mails[0].text + mails[0].html  # the asker is not named
    assert "Is racking <included>?" in mails[0].text
    assert "Is racking &lt;included&gt;?" in mails[0].html  # escaped in HTML only

    questions.answer_question(session, c.officer, tid, question.id,  # type: ignore[arg-type]
                              data=AnswerCreate(answer="Yes, mobile racking."))
    mails = inbox.new(session)
    assert pairs(mails) == {(p.email, f"A question on {ref} has been answered")
                            for p in (c.winner, c.loser, c.idle)}
    assert all("Yes, mobile racking." in m.text for m in mails)

    clock.set(utc(5, 11, 14, 30))
    bids.submit_bid(session, c.winner, tid, lot.id,  # type: ignore[arg-type]
                    data=BidIn(unit_price=Decimal("987.65"), quality_statement=STATEMENTS[0]))
    mails = inbox.new(session)
    assert pairs(mails) == {(c.winner.email, f"Bid received: {ref} lot 1")}
    check_message(mails[0], f"/opportunities/{tid}")
    assert "at Thu 5 Nov 2026, 14:30 (London time)" in mails[0].text
    assert f"lot 1 ({lot.title})" in mails[0].text

    drafting.amend_tender(session, c.officer, tid, data=AmendmentCreate(
        reason="More time for site visits", submission_deadline=utc(20, 11, 12)))
    mails = inbox.new(session)
    assert pairs(mails) == {(p.email, f"Amendment 1 to {ref}")
                            for p in (c.winner, c.loser, c.idle)}
    assert all("Fri 20 Nov 2026, 12:00 (London time)" in m.text for m in mails)

    _reminders(session, inbox, c, ref, tid, lot.id)  # type: ignore[arg-type]
    before_deadline = list(inbox.all)
    _award(session, inbox, c, app, ref, tid, lot)
    _contracts(session, inbox, c, ref, tid, lot.id)  # type: ignore[arg-type]

    # Nothing sealed in any message; no bidder named before the deadline.
    assert [(m.to, m.subject, found) for m in inbox.all if (found := sealed_leaks(m))] == []
    assert [m.subject for m in before_deadline
            if WINNER in m.text + m.html or LOSER in m.text + m.html] == []
    assert len(inbox.all) == smtp_server.count() and len(inbox.all) > 25


def _reminders(session: Session, inbox: Inbox, c: Cast, ref: str, tid: int, lot_id: int) -> None:
    """3 and 1 working days before the deadline (Fri 20 Nov), from 07:00, to those who have
    not bid; each once however often the scan runs."""
    clock.set(utc(17, 11, 6, 55))  # Tuesday, before 07:00
    assert inbox.new(session, periodic=True) == []
    clock.set(utc(17, 11, 7, 5))
    mails = inbox.new(session, periodic=True)
    assert pairs(mails) == {(p.email, f"{ref} closes in 3 working days")
                            for p in (c.loser, c.idle)}
    check_message(mails[0], f"/opportunities/{tid}")
    clock.set(utc(17, 11, 15))
    assert inbox.new(session, periodic=True) == []

    clock.set(utc(18, 11, 10))
    bids.submit_bid(session, c.loser, tid, lot_id,
                    data=BidIn(unit_price=Decimal("1012.34"), quality_statement=STATEMENTS[1]))
    assert pairs(inbox.new(session)) == {(c.loser.email, f"Bid received: {ref} lot 1")}
    clock.set(utc(19, 11, 7, 30))
    assert pairs(inbox.new(session, periodic=True)) == {
        (c.idle.email, f"{ref} closes in 1 working day")}


def _award(session: Session, inbox: Inbox, c: Cast, app: Any, ref: str, tid: int,
           lot: Any) -> None:
    """The winner, the other bidder and both boroughs hear of the award; no prices."""
    clock.set(utc(20, 11, 13))
    tender = service.get_tender(session, c.officer, tid)
    rows = evaluation.evaluation_rows(session, tender, lot)
    # Issue 17: the officer declares (no conflict) before scoring and awarding.
    declarations.declare(session, c.officer, tid, data=DeclarationIn(conflict=False))
    for row, score in zip(rows, ("80", "70"), strict=True):
        evaluation.score_bid(session, c.officer, row.bid_id, quality_score=Decimal(score))
    top = evaluation.evaluation_rows(session, tender, lot)[0]
    awards.award_lot(session, c.officer, tid, lot.id, data=AwardIn(bid_id=top.bid_id),
                         settings=app.state.settings)
    mails = inbox.new(session)
    assert pairs(mails) == {
        (c.winner.email, f"{ref} lot 1: awarded to you"),
        (c.loser.email, f"{ref} lot 1: your bid was not successful"),
        (c.camden.email, f"{ref} lot 1: awarded"),
        (c.hackney.email, f"{ref} lot 1: awarded"),
    }
    camden = next(m for m in mails if m.to == c.camden.email)
    check_message(camden, f"/tenders/{tid}")
    assert f"awarded to {WINNER}" in camden.text
    assert "The standstill period ends on 2 Dec 2026." in camden.text


def _contracts(session: Session, inbox: Inbox, c: Cast, ref: str, tid: int, lot_id: int) -> None:
    """Standstill ended (officers, once), call-offs issued (both parties), and acceptance
    outstanding after 5 working days (only the party that has not accepted)."""
    clock.set(utc(3, 12, 7, 30))  # Thursday after the standstill's last day
    mails = inbox.new(session, periodic=True)
    assert pairs(mails) == {(c.officer.email, f"Call-offs ready: {ref} lot 1")}
    check_message(mails[0], f"/tenders/{tid}/lots/{lot_id}/call-offs")
    assert inbox.new(session, periodic=True) == []

    result = call_offs.issue_call_offs(session, c.officer, tender_id=tid, lot_id=lot_id)
    by_buyer = {contract.buyer_id: contract for contract in result.issued}
    mails = inbox.new(session)
    expected = {(c.winner.email, "2 contracts issued to you: please accept them")}
    for manager in (c.camden, c.hackney):
        contract = by_buyer[manager.organisation_id]
        expected.add((manager.email, f"Contract {contract.reference} issued: please accept it"))
    assert pairs(mails) == expected
    check_message(next(m for m in mails if m.to == c.camden.email),
                  f"/contracts/{by_buyer[c.camden.organisation_id].id}")
    supplier = next(m for m in mails if m.to == c.winner.email)
    check_message(supplier, "/contracts?status=issued")
    assert all(contract.reference in supplier.text for contract in result.issued)

    clock.set(utc(4, 12, 10))
    acceptance.accept_contract(session, c.camden, by_buyer[c.camden.organisation_id].id)  # type: ignore[arg-type]
    clock.set(utc(9, 12, 8))  # 4 working days after issue: not yet
    assert inbox.new(session, periodic=True) == []
    clock.set(utc(10, 12, 8))
    mails = inbox.new(session, periodic=True)
    camden_ref = by_buyer[c.camden.organisation_id].reference
    hackney_ref = by_buyer[c.hackney.organisation_id].reference
    assert pairs(mails) == {
        (c.hackney.email, f"Contract {hackney_ref} is waiting for your acceptance"),
        (c.winner.email, f"Contract {hackney_ref} is waiting for your acceptance"),
        (c.winner.email, f"Contract {camden_ref} is waiting for your acceptance"),
    }
    assert inbox.new(session, periodic=True) == []


def test_the_scheduled_scans_are_registered_as_periodic_jobs() -> None:
    discover()
    assert {"notifications.deadline_reminders", "notifications.standstill_ended",
            "notifications.acceptance_outstanding", "notifications.daily_digest"} <= set(PERIODICS)



def test_account_changes_reach_their_owner_whatever_they_chose(app, session, smtp_server) -> None:  # type: ignore[no-untyped-def]
    clock.set(utc(2, 11, 9))
    admin = acc.admin(session)
    provider = acc.provider(session)
    preferences.set_preferences(session, provider, [
        PreferenceIn(kind="account_security", mode=Mode.DAILY)])
    accounts.update_user(session, admin, provider.id,  # type: ignore[arg-type]
                         data=UserUpdate(is_active=False))
    mails = Inbox(app, smtp_server).new(session)
    assert pairs(mails) == {(provider.email, "Your LAP Market account has changed")}
    assert "deactivated: you can no longer sign in" in mails[0].text
    check_message(mails[0], "/account/notifications")
