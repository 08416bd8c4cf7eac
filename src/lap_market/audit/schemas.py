"""API models for audit events."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from lap_market.audit.models import AuditEvent


class AuditEventRead(BaseModel):
    # The event's random public id: the internal sequence would show where hidden (sealed)
    # events sit between the listed ones.
    id: str
    at: datetime
    actor_id: int | None
    organisation_id: int | None
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> "AuditEventRead":
        """The event as readers see it: its public id, never the internal sequence."""
        return cls(
            id=event.public_id, at=event.at, actor_id=event.actor_id,
            organisation_id=event.organisation_id, action=event.action,
            object_type=event.object_type, object_id=event.object_id, details=event.details,
        )
