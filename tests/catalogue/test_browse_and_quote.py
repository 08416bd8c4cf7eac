"""Browsing, search, price sorting at a quantity, quotes, and the list without N+1 queries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation
from lap_market.catalogue import offer_reads
from lap_market.catalogue.models import Offer, OfferStatus, OfferTier, OfferVersion
from lap_market.clock import clock
from tests.factories import accounts as f
from tests.factories.catalogue import category_unit, make_offer
from tests.statements import on_statements

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    clock.set(NOW)
    thames = f.contractor(session, "Thames Storage")
    vault = f.contractor(session, "Vault Co")
    lma = f.lma(session)
    w: dict[str, Any] = {
        "thames_user": f.provider(session, thames),
        "vault_user": f.provider(session, vault),
        "manager": f.manager(session),
        # Cheap for small volumes, dear for large ones, and the other way round.
        "small": make_offer(session, thames, title="Clerkenwell Strongroom storage",
                            description="Controlled humidity STRONGROOMS",
                            tiers=[("1", "9.00"), ("500", "8.90")]),
        "large": make_offer(session, vault, title="Deep vault storage",
                            description="Salt mine strongrooms in Cheshire",
                            tiers=[("1", "14.00"), ("100", "10.00"), ("400", "7.50")],
                            capacity="1000"),
        "lma": make_offer(session, lma, title="LMA strongroom storage",
                          tiers=[("1", "10.50")]),
        "boxes": make_offer(session, thames, unit="box_year", title="Box storage",
                            tiers=[("1", "2.50"), ("200", "1.20")]),
        "training": make_offer(session, lma, category="training", unit="delegate_place",
                               title="Preservation course", tiers=[("1", "150.00"), ("10", "120.00")]),
        "draft": make_offer(session, thames, title="Draft strongroom", publish=False),
        "withdrawn": make_offer(session, vault, title="Old strongroom", publish=True),
        "expired": make_offer(session, vault, title="Expired strongroom",
                              valid_until=date(2026, 6, 30)),
        "future": make_offer(session, vault, title="Future strongroom",
                             valid_from=date(2027, 6, 1)),
    }
    w["withdrawn"].status = OfferStatus.WITHDRAWN
    session.add(w["withdrawn"])
    session.commit()
    return w


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_browse_search_filters_and_visibility(client, world) -> None:
    manager = f.token_headers(client, world["manager"].email)
    everything = client.get("/api/v1/offers", headers=manager).json()
    assert everything["total"] == 5
    assert titles(everything) == [
        "Box storage", "Clerkenwell Strongroom storage", "Deep vault storage",
        "LMA strongroom storage", "Preservation course",
    ]
    # Words match title or description, case-insensitively, all of them.
    search = client.get("/api/v1/offers", params={"q": "STRONGROOM storage"}, headers=manager).json()
    assert titles(search) == ["Clerkenwell Strongroom storage", "Deep vault storage", "LMA strongroom storage"]
    assert titles(client.get("/api/v1/offers", params={"q": "salt mine"}, headers=manager).json()) == [
        "Deep vault storage"
    ]
    assert client.get("/api/v1/offers", params={"q": "100%"}, headers=manager).json()["total"] == 0
    commissioned = client.get("/api/v1/offers", params={"commissioned": "true"}, headers=manager).json()
    assert titles(commissioned) == ["LMA strongroom storage", "Preservation course"]
    assert all(item["commissioned"] for item in commissioned["items"])
    boxes = client.get("/api/v1/offers", params={"category": "storage", "unit": "box_year"},
                       headers=manager).json()
    assert titles(boxes) == ["Box storage"]
    by_provider = client.get("/api/v1/offers", params={"provider_id": world["small"].provider_id},
                             headers=manager).json()
    assert titles(by_provider) == ["Box storage", "Clerkenwell Strongroom storage"]
    page2 = client.get("/api/v1/offers", params={"page": 2, "page_size": 2}, headers=manager).json()
    assert page2["total"] == 5 and titles(page2) == ["Deep vault storage", "LMA strongroom storage"]
    # A provider also sees its own drafts, and nobody else's.
    thames = f.token_headers(client, world["thames_user"].email)
    assert "Draft strongroom" in titles(client.get("/api/v1/offers", headers=thames).json())
    vault = f.token_headers(client, world["vault_user"].email)
    assert "Draft strongroom" not in titles(client.get("/api/v1/offers", headers=vault).json())
    for params, field in [({"category": "catering"}, "category"), ({"unit": "furlong"}, "unit"),
                          ({"category": "training", "unit": "image"}, "unit"),
                          ({"quantity": "0"}, "quantity"), ({"quantity": "x"}, "quantity"),
                          ({"sort": "cheapest"}, "sort"), ({"page_size": 1000}, "page_size")]:
        response = client.get("/api/v1/offers", params=params, headers=manager)
        assert response.status_code == 422, params
        body = response.json()
        fields = {e["field"] for e in body["detail"]} if isinstance(body["detail"], list) else {body["field"]}
        assert field in fields


def test_sort_by_price_at_a_quantity(client, world) -> None:
    manager = f.token_headers(client, world["manager"].email)
    params = {"category": "storage", "unit": "linear_metre_year", "sort": "price"}
    # At 50 m: Clerkenwell £9.00, LMA £10.50, Deep vault £14.00.
    small = client.get("/api/v1/offers", params={**params, "quantity": "50"}, headers=manager).json()
    assert titles(small) == ["Clerkenwell Strongroom storage", "LMA strongroom storage", "Deep vault storage"]
    assert [i["unit_price_at_quantity"] for i in small["items"]] == ["9.00", "10.50", "14.00"]
    # At 450 m: Deep vault £7.50 (tier from 400), Clerkenwell £9.00, LMA £10.50.
    large = client.get("/api/v1/offers", params={**params, "quantity": "450"}, headers=manager).json()
    assert titles(large) == ["Deep vault storage", "Clerkenwell Strongroom storage", "LMA strongroom storage"]
    assert large["items"][0]["unit_price_at_quantity"] == "7.50"
    assert large["items"][0]["tier_min_quantity"] == "400"
    # Beyond Deep vault's capacity of 1000 it is flagged.
    huge = client.get("/api/v1/offers", params={**params, "quantity": "1200"}, headers=manager).json()
    assert {i["title"]: i["has_capacity"] for i in huge["items"]}["Deep vault storage"] is False


def quote(client, headers, offer_id, **params):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/offers/{offer_id}/quote", params=params, headers=headers)


def test_quotes_against_hand_computed_values(client, session, world) -> None:
    manager = f.token_headers(client, world["manager"].email)
    # Per year: 120 m at £10.50 (LMA) for 2029-01-01..2031-12-31 = 3 × 365 = 1095 days:
    # 120 × 10.50 × 1095 / 365 = 3780.00; VAT 756.00; total 4536.00.
    body = quote(client, manager, world["lma"].id, quantity="120", start_date="2029-01-01",
                 end_date="2031-12-31").json()
    assert body["unit_price"] == "10.50" and body["tier_min_quantity"] == "1"
    assert (body["term_days"], body["value"], body["vat"], body["total"]) == (1095, "3780.00", "756.00", "4536.00")
    assert body["quantity"] == "120"
    # 2027-01-01..2029-12-31 spans leap 2028: 365 + 366 + 365 = 1096 days:
    # 120 × 10.50 × 1096 / 365 = 3783.4520… → 3783.45; VAT 756.69; total 4540.14.
    body = quote(client, manager, world["lma"].id, quantity="120", start_date="2027-01-01",
                 end_date="2029-12-31").json()
    assert (body["term_days"], body["value"], body["vat"], body["total"]) == (1096, "3783.45", "756.69", "4540.14")
    # Per year, rounded once at the end: 7 boxes at £2.50 for 2027-01-01..2027-03-31 (90 days):
    # 7 × 2.50 × 90 / 365 = 4.3150…, so 4.32; VAT 0.864 → 0.86; total 5.18.
    body = quote(client, manager, world["boxes"].id, quantity="7", start_date="2027-01-01",
                 end_date="2027-03-31").json()
    assert (body["term_days"], body["value"], body["vat"], body["total"]) == (90, "4.32", "0.86", "5.18")
    # Per item: 12 delegate places reach the tier from 10 at £120.00: 12 × 120 = 1440.00,
    # VAT 288.00, total 1728.00, whatever the term.
    body = quote(client, manager, world["training"].id, quantity="12", start_date="2027-03-01",
                 end_date="2027-03-01").json()
    assert (body["unit_price"], body["tier_min_quantity"]) == ("120.00", "10")
    assert (body["term_days"], body["value"], body["vat"], body["total"]) == (1, "1440.00", "288.00", "1728.00")
    assert body["per_year"] is False
    # Linear metres may be fractional: 2.5 m at £14.00 for 2028 (a leap year, 366 days):
    # 2.5 × 14 × 366 / 365 = 35.0958… → 35.10; VAT 7.02; total 42.12.
    body = quote(client, manager, world["large"].id, quantity="2.5", start_date="2028-01-01",
                 end_date="2028-12-31").json()
    assert (body["term_days"], body["value"], body["vat"], body["total"]) == (366, "35.10", "7.02", "42.12")


def test_bad_quotes_say_which_field(client, world) -> None:
    manager = f.token_headers(client, world["manager"].email)
    term = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
    cases = [
        (world["large"].id, {"quantity": "1001", **term}, "quantity", "capacity"),
        (world["lma"].id, {"quantity": "0", **term}, "quantity", "greater than zero"),
        (world["lma"].id, {"quantity": "-5", **term}, "quantity", "greater than zero"),
        (world["lma"].id, {"quantity": "ten", **term}, "quantity", "number"),
        (world["lma"].id, {"quantity": "1.234", **term}, "quantity", "2 decimal places"),
        (world["boxes"].id, {"quantity": "1.5", **term}, "quantity", "whole units"),
        (world["lma"].id, {"quantity": "5", "start_date": "2027-02-01", "end_date": "2027-01-31"},
         "end_date", "on or after"),
        (world["lma"].id, {"quantity": "5", "start_date": "2025-12-01", "end_date": "2026-03-31"},
         "start_date", "validity"),
    ]
    for offer_id, params, field, words in cases:
        response = quote(client, manager, offer_id, **params)
        assert response.status_code == 422, (params, response.text)
        body = response.json()
        assert body["field"] == field and words in body["detail"], body
    # An offer whose validity has ended (30 June 2026) cannot be quoted past it.
    response = quote(client, manager, world["expired"].id, quantity="1", **term)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "end_date" and "validity" in response.json()["detail"]
    # Nor can one before it starts (1 June 2027).
    response = quote(client, manager, world["future"].id, quantity="1", **term)
    assert response.status_code == 422 and response.json()["field"] == "start_date"
    assert quote(client, manager, world["draft"].id, quantity="1", **term).status_code == 404
    assert quote(client, manager, world["withdrawn"].id, quantity="1", **term).status_code == 409
    missing = quote(client, manager, world["lma"].id, quantity="1", start_date="2027-01-01")
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "end_date"


def test_quote_refuses_a_term_past_validity(client, session, world) -> None:
    thames = session.get(Organisation, world["small"].provider_id)
    limited = make_offer(session, thames, valid_until=date(2028, 12, 31))
    session.commit()
    manager = f.token_headers(client, world["manager"].email)
    response = quote(client, manager, limited.id, quantity="10", start_date="2027-01-01",
                     end_date="2029-12-31")
    assert response.status_code == 422
    assert response.json()["field"] == "end_date" and "valid until" in response.json()["detail"]


def _bulk_offers(session: Session, provider: Organisation, n: int) -> None:
    """n published offers with two tiers each, in three bulk inserts."""
    category, unit = category_unit(session, "storage", "linear_metre_year")
    session.execute(insert(Offer), [
        {"provider_id": provider.id, "category_id": category.id, "unit_id": unit.id,
         "title": f"Bulk offer {i:04d}", "description": "", "capacity": None,
         "capacity_used": Decimal(0), "lead_time_days": 5, "valid_from": date(2026, 1, 1),
         "valid_until": None, "status": "published", "commissioned": False,
         "current_version": 1, "created_at": NOW, "updated_at": NOW, "published_at": NOW}
        for i in range(n)
    ])
    offer_ids = session.exec(select(Offer.id).where(Offer.provider_id == provider.id)).all()
    session.execute(insert(OfferVersion), [
        {"offer_id": oid, "number": 1, "unit_id": unit.id, "created_at": NOW, "published_at": NOW}
        for oid in offer_ids
    ])
    version_ids = session.exec(
        select(OfferVersion.id).where(col(OfferVersion.offer_id).in_(offer_ids))
    ).all()
    session.execute(insert(OfferTier), [
        {"version_id": vid, "min_quantity": Decimal(minimum), "unit_price_pence": 1000 + (vid * 37) % 900 - step}
        for vid in version_ids for minimum, step in ((1, 0), (100, 50))
    ])
    session.commit()


def test_list_of_2000_offers_needs_a_constant_number_of_queries(client, app, session) -> None:
    clock.set(NOW)
    provider = f.contractor(session, "Bulk Storage Ltd")
    provider_user = f.provider(session, provider)
    manager = f.manager(session)
    session.commit()
    _bulk_offers(session, provider, 2000)
    headers = f.token_headers(client, manager.email)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with on_statements(app, count):
        by_name = client.get("/api/v1/offers", params={"page_size": 100}, headers=headers)
        name_queries = len(statements)
        statements.clear()
        # Ranking by price needs one unit (issue 11): the category and unit are named.
        by_price = client.get("/api/v1/offers", params={"page_size": 100, "quantity": "150",
                                                        "sort": "price", "category": "storage",
                                                        "unit": "linear_metre_year"},
                              headers=headers)
        price_queries = len(statements)
        # The provider's own list (the comparison shares the price ranking counted above).
        statements.clear()
        own = offer_reads.list_own_offers(session, provider_user)
        own_queries = len(statements)
    assert len(own) == 2000
    assert own_queries <= 6, own_queries
    assert by_name.status_code == 200 and by_price.status_code == 200
    assert by_name.json()["total"] == 2000 and len(by_name.json()["items"]) == 100
    prices = [Decimal(i["unit_price_at_quantity"]) for i in by_price.json()["items"]]
    assert len(prices) == 100 and prices == sorted(prices)
    assert name_queries <= 8, name_queries
    assert price_queries <= 8, price_queries
