"""Who may read the audit log."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_admin, is_officer, require


def can_read_log(actor: User) -> bool:
    """Procurement officers and admins read the whole (unsealed) audit log."""
    return is_officer(actor) or is_admin(actor)


def require_log_reader(actor: User) -> None:
    require(can_read_log(actor), "Only procurement officers and admins may read the audit log.")
