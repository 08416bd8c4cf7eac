"""Email through an outbox: ``queue_email`` in the caller's transaction; workers deliver."""

from lap_market.mail.models import OutboxMessage, OutboxStatus
from lap_market.mail.service import queue_email

__all__ = ["OutboxMessage", "OutboxStatus", "queue_email"]
