"""Who may read and resend the email outbox."""

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_admin, require


def can_read_outbox(actor: User) -> bool:
    """Admins only: the outbox holds every person's messages."""
    return is_admin(actor)


def require_outbox_reader(actor: User) -> None:
    require(can_read_outbox(actor), "Only admins may read the outbox.")
