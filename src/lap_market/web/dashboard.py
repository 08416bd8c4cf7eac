"""The role dashboard: the user's organisation, each domain's panel, and recent activity."""

import importlib
import importlib.util
from dataclasses import dataclass, field

from sqlmodel import Session

from lap_market.accounts.models import Organisation, User
from lap_market.audit import describe
from lap_market.audit import service as audit
from lap_market.audit.models import AuditEvent
from lap_market.notifications.actions import ActionItem, needs_action

PANEL_DOMAINS = ["catalogue", "demand", "tenders", "contracts", "reports", "accounts"]


@dataclass
class PanelRow:
    label: str
    value: str
    href: str | None = None
    loss: bool = False  # a negative figure: shown in red (the value's words say it too)


@dataclass
class Panel:
    """A box on the dashboard, contributed by one domain."""

    title: str
    rows: list[PanelRow] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    empty_text: str = "Nothing yet."


@dataclass
class Dashboard:
    organisation: Organisation
    panels: list[Panel]
    activity: list[AuditEvent]
    actions: list[ActionItem] = field(default_factory=list)
    # Each activity event as a sentence naming people and things, by public id.
    activity_text: dict[str, str] = field(default_factory=dict)


def build_dashboard(session: Session, user: User) -> Dashboard:
    """Everything the signed-in user's dashboard shows, filtered to what they may see."""
    organisation = session.get(Organisation, user.organisation_id)
    assert organisation is not None
    panels: list[Panel] = []
    for domain in PANEL_DOMAINS:
        name = f"lap_market.{domain}.dashboard"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        panel = module.panel(session, user)
        if panel is not None:
            panels.append(panel)
    activity = audit.recent_for_organisation(session, user.organisation_id, limit=10)
    return Dashboard(organisation=organisation, panels=panels, activity=activity,
                     actions=needs_action(session, user),
                     activity_text=describe.sentences(session, activity))
