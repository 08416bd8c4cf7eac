"""The catalogue's dashboard panel: a provider's offers, or what boroughs can buy."""

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.accounts.policy import is_borough_manager, is_officer, is_selling_borough
from lap_market.catalogue import offer_reads, policy, reference
from lap_market.catalogue.models import OfferStatus
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """Providers see their offers by status; borough people and officers the live catalogue."""
    # A selling borough's home is its buying side; its offers are under My offers.
    if policy.can_list_offers(user) and not is_selling_borough(user):
        counts = offer_reads.offer_counts(session, provider_id=user.organisation_id)
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
    if is_borough_manager(user) or is_officer(user):
        names = {c.code: c.name for c in reference.load_reference(session).categories.values()}
        counts = offer_reads.offer_counts(session)
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
