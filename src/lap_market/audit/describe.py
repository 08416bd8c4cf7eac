"""Audit events as sentences people read in an activity feed: "Priya Officer signed in",
"Priya Officer published tender LAP-2026-003", "Hackney Manager created Hackney's storage
need" — never "user 5" or "demand 50". Names are looked up once per kind of object."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.audit.models import AuditEvent
from lap_market.catalogue.models import Category, Offer
from lap_market.contracts.models import Contract
from lap_market.demand.models import Demand
from lap_market.rounds.models import DemandRound
from lap_market.tenders.models import Award, Lot, Tender

# Actions whose plain verb ("return confirmed") reads badly before the object's name.
VERBS = {
    "round.return_confirmed": "confirmed a return for",
    "round.return_unconfirmed": "reopened a return for",
    "round.nil_return": "made a nil return for",
    "contract.change_proposed": "proposed a change to",
    "contract.change_accepted": "accepted a change to",
    "contract.change_rejected": "rejected a change to",
    "call_offs.requested": "asked for the call-offs of",
    "evaluation.exported": "downloaded the bids for",
    "offer.capacity_taken": "took capacity from",
    "user.password_changed": "changed the password of",
    "user.sessions_ended": "signed out every session of",
    "notification.read": "read",
    "notification_preferences.changed": "changed the notification settings of",
    "email.resend": "sent again",
    "lot.unsuccessful": "closed as unsuccessful",
    "lot.demand_returned": "returned to the boroughs the needs in",
    "demand.imported": "imported",
}
# What a user does to themself reads without the object: "Priya Officer signed in".
SELF_ACTIONS = frozenset({"user.signed_in", "user.signed_out"})
GENERIC = {
    "bid": "a bid",
    "question": "a question",
    "invoice": "an invoice",
    "notification": "a notification",
    "outbox_message": "an email",
}

Namer = Callable[[Session, set[int]], dict[int, str]]


def _ids(values: Iterable[str]) -> set[int]:
    return {int(v) for v in values if v.isdigit() and len(v) < 12}


def _rows(session: Session, model: Any, ids: set[int]) -> list[Any]:
    return list(session.exec(select(model).where(col(model.id).in_(ids))).all()) if ids else []


def _tenders(session: Session, ids: set[int]) -> dict[int, str]:
    return {t.id: f"Tender {t.reference}" for t in _rows(session, Tender, ids)}


def _lots(session: Session, ids: set[int]) -> dict[int, str]:
    lots = _rows(session, Lot, ids)
    tenders = _tenders(session, {lot.tender_id for lot in lots})
    return {lot.id: f"lot {lot.number} of {tenders.get(lot.tender_id, 'a tender')}" for lot in lots}


def _awards(session: Session, ids: set[int]) -> dict[int, str]:
    awards = _rows(session, Award, ids)
    lots = _lots(session, {a.lot_id for a in awards})
    return {a.id: f"the award of {lots.get(a.lot_id, 'a lot')}" for a in awards}


def _demands(session: Session, ids: set[int]) -> dict[int, str]:
    demands = _rows(session, Demand, ids)
    boroughs = _organisations(session, {d.borough_id for d in demands})
    categories = {c.id: c.name for c in _rows(session, Category, {d.category_id for d in demands})}
    return {
        d.id: f"{boroughs.get(d.borough_id, 'a borough')}'s "
        f"{categories.get(d.category_id, 'service').lower()} need"
        for d in demands
    }


def _organisations(session: Session, ids: set[int]) -> dict[int, str]:
    return {o.id: o.name for o in _rows(session, Organisation, ids)}


def _users(session: Session, ids: set[int]) -> dict[int, str]:
    return {u.id: u.name for u in _rows(session, User, ids)}


def _named(model: Any, attribute: str, prefix: str = "") -> Namer:
    return lambda session, ids: {
        row.id: f"{prefix}{getattr(row, attribute)}" for row in _rows(session, model, ids)
    }


NAMERS: dict[str, Namer] = {
    "tender": _tenders,
    "lot": _lots,
    "award": _awards,
    "demand": _demands,
    "user": _users,
    "organisation": _organisations,
    "offer": _named(Offer, "title", "the offer "),
    "contract": _named(Contract, "reference", "contract "),
    "demand_round": _named(DemandRound, "reference", "round "),
}


def object_names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """Each event's object as people know it, by (object type, object id)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        wanted[event.object_type].add(event.object_id)
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        namer = NAMERS.get(kind)
        found = namer(session, _ids(ids)) if namer else {}
        fallback = GENERIC.get(kind, f"a {kind.replace('_', ' ')}")
        for object_id in ids:
            key = int(object_id) if _ids([object_id]) else None
            names[(kind, object_id)] = found.get(key, fallback) if key is not None else fallback
    return names


def sentences(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """Each event as a sentence, by its public id."""
    objects = object_names(session, events)
    actors = _users(session, {e.actor_id for e in events if e.actor_id is not None})
    out: dict[str, str] = {}
    for event in events:
        verb = VERBS.get(event.action, event.action.split(".")[-1].replace("_", " "))
        thing = objects[(event.object_type, event.object_id)]
        actor = actors.get(event.actor_id) if event.actor_id is not None else None
        if actor is None:
            text = f"{thing[:1].upper()}{thing[1:]} {verb}"
        elif event.action in SELF_ACTIONS:
            text = f"{actor} {verb}"
        else:
            text = f"{actor} {verb} {thing}"
        out[event.public_id] = text
    return out
