"""A demand round from opening to tender through the API, on SQLite and PostgreSQL:
invitations (in-app and by email through a real SMTP server), lines by JSON and CSV,
confirm, nil return, un-confirm on change, reminders by hand and by schedule, extension,
the automatic close with the clock moved, late changes refused, the estimate against
figures worked by hand, and pooling into a tender with the right lot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from lap_market import jobs
from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.demand.models import Demand
from lap_market.ocds import validation
from lap_market.tenders.models import Lot, Notification, Tender
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer
from tests.factories.rounds import payload

CAMDEN, HACKNEY, ISLINGTON, LAMBETH, TOWER_HAMLETS = (
    "E09000007", "E09000012", "E09000019", "E09000022", "E09000030")
YEAR = {"start_date": "2027-04-01", "end_date": "2028-03-31"}  # 366 days (29 Feb 2028)
HEADER = "category,unit,quantity,start_date,end_date,needed_by,specification,budget_ceiling\n"


def at(day: int, month: int, hour: int = 9) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=UTC)  # GMT: London = UTC


class Cast:
    def __init__(self, client: Any, session: Session) -> None:
        clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
        self.client = client
        self.officer = f.officer(session)
        self.managers = {g: f.manager(session, g) for g in (
            CAMDEN, HACKNEY, ISLINGTON, LAMBETH, TOWER_HAMLETS)}
        self.provider = f.provider(session)
        # Offer A: £12.00 from 1, £10.00 from 100, no capacity limit.
        make_offer(session, f.lma(session), tiers=[("1", "12.00"), ("100", "10.00")])
        # Offer B: £11.00 from 1, £9.50 from 120, but room for only 100 metres.
        make_offer(session, f.contractor(session), tiers=[("1", "11.00"), ("120", "9.50")],
                   capacity="100")
        self.invited = [f.borough(session, g).id for g in (CAMDEN, HACKNEY, ISLINGTON, LAMBETH)]
        session.commit()

    def h(self, who: str) -> dict[str, str]:
        user = self.officer if who == "officer" else (
            self.provider if who == "provider" else self.managers[who])
        return f.token_headers(self.client, user.email)


def deliver(app: Any, smtp: Any, *, periodic: bool = False) -> list[tuple[str, str]]:
    """Run the jobs (the scheduled ones too if asked) and deliver email; what arrived."""
    settings = app.state.settings.model_copy(update={"smtp_url": smtp.url})
    before = len(smtp.messages())
    jobs.run_until_idle(app.state.engine, settings, periodic=periodic)
    jobs.run_until_idle(app.state.engine, settings, periodic=False)
    return sorted((",".join(m.rcpt_tos), " ".join(str(m["Subject"]).split()))
                  for m in smtp.messages()[before:])


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def row(body: dict[str, Any], gss: str) -> dict[str, Any]:
    return next(r for r in body["responses"] if r["gss_code"] == gss)


def test_a_round_from_opening_to_tender(app, client, session: Session, smtp_server) -> None:  # type: ignore[no-untyped-def]
    c = Cast(client, session)
    officer = c.h("officer")

    # --- opening: four boroughs invited, told in the service and by email ----------------
    response = client.post("/api/v1/demand-rounds", headers=officer,
                           json=payload(borough_ids=c.invited))
    assert response.status_code == 201, response.text
    opened = response.json()
    rid = opened["id"]
    assert opened["reference"] == "RND-2027-001" and opened["status"] == "open"
    assert [r["status"] for r in opened["responses"]] == ["not_responded"] * 4
    notices = session.exec(select(Notification).where(Notification.kind == "demand_round")).all()
    assert sorted(n.organisation_id for n in notices) == sorted(c.invited)
    invited_emails = {c.managers[g].email for g in (CAMDEN, HACKNEY, ISLINGTON, LAMBETH)}
    mails = deliver(app, smtp_server)
    assert {to for to, _s in mails} == invited_emails
    assert all(s.startswith("Demand round RND-2027-001: tell us your needs by") for _t, s in mails)

    # --- lines: Camden by JSON, Hackney by CSV; Lambeth adds one and never confirms -------
    camden, hackney, islington, lambeth = (c.h(g) for g in (CAMDEN, HACKNEY, ISLINGTON, LAMBETH))
    line = {"category": "storage", "unit": "linear_metre_year", "quantity": "60", **YEAR,
            "round_id": rid}
    response = client.post("/api/v1/demands", headers=camden, json=line)
    assert response.status_code == 201, response.text
    camden_line = response.json()["id"]
    assert response.json()["round_id"] == rid
    # Boxes too: no offer prices them, so their lot has no reference rate.
    assert client.post("/api/v1/demands", headers=camden, json={
        **line, "unit": "box_year", "quantity": "300"}).status_code == 201
    csv = HEADER + "storage,linear_metre_year,50,2027-04-01,2028-03-31,,,\n"
    response = client.post(f"/api/v1/demands/import?round_id={rid}", content=csv,
                           headers={**hackney, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    assert client.post("/api/v1/demands", headers=lambeth,
                       json={**line, "quantity": "10"}).status_code == 201
    body = client.get(f"/api/v1/demand-rounds/{rid}", headers=officer).json()
    assert row(body, CAMDEN)["status"] == "in_progress" and row(body, CAMDEN)["lines"] == 2

    # --- confirm (with a budget reference), then a change un-confirms ----------------------
    response = client.post(f"/api/v1/demand-rounds/{rid}/confirm", headers=camden,
                           json={"budget_reference": "CAM-ARC-2027"})
    assert response.status_code == 200, response.text
    own = response.json()["responses"]
    assert len(own) == 1 and own[0]["status"] == "confirmed"
    assert own[0]["confirmed_by"]["id"] == c.managers[CAMDEN].id
    assert own[0]["confirmed_at"] == "2027-01-04T09:00:00Z"
    assert own[0]["budget_reference"] == "CAM-ARC-2027"
    response = client.patch(f"/api/v1/demands/{camden_line}", headers=camden,
                            json={"quantity": "80"})
    assert response.status_code == 200, response.text
    mine = client.get(f"/api/v1/demand-rounds/{rid}", headers=camden).json()["responses"][0]
    assert mine["status"] == "in_progress" and mine["confirmed_at"] is None
    for headers in (camden, hackney):
        assert client.post(f"/api/v1/demand-rounds/{rid}/confirm",
                           headers=headers).status_code == 200

    # --- nil return: refused with lines to confirm, accepted when there are none -----------
    refused = client.post(f"/api/v1/demand-rounds/{rid}/confirm", headers=islington)
    assert refused.status_code == 409 and refused.json()["field"] == "lines"
    response = client.post(f"/api/v1/demand-rounds/{rid}/nil-return", headers=islington)
    assert response.status_code == 200 and response.json()["responses"][0]["status"] == "nil_return"

    # --- reminders: by hand to the one borough not confirmed, then 5 working days before ---
    response = client.post(f"/api/v1/demand-rounds/{rid}/remind", headers=officer)
    assert response.status_code == 200, response.text
    assert response.json() == {"reminded": 1, "boroughs": [LAMBETH]}
    lambeth_email = c.managers[LAMBETH].email
    reminder = [(lambeth_email, "Reminder: demand round RND-2027-001 closes "
                 "Fri 29 Jan 2027, 17:00 (London time)")]
    assert deliver(app, smtp_server) == reminder
    clock.set(at(21, 1))  # Thursday: the 5-working-day reminder is due tomorrow
    assert deliver(app, smtp_server, periodic=True) == []
    clock.set(at(22, 1))  # Friday 22 January: 5 working days before Friday 29th
    assert deliver(app, smtp_server, periodic=True) == reminder
    assert deliver(app, smtp_server, periodic=True) == []  # once only
    assert row(client.get(f"/api/v1/demand-rounds/{rid}", headers=c.h("officer")).json(),
               LAMBETH)["reminders"] == 2

    # --- extension: refused into the past, then to 5 February with every borough told -----
    officer = c.h("officer")
    past = client.post(f"/api/v1/demand-rounds/{rid}/extend", headers=officer,
                       json={"closes_at": "2027-01-20T17:00:00Z", "reason": "late"})
    assert past.status_code == 422 and past.json()["field"] == "closes_at"
    response = client.post(f"/api/v1/demand-rounds/{rid}/extend", headers=officer, json={
        "closes_at": "2027-02-05T17:00:00Z", "reason": "Budgets are set on 1 February."})
    assert response.status_code == 200, response.text
    assert response.json()["closes_at"] == "2027-02-05T17:00:00Z"
    assert response.json()["extensions"][0]["reason"] == "Budgets are set on 1 February."
    mails = deliver(app, smtp_server)
    assert {to for to, _s in mails} == invited_emails
    assert {s for _t, s in mails} == {
        "Demand round RND-2027-001 now closes Fri 5 Feb 2027, 17:00 (London time)"}

    # --- the 1-working-day reminder before the new close: one message, not two ---------------
    clock.set(at(4, 2))  # Thursday 4 February
    assert deliver(app, smtp_server, periodic=True) == [
        (lambeth_email, "Reminder: demand round RND-2027-001 closes "
         "Fri 5 Feb 2027, 17:00 (London time)")]

    # --- the close by itself, and late changes refused naming the close ----------------------
    clock.set(datetime(2027, 2, 5, 17, 1, tzinfo=UTC))
    deliver(app, smtp_server, periodic=True)
    session.expire_all()
    closed_events = session.exec(select(AuditEvent).where(AuditEvent.action == "round.closed")).all()
    assert len(closed_events) == 1 and closed_events[0].actor_id is None
    lambeth = c.h(LAMBETH)
    demands_before = count(session, Demand)
    late = client.post("/api/v1/demands", headers=lambeth, json=line)
    assert late.status_code == 409 and late.json()["field"] == "closes_at"
    assert "closed" in late.json()["detail"]
    assert client.post(f"/api/v1/demand-rounds/{rid}/confirm",
                       headers=lambeth).status_code == 409
    camden = c.h(CAMDEN)
    assert client.patch(f"/api/v1/demands/{camden_line}", headers=camden,
                        json={"quantity": "90"}).status_code == 409
    assert count(session, Demand) == demands_before
    officer = c.h("officer")
    body = client.get(f"/api/v1/demand-rounds/{rid}", headers=officer).json()
    assert body["status"] == "closed"
    assert [(r["gss_code"], r["lines"]) for r in body["excluded"]] == [(LAMBETH, 1)]
    assert body["totals"] == [
        {"category": "storage", "unit": "box_year", "lines": 1, "boroughs": 1,
         "quantity": "300.00", "confirmed_quantity": "300.00"},
        {"category": "storage", "unit": "linear_metre_year", "lines": 3, "boroughs": 3,
         "quantity": "140.00", "confirmed_quantity": "130.00"}]

    # --- the estimate, worked by hand -------------------------------------------------------
    # Confirmed: Camden 80 m, Hackney 50 m, each for 366 days; pooled 130 m.
    # Alone each borough's quantity fits offer B (capacity 100): £11.00. Pooled, 130 m is more
    # than B can hold, so offer A's £10.00 tier applies.
    # Camden: 80 × 11.00 × 366/365 = 882.41; 80 × 10.00 × 366/365 = 802.19; saving 80.22.
    # Hackney: 50 × 11.00 × 366/365 = 551.51; 50 × 10.00 × 366/365 = 501.37; saving 50.14.
    estimate = client.get(f"/api/v1/demand-rounds/{rid}/estimate", headers=officer).json()
    assert estimate["basis"] == "confirmed returns"
    figures = {b["gss_code"]: b for b in estimate["boroughs"]}
    boxes, camden_est = sorted(figures[CAMDEN]["lines"], key=lambda x: x["unit"])
    assert (boxes["unit"], boxes["standalone_value"], boxes["saving"]) == ("box_year", None, None)
    assert (camden_est["standalone_unit_price"], camden_est["pooled_unit_price"]) == (
        "11.00", "10.00")
    assert (camden_est["quantity"], camden_est["pooled_quantity"]) == ("80.00", "130.00")
    assert [(figures[g]["standalone_value"], figures[g]["pooled_value"], figures[g]["saving"])
            for g in (CAMDEN, HACKNEY)] == [("882.41", "802.19", "80.22"),
                                            ("551.51", "501.37", "50.14")]
    assert figures[LAMBETH]["lines"] == [] and figures[ISLINGTON]["saving"] is None
    own = client.get(f"/api/v1/demand-rounds/{rid}/estimate", headers=camden).json()
    assert [b["gss_code"] for b in own["boroughs"]] == [CAMDEN]

    # --- one click to a joint tender, once -----------------------------------------------------
    # The round's lines are not in the general pool: Lambeth's unconfirmed line stays out.
    assert client.post("/api/v1/tenders/aggregate", headers=officer, json={}).status_code == 422
    response = client.post(f"/api/v1/demand-rounds/{rid}/aggregate", headers=officer)
    assert response.status_code == 201, response.text
    tendered = response.json()
    assert tendered["status"] == "tendered" and tendered["tender_reference"]
    again = client.post(f"/api/v1/demand-rounds/{rid}/aggregate", headers=officer)
    assert again.status_code == 409
    session.expire_all()
    tender = session.get(Tender, tendered["tender_id"])
    assert tender is not None and tender.status == "draft"
    assert tender.title == "Storage 2027 to 2030" and "RND-2027-001" in tender.description
    lots = session.exec(select(Lot).where(Lot.tender_id == tender.id)).all()
    # Lot 1: storage by the linear metre, 130 m; pooled at £10.00 = 1,303.56 (130 × 10 ×
    # 366/365); each line at its own rate £11.00 = 1,433.92 (130 × 11 × 366/365).
    # Lot 2: Camden's 300 boxes, with no offer to price them.
    assert sorted((lot.number, lot.title.split(" (")[0], Decimal(lot.total_quantity),
                   lot.estimated_value_pence, lot.standalone_value_pence) for lot in lots) == [
        (1, "Storage – linear metre per year", Decimal("130.00"), 130356, 143392),
        (2, "Storage – box per year", Decimal("300.00"), None, None)]
    statuses = sorted(session.exec(select(Demand.borough_id, Demand.status).where(
        col(Demand.round_id) == rid)).all())
    borough = {g: f.borough(session, g).id for g in (CAMDEN, HACKNEY, LAMBETH)}
    assert statuses == sorted([(borough[CAMDEN], "in_tender"), (borough[CAMDEN], "in_tender"),
                               (borough[HACKNEY], "in_tender"), (borough[LAMBETH], "submitted")])

    actions = session.exec(select(AuditEvent.action).where(
        AuditEvent.object_type == "demand_round")).all()
    for action in ("round.opened", "round.return_confirmed", "round.return_unconfirmed",
                   "round.nil_return", "round.reminded", "round.extended", "round.closed",
                   "round.tendered"):
        assert action in actions, action

    # --- the tender names its round: its page and, once published, its OCDS release -----------
    response = client.patch(f"/api/v1/tenders/{tender.id}", headers=officer, json={
        "price_weight": 60, "quality_weight": 40,
        "clarification_deadline": "2027-02-15T12:00:00Z",
        "submission_deadline": "2027-02-26T12:00:00Z"})
    assert response.status_code == 200, response.text
    response = client.post(f"/api/v1/tenders/{tender.id}/publish", headers=officer)
    assert response.status_code == 200, response.text
    package = client.get(f"/api/v1/ocds/release-packages/{tender.id}").json()
    assert package["releases"][0]["planning"] == {
        "rationale": "Pooled from demand round RND-2027-001 “Storage 2027 to 2030”."}
    assert validation.problems(package) == []
