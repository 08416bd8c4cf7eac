"""The catalogue's dashboard panel: a provider's offers, or what boroughs can buy."""

from sqlmodel import Session

from lap_market.accounts.models import Role, User
from lap_market.accounts.policy import is_provider, is_selling_borough
from lap_market.catalogue import browse, reference
from lap_market.catalogue.models import OfferStatus
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """Providers see their offers by status; borough people and officers the live catalogue."""
    if is_provider(user) and not is_selling_borough(user):
        counts = browse.offer_counts(session, provider_id=user.organisation_id)
        return Panel(
            title="Your offers",
            rows=[
                PanelRow(
                    label=status.capitalize(), value=str(counts.get(status, 0)), href="/my-offers"
                )
                for status in (OfferStatus.DRAFT, OfferStatus.PUBLISHED, OfferStatus.WITHDRAWN)
            ],
            links=[("Create an offer", "/my-offers/new"), ("Manage your offers", "/my-offers")],
        )
    if user.role in (Role.BOROUGH_MANAGER, Role.PROCUREMENT_OFFICER):
        names = {c.code: c.name for c in reference.load_reference(session).categories.values()}
        counts = browse.offer_counts(session)
        return Panel(
            title="Catalogue",
            rows=[
                PanelRow(
                    label=names[code],
                    value=f"{n} offer{'s' if n != 1 else ''}",
                    href=f"/catalogue?category={code}",
                )
                for code, n in counts.items()
            ],
            links=[
                ("Browse the catalogue", "/catalogue"),
                ("Compare offers", "/catalogue/compare"),
            ],
        )
    return None
