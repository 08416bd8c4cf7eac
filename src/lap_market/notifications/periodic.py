"""Scheduled messages: deadline reminders, standstill ended, acceptance outstanding, and the
07:00 daily digest. Each scan may run any number of times, on any number of workers: a
unique mark per message (``dispatch.claim``) lets each go out exactly once."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from lap_market import mail
from lap_market.accounts.models import Role, User
from lap_market.clock import as_utc, clock
from lap_market.contracts.models import Contract, ContractStatus
from lap_market.mail.service import absolute_url
from lap_market.notifications import events
from lap_market.notifications import recipients as who
from lap_market.notifications.dispatch import claim, send
from lap_market.notifications.kinds import Kind
from lap_market.notifications.messages import render
from lap_market.notifications.models import DigestItem
from lap_market.tenders import notifications as in_app
from lap_market.tenders.models import Award, AwardStatus, Lot, LotStatus, Tender, TenderStatus
from lap_market.tenders.workdays import (
    LONDON,
    add_working_days,
    is_working_day,
    london_date,
    standstill_over,
)

REMINDER_DAYS = (3, 1)
ACCEPTANCE_WORKING_DAYS = 5
SEND_FROM = time(7)  # scheduled mail goes out from 07:00 London time, not in the night


def working_days_before(day: date, n: int) -> date:
    """The date ``n`` working days before ``day``."""
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def london_at(day: date, at: time) -> datetime:
    """``at`` London time on ``day``, in UTC."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _due_reminder(deadline: datetime, today: date) -> int | None:
    """Which reminder (3 or 1 working days before) is due today, if any."""
    deadline_day = london_date(deadline)
    one_day = working_days_before(deadline_day, 1)
    if today >= one_day:
        return 1
    if today >= working_days_before(deadline_day, 3):
        return 3
    return None


def send_deadline_reminders(session: Session) -> int:
    """Providers offering a published tender's categories who have not bid, 3 and 1 working
    days before its submission deadline. Returns how many reminders were sent."""
    now = clock.now()
    if now < london_at(london_date(now), SEND_FROM):
        return 0
    tenders = session.exec(
        select(Tender).where(Tender.status == TenderStatus.PUBLISHED,
                             col(Tender.submission_deadline) > now)
    ).all()
    sent = 0
    for tender in tenders:
        assert tender.id is not None and tender.submission_deadline is not None
        days = _due_reminder(as_utc(tender.submission_deadline), london_date(now))
        if days is None or not claim(session, f"reminder:{days}:{tender.id}"):
            continue
        offering = who.offering_org_ids(session, who.tender_category_ids(session, tender.id))
        waiting = offering - who.bidder_org_ids(session, tender.id)
        in_app.notify(session, waiting, tender_id=tender.id, kind=Kind.DEADLINE_REMINDER,
                      message=f"{tender.reference} closes in {days} working "
                      f"day{'s' if days != 1 else ''}; your organisation has not bid.")
        send(session, render(Kind.DEADLINE_REMINDER, f"/opportunities/{tender.id}",
                             tender=tender, days=days),
             who.people(session, waiting, Role.PROVIDER), key=f"reminder:{days}:{tender.id}",
             sealed_tender_id=tender.id)  # sent to everyone but the bidders
        sent += 1
    return sent


def send_standstill_ended(session: Session) -> int:
    """Officers, once for each award whose standstill is over and whose lot awaits call-offs."""
    now = clock.now()
    rows = session.exec(
        select(Award, Lot, Tender)
        .join(Lot, col(Lot.id) == Award.lot_id)
        .join(Tender, col(Tender.id) == Award.tender_id)
        .where(Award.status == AwardStatus.STANDSTILL, Lot.status == LotStatus.AWARDED,
               col(Award.standstill_ends) < london_date(now))
    ).all()
    sent = 0
    for award, lot, tender in rows:
        if standstill_over(award.standstill_ends, now) and claim(session,
                                                                 f"standstill:{award.id}"):
            events.standstill_ended(session, tender, lot, award)
            sent += 1
    return sent


def send_acceptance_reminders(session: Session) -> int:
    """The party that has not accepted a contract 5 working days after it was issued."""
    now = clock.now()
    today = london_date(now)
    contracts = session.exec(
        select(Contract).where(Contract.status == ContractStatus.ISSUED,
                               col(Contract.issued_at) <= now - timedelta(days=5))
    ).all()
    sent = 0
    for contract in contracts:
        if add_working_days(london_date(as_utc(contract.issued_at)),
                            ACCEPTANCE_WORKING_DAYS) > today:
            continue
        for side, accepted in (("buyer", contract.buyer_accepted_at),
                               ("supplier", contract.supplier_accepted_at)):
            if accepted is None and claim(session, f"acceptance:{contract.id}:{side}"):
                events.acceptance_outstanding(session, contract, side)
                sent += 1
    return sent


def send_daily_digests(session: Session) -> int:
    """One email per person at 07:00 London time with everything they chose to get daily
    since the last one. Returns how many digests were queued.

    Items sealed to a tender (bid receipts) go in a digest of their own, sealed to that
    tender, so the person's ordinary digest can show in the admins' outbox at once."""
    now = clock.now()
    today = london_date(now)
    cutoff = london_at(today, SEND_FROM)
    if now < cutoff:
        return 0
    items = session.exec(
        select(DigestItem)
        .where(col(DigestItem.sent_at).is_(None), col(DigestItem.created_at) < cutoff)
        .order_by(col(DigestItem.user_id), col(DigestItem.id))
    ).all()
    by_user: dict[int, list[DigestItem]] = defaultdict(list)
    for item in items:
        by_user[item.user_id].append(item)
    users = {u.id: u for u in session.exec(
        select(User).where(col(User.id).in_(list(by_user)))).all()} if by_user else {}
    sent = 0
    for user_id, pending in by_user.items():
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        by_seal: dict[int | None, list[DigestItem]] = defaultdict(list)
        for item in pending:
            by_seal[item.sealed_tender_id].append(item)
        for sealed_tender_id, held in by_seal.items():
            sent += _send_digest(session, user, held, f"digest:{user_id}:{today}", now,
                                 sealed_tender_id)
    return sent


def _send_digest(session: Session, user: User, pending: list[DigestItem], key: str,
                 now: datetime, sealed_tender_id: int | None) -> int:
    """Queue one digest of ``pending`` (once per key); 1 if it was queued."""
    if sealed_tender_id is not None:
        key = f"{key}:sealed:{sealed_tender_id}"
    if not claim(session, key):
        return 0
    listed = [{"subject": i.subject, "link": absolute_url(i.link_path or "/dashboard")}
              for i in pending]
    message = render(Kind.DIGEST, "/dashboard", items=listed)
    mail.queue_email(session, to_user=user, kind=Kind.DIGEST, subject=message.subject,
                     text=message.text, html=message.html, link_path=message.link_path,
                     key=key, sealed_tender_id=sealed_tender_id)
    for item in pending:
        item.sent_at = now
        session.add(item)
    return 1
