"""The admin's dashboard panel."""

from sqlmodel import Session, func, select

from lap_market.accounts.models import Organisation, User
from lap_market.accounts.policy import is_admin
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """Counts of organisations and users, for admins."""
    if not is_admin(user):
        return None
    organisations = session.exec(select(func.count()).select_from(Organisation)).one()
    active = session.exec(select(func.count()).where(User.is_active == True)).one()  # noqa: E712
    inactive = session.exec(select(func.count()).where(User.is_active == False)).one()  # noqa: E712
    return Panel(
        title="Organisations and users",
        rows=[
            PanelRow("Organisations", str(organisations), "/admin/organisations"),
            PanelRow("Active users", str(active), "/admin/users"),
            PanelRow("Deactivated users", str(inactive), "/admin/users"),
        ],
        links=[
            ("Add a user", "/admin/users#add"),
            ("Add an organisation", "/admin/organisations#add"),
        ],
    )
