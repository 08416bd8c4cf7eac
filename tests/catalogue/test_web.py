"""Catalogue pages without a browser: full pages, HTMX fragments, forms and their errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import func, select

from lap_market.accounts.models import Organisation
from lap_market.catalogue.models import Offer, OfferVersion
from lap_market.clock import clock
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client, email):  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": f.PASSWORD,
                                           "csrf_token": token, "next": "/dashboard"},
                           follow_redirects=False)
    assert response.status_code == 303


def test_pages_fragments_and_forms(client, session) -> None:
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    provider = f.provider(session)
    org = session.get(Organisation, provider.organisation_id)
    make_offer(session, org, title="Riverside racking", tiers=[("1", "11.00"), ("200", "9.00")])
    make_offer(session, f.lma(session), title="LMA strongrooms", tiers=[("1", "10.50")])
    manager = f.manager(session)
    session.commit()

    _login(client, manager.email)
    page = client.get("/catalogue", params={"q": "racking"})
    assert page.status_code == 200 and "<html" in page.text and "Riverside racking" in page.text
    assert "LMA strongrooms" not in page.text
    fragment = client.get("/catalogue", params={"q": "strongrooms"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "LMA strongrooms" in fragment.text
    assert "1 offer found" in fragment.text
    bad = client.get("/catalogue", params={"quantity": "-2"})
    assert "Quantity must be greater than zero" in bad.text

    offer_id = session.exec(select(Offer.id).where(Offer.title == "Riverside racking")).one()
    # 250 m at £9.00 for 2027 (365 days): 2250.00, VAT 450.00, total 2700.00.
    quoted = client.get(f"/catalogue/offers/{offer_id}", params={
        "quantity": "250", "start_date": "2027-01-01", "end_date": "2027-12-31"})
    assert "£2,250.00" in quoted.text and "£2,700.00" in quoted.text
    calc = client.get(f"/catalogue/offers/{offer_id}", headers={"HX-Request": "true"}, params={
        "quantity": "250", "start_date": "2027-01-01", "end_date": "2026-12-31"})
    assert calc.status_code == 422 and "<html" not in calc.text
    assert 'id="f-end_date-error"' in calc.text

    compared = client.get("/catalogue/compare", params={
        "category": "storage", "unit": "linear_metre_year", "quantity": "250"})
    table = compared.text[compared.text.index('id="comparison-table"'):]
    assert table.index("Riverside racking") < table.index("LMA strongrooms")  # £9.00 < £10.50
    assert "£2,250.00" in table  # one year's value at 250 m
    assert client.get("/my-offers").status_code == 403

    client.cookies.clear()
    _login(client, provider.email)
    dashboard = client.get("/dashboard")
    assert "Your offers" in dashboard.text
    form = client.get("/my-offers/new")
    token = _csrf(form.text)
    before = session.exec(select(func.count()).select_from(Offer)).one()
    data = {"csrf_token": token, "title": "Cold store", "category": "storage", "unit": "box_year",
            "tiers.0.min_quantity": "1", "tiers.0.unit_price": "2.00",
            "tiers.2.min_quantity": "100", "tiers.2.unit_price": "2.40",
            "lead_time_days": "5", "valid_from": "2026-01-01"}
    refused = client.post("/my-offers/new", data=data)
    assert refused.status_code == 422
    assert 'id="f-tiers.2.unit_price-error"' in refused.text and "never rise" in refused.text
    assert session.exec(select(func.count()).select_from(Offer)).one() == before

    data["tiers.2.unit_price"] = "1.80"
    created = client.post("/my-offers/new", data=data, follow_redirects=False)
    assert created.status_code == 303
    new_id = session.exec(select(Offer.id).where(Offer.title == "Cold store")).one()
    assert client.post(f"/my-offers/{new_id}/publish", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    edit = client.get(f"/my-offers/{new_id}/edit")
    assert 'value="1.80"' in edit.text
    data["tiers.2.unit_price"] = "1.70"
    assert client.post(f"/my-offers/{new_id}/edit", data=data,
                       follow_redirects=False).status_code == 303
    session.expire_all()
    numbers = session.exec(select(OfferVersion.number).where(OfferVersion.offer_id == new_id)).all()
    assert sorted(numbers) == [1, 2]
    listing = client.get("/my-offers")
    assert "Cold store" in listing.text and "Riverside racking" in listing.text


def test_refusals_on_my_offers_are_shown_and_write_nothing(client, session) -> None:
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    provider = f.provider(session)
    org = session.get(Organisation, provider.organisation_id)
    rival = session.get(Organisation, f.provider(session).organisation_id)
    lapsed = make_offer(session, org, title="Lapsed draft", publish=False,
                        valid_until=datetime(2026, 6, 30).date())
    theirs = make_offer(session, rival, title="Rival storage", tiers=[("1", "10.00")])
    session.commit()
    _login(client, provider.email)
    token = _csrf(client.get("/my-offers").text)

    # Publishing an offer whose validity has ended is refused beside its row.
    refused = client.post(f"/my-offers/{lapsed.id}/publish", data={"csrf_token": token})
    assert refused.status_code == 422
    assert f'id="offer-{lapsed.id}-error"' in refused.text
    assert "validity has already ended" in refused.text
    # Another provider's offer cannot be edited, published or withdrawn through the pages.
    versions = session.exec(select(func.count()).select_from(OfferVersion)).one()
    assert client.get(f"/my-offers/{theirs.id}/edit").status_code == 403
    edit = client.post(f"/my-offers/{theirs.id}/edit", data={
        "csrf_token": token, "title": "Taken over", "tiers.0.min_quantity": "1",
        "tiers.0.unit_price": "1.00", "lead_time_days": "1", "valid_from": "2026-01-01"})
    assert edit.status_code == 403
    assert client.post(f"/my-offers/{theirs.id}/withdraw",
                       data={"csrf_token": token}).status_code == 403
    session.expire_all()
    assert session.get(Offer, lapsed.id).status == "draft"  # type: ignore[union-attr]
    mine = session.get(Offer, theirs.id)
    assert mine is not None and (mine.title, mine.status) == ("Rival storage", "published")
    assert session.exec(select(func.count()).select_from(OfferVersion)).one() == versions
