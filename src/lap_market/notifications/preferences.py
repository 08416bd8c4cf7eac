"""Each person's choice, per kind of message: immediate, a daily digest, or off."""

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.errors import Conflict, Invalid
from lap_market.modeling import pk
from lap_market.notifications.kinds import KINDS, Kind, Mode, kinds_for
from lap_market.notifications.models import NotificationPreference
from lap_market.notifications.schemas import PreferenceIn, PreferenceRead, PreferencesRead


def modes(session: Session, user_ids: Iterable[int], kind: str) -> dict[int, Mode]:
    """Each user's mode for ``kind`` (immediate unless chosen otherwise), in one query.

    A kind that cannot be turned off is never off, whatever an old row says."""
    wanted = sorted(set(user_ids))
    chosen: dict[int, Mode] = {}
    if wanted:
        rows = session.exec(
            select(NotificationPreference.user_id, NotificationPreference.mode).where(
                col(NotificationPreference.user_id).in_(wanted),
                NotificationPreference.kind == kind,
            )
        ).all()
        chosen = {user_id: Mode(mode) for user_id, mode in rows}
    info = KINDS.get(Kind(kind)) if kind in KINDS else None
    locked = info is not None and not info.can_turn_off
    result = {}
    for user_id in wanted:
        mode = chosen.get(user_id, Mode.IMMEDIATE)
        result[user_id] = Mode.IMMEDIATE if locked and mode == Mode.OFF else mode
    return result


def get_preferences(session: Session, actor: User) -> PreferencesRead:
    """The actor's mode for every kind their role receives."""
    rows = session.exec(
        select(NotificationPreference).where(NotificationPreference.user_id == actor.id)
    ).all()
    chosen = {row.kind: Mode(row.mode) for row in rows}
    return PreferencesRead(
        preferences=[
            PreferenceRead(
                kind=kind.value,
                label=KINDS[kind].label,
                mode=chosen.get(kind.value, Mode.IMMEDIATE),
                can_turn_off=KINDS[kind].can_turn_off,
            )
            for kind in kinds_for(actor.role)
        ]
    )


def _check(changes: list[PreferenceIn]) -> dict[Kind, Mode]:
    checked: dict[Kind, Mode] = {}
    for change in changes:
        if change.kind not in KINDS:
            raise Invalid(f"There is no kind of message called “{change.kind}”.",
                          field=change.kind)
        kind = Kind(change.kind)
        if change.mode == Mode.OFF and not KINDS[kind].can_turn_off:
            raise Invalid(
                f"“{KINDS[kind].label}” ({kind.value}) cannot be turned off: messages about "
                "your own contracts and account security always reach you.",
                field=kind.value,
            )
        checked[kind] = change.mode
    return checked


def set_preferences(session: Session, actor: User, changes: list[PreferenceIn]) -> PreferencesRead:
    """Change the actor's modes for the kinds given (422 naming a kind that cannot be off)."""
    checked = _check(changes)
    existing = {
        row.kind: row
        for row in session.exec(
            select(NotificationPreference).where(NotificationPreference.user_id == actor.id)
        ).all()
    }
    now = clock.now()
    changed = {}
    for kind, mode in checked.items():
        row = existing.get(kind.value)
        if row is None:
            row = NotificationPreference(user_id=pk(actor), kind=kind.value, mode=mode,
                                         updated_at=now)
        elif row.mode == mode:
            continue
        row.mode = mode
        row.updated_at = now
        session.add(row)
        changed[kind.value] = mode.value
    try:
        session.flush()
    except IntegrityError as exc:  # the same person saving twice at once
        raise Conflict("Your preferences were changed at the same time; please try again.") from exc
    if changed:
        audit.record(session, actor, action="notification_preferences.changed",
                     object_type="user", object_id=actor.id, details={"modes": changed})
    return get_preferences(session, actor)
