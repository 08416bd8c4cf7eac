"""“Needs your action” on each dashboard: what is listed for whom, where each item links, and
a query count that does not grow with the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from lap_market.accounts.models import Organisation, User
from lap_market.clock import clock
from lap_market.notifications.actions import needs_action
from lap_market.tenders.models import Question, TenderStatus
from tests.factories import accounts as acc
from tests.factories import catalogue as cf
from tests.factories import contracts as cof
from tests.factories import tenders as tf
from tests.statements import on_statements

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)


def _org(session: Session, user: User) -> Organisation:
    org = session.get(Organisation, user.organisation_id)
    assert org is not None
    return org


def _labels(session: Session, user: User) -> dict[str, str]:
    return {item.label: item.href for item in needs_action(session, user)}


def _question(session: Session, tender_id: int, provider: User) -> Question:
    question = Question(tender_id=tender_id, asked_by_org_id=provider.organisation_id,
                        asked_by_id=provider.id, question="Is racking included?",  # type: ignore[arg-type]
                        asked_at=clock.now())
    session.add(question)
    session.flush()
    return question


def test_officer_sees_questions_bids_to_score_call_offs_and_waiting_contracts(session) -> None:  # type: ignore[no-untyped-def]
    awarded = cof.awarded_lot(session)  # clock at the award; standstill running
    officer, provider = awarded.officer, awarded.provider
    assert _labels(session, officer) == {}
    open_tender = tf.published_tender(session, officer, title="Open one")
    _question(session, open_tender.id, provider)  # type: ignore[arg-type]
    closed = tf.published_tender(session, officer, title="Closed one",
                                 submission_deadline=clock.now() + timedelta(hours=1))
    tf.bid(session, provider, tf.lots_of(session, closed)[0])
    session.commit()
    labels = _labels(session, officer)
    assert labels == {f"Answer 1 question on {open_tender.reference}":
                      f"/tenders/{open_tender.id}#questions"}
    clock.advance(timedelta(hours=2))  # past the closed tender's deadline
    assert _labels(session, officer)[f"Score 1 bid on {closed.reference}"] == (
        f"/tenders/{closed.id}#evaluation")
    closed.status = TenderStatus.CLOSED  # as the scheduled close job stores it
    session.add(closed)
    session.commit()
    assert f"Score 1 bid on {closed.reference}" in _labels(session, officer)
    awarded.after_standstill()
    ready = f"Issue the call-offs for {awarded.tender.reference} lot 1"
    assert _labels(session, officer)[ready] == (
        f"/tenders/{awarded.tender.id}/lots/{awarded.lot.id}/call-offs")
    cof.issued_call_offs(session, awarded)
    session.commit()
    labels = _labels(session, officer)
    assert ready not in labels
    assert labels["2 contracts waiting on a party's acceptance"] == "/contracts?status=issued"


def test_boroughs_and_providers_see_contracts_to_accept_and_closing_opportunities(session) -> None:  # type: ignore[no-untyped-def]
    awarded = cof.awarded_lot(session)
    contracts = cof.issued_call_offs(session, awarded)
    camden = acc.manager(session, "E09000007")
    session.commit()
    camden_contract = next(c for c in contracts if c.buyer_id == camden.organisation_id)
    assert _labels(session, camden) == {
        f"Accept contract {camden_contract.reference}": f"/contracts/{camden_contract.id}"}
    supplier_labels = _labels(session, awarded.provider)
    assert {f"Accept contract {c.reference}" for c in contracts} <= set(supplier_labels)

    # A provider offering storage sees storage tenders closing within the week it has not bid on.
    rival = acc.provider(session)
    cf.make_offer(session, _org(session, rival), category="storage", unit="linear_metre_year")
    soon = tf.published_tender(session, awarded.officer, title="Closing soon",
                               submission_deadline=clock.now() + timedelta(days=3))
    later = tf.published_tender(session, awarded.officer, title="Closing later",
                                submission_deadline=clock.now() + timedelta(days=20))
    other = tf.published_tender(session, awarded.officer, title="Digitisation", lots=[
        {"category": "digitisation", "unit": "image", "demands": []}],
        submission_deadline=clock.now() + timedelta(days=2))
    session.commit()
    labels = _labels(session, rival)
    assert labels == {f"Bid for {soon.reference}: Closing soon": f"/opportunities/{soon.id}"}
    assert later.reference not in str(labels) and other.reference not in str(labels)
    tf.bid(session, rival, tf.lots_of(session, soon)[0], unit_price=Decimal("8.00"))
    session.commit()
    assert _labels(session, rival) == {}


def test_the_dashboard_takes_a_fixed_number_of_queries(client, session, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    officer = acc.officer(session)
    provider = acc.provider(session)
    cf.make_offer(session, _org(session, provider), category="storage", unit="linear_metre_year")
    session.commit()
    headers = {"officer": acc.token_headers(client, officer.email),
               "provider": acc.token_headers(client, provider.email)}
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    def queries(who: str) -> int:
        client.cookies.set("lap_session", headers[who]["Authorization"].removeprefix("Bearer "))
        statements.clear()
        with on_statements(app, count):
            response = client.get("/dashboard")
            client.cookies.clear()
        assert response.status_code == 200 and "Needs your action" in response.text
        return len(statements)

    def add(n: int) -> None:
        for _ in range(n):
            tender = tf.published_tender(session, officer,
                                         submission_deadline=clock.now() + timedelta(days=3))
            _question(session, tender.id, provider)  # type: ignore[arg-type]
        session.commit()

    add(1)
    for who in headers:  # the first request of a process reads the cached reference data
        queries(who)
    few = {who: queries(who) for who in headers}
    add(5)
    many = {who: queries(who) for who in headers}
    assert many == few, (few, many)
