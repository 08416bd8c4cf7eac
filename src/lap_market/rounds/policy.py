"""Who may see and do what with a demand round, and the states each step needs.

Read by the services, the routes and the templates alike, so a rule lives in one place."""

from datetime import datetime

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager
from lap_market.accounts.policy import is_officer as is_officer  # rounds' routes read it here
from lap_market.clock import as_utc
from lap_market.errors import Conflict, Forbidden
from lap_market.rounds.models import DemandRound, ReturnStatus, RoundStatus


def is_manager(actor: User) -> bool:
    """A borough manager: the one who answers a round for their borough."""
    return is_borough_manager(actor)


def require_officer(actor: User) -> None:
    """Only procurement officers open, remind, extend and pool rounds."""
    if not is_officer(actor):
        raise Forbidden("Only a procurement officer may do this with a demand round.")


def require_reader(actor: User) -> None:
    """Officers and borough managers read rounds; providers see none."""
    if not (is_officer(actor) or is_manager(actor)):
        raise Forbidden("Only procurement officers and borough managers may see demand rounds.")


def require_manager(actor: User) -> None:
    if not is_manager(actor):
        raise Forbidden("Only a borough manager may answer a demand round for their borough.")


def effective_status(round_: DemandRound, now: datetime) -> str:
    """The stored status, or ``closed`` once the closing time has passed (before the job runs)."""
    if round_.status == RoundStatus.OPEN and as_utc(round_.closes_at) <= now:
        return RoundStatus.CLOSED
    return round_.status


def is_open(round_: DemandRound, now: datetime) -> bool:
    return effective_status(round_, now) == RoundStatus.OPEN


def closed_conflict(round_: DemandRound) -> Conflict:
    """The 409 every late change gets: it names the close."""
    return Conflict(
        f"Demand round {round_.reference} closed at {as_utc(round_.closes_at):%Y-%m-%d %H:%M} UTC; "
        "its returns can no longer change.",
        field="closes_at",
    )


def require_open(round_: DemandRound, now: datetime) -> None:
    if not is_open(round_, now):
        raise closed_conflict(round_)


def can_remind(round_: DemandRound, now: datetime) -> bool:
    return is_open(round_, now)


def can_extend(round_: DemandRound, now: datetime) -> bool:
    return is_open(round_, now)


def can_aggregate(round_: DemandRound, now: datetime) -> bool:
    return effective_status(round_, now) == RoundStatus.CLOSED


def awaiting(status: str) -> bool:
    """A return the partnership still waits for (reminded; excluded if the round closes)."""
    return status in (ReturnStatus.NOT_RESPONDED, ReturnStatus.IN_PROGRESS)
