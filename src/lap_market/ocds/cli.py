"""``lap-market ocds validate``: check what the public listing would publish, offline."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from lap_market.config import Settings
from lap_market.ocds import service
from lap_market.ocds.validation import problems


@dataclass
class Report:
    """What a validation run found: how many releases were checked, and every problem."""

    releases: int = 0
    problems: list[str] = field(default_factory=list)


def published_package(
    session: Session, settings: Settings, since: datetime | None
) -> dict[str, Any] | None:
    """The JSON ``GET /api/v1/ocds/release-packages[?since=]`` would answer (None for 204),
    serialised as the route does (camelCase, empty fields left out)."""
    since_text = since.isoformat() if since is not None else None
    package = service.release_package_since(
        session, since=since, uri=service.package_uri(settings, since=since_text),
        settings=settings,
    )
    if package is None:
        return None
    body: dict[str, Any] = package.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def validate_published(session: Session, settings: Settings, since: datetime | None) -> Report:
    """Validate the published listing against the OCDS 1.1.5 schema and codelists."""
    body = published_package(session, settings, since)
    if body is None:
        return Report()
    return Report(releases=len(body["releases"]), problems=problems(body))
