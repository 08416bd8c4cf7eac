"""Dashboard panels: officers see tenders by status, providers open opportunities and unread
notifications, boroughs the tenders holding their demand."""

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager, is_officer, is_provider
from lap_market.clock import clock
from lap_market.tenders import notifications, service
from lap_market.tenders.models import TenderStatus
from lap_market.tenders.read import effective_status
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """The tendering panel for the user's role."""
    now = clock.now()
    if is_officer(user):
        counts = service.count_tenders(session, user)
        return Panel(
            title="Tenders",
            rows=[
                PanelRow(s.value.capitalize(), str(counts[s]), f"/tenders?status={s.value}")
                for s in TenderStatus
                if counts.get(s)
            ],
            links=[("All tenders", "/tenders")],
            empty_text="No tenders yet.",
        )
    if is_provider(user):
        open_ = service.count_tenders(session, user).get(TenderStatus.PUBLISHED, 0)
        return Panel(
            title="Opportunities",
            rows=[
                PanelRow("Open for bids", str(open_), "/opportunities"),
                PanelRow(
                    "Unread notifications",
                    str(notifications.unread_count(session, user)),
                    "/notifications",
                ),
            ],
            links=[("See opportunities", "/opportunities")],
        )
    if is_borough_manager(user):
        tenders = service.list_tenders(session, user, limit=8)
        return Panel(
            title="Tenders holding your demand",
            rows=[
                PanelRow(t.reference, effective_status(t, now), f"/tenders/{t.id}")
                for t in tenders
            ],
            links=[("All your tenders", "/tenders"), ("Notifications", "/notifications")],
            empty_text="None of your demand is in a published tender yet.",
        )
    return None
