"""Offers through the API: creating, the rules on input, permissions, versioning, publishing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, func, select

from lap_market.accounts.models import Organisation
from lap_market.audit.models import AuditEvent
from lap_market.catalogue import quotes
from lap_market.catalogue.models import Offer, OfferTier, OfferVersion
from lap_market.clock import clock
from tests.factories import accounts as f
from tests.factories.catalogue import make_offer

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def offer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "storage",
        "title": "Strongroom storage",
        "description": "Environmentally controlled strongrooms in Clerkenwell.",
        "unit": "linear_metre_year",
        "tiers": [
            {"min_quantity": "1", "unit_price": "12.00"},
            {"min_quantity": "100", "unit_price": "10.50"},
            {"min_quantity": "500", "unit_price": "9.25"},
        ],
        "capacity": "2000",
        "lead_time_days": 20,
        "valid_from": "2026-01-01",
        "valid_until": None,
    }
    body.update(overrides)
    return body


def counts(session: Session) -> tuple[int, int, int, int]:
    """Offers, versions, tiers and offer audit events (sign-ins are audited too)."""
    session.expire_all()
    offer_events = session.exec(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "offer")
    ).one()
    return (
        *(session.exec(select(func.count()).select_from(m)).one()
          for m in (Offer, OfferVersion, OfferTier)),
        offer_events,
    )  # type: ignore[return-value]


@pytest.fixture
def people(session: Session) -> dict[str, Any]:
    clock.set(NOW)
    people = {
        "contractor": f.provider(session),
        "other": f.provider(session),
        "lma": f.provider(session, f.lma(session)),
        "manager": f.manager(session),
    }
    session.commit()
    return people


def test_categories_carry_cpv_codes_and_units(client, people) -> None:
    headers = f.token_headers(client, people["manager"].email)
    body = client.get("/api/v1/categories", headers=headers).json()
    by_code = {c["code"]: c for c in body}
    assert set(by_code) == {"storage", "conservation", "digitisation", "training"}
    assert by_code["training"]["cpv_code"] == "80530000-8"
    storage_units = {u["code"]: u["per_year"] for u in by_code["storage"]["units"]}
    assert storage_units == {"linear_metre_year": True, "box_year": True, "cubic_metre_year": True}
    assert {u["code"] for u in by_code["conservation"]["units"]} == {"item", "hour"}
    assert {u["code"] for u in by_code["digitisation"]["units"]} == {"image", "item"}
    assert {u["code"]: u["per_year"] for u in by_code["training"]["units"]} == {
        "delegate_place": False, "course_day": False,
    }


def test_create_publish_withdraw_and_commissioned_flag(client, session, people) -> None:
    contractor = f.token_headers(client, people["contractor"].email)
    created = client.post("/api/v1/offers", json=offer_body(), headers=contractor)
    assert created.status_code == 201, created.text
    offer = created.json()
    assert offer["status"] == "draft"
    assert offer["commissioned"] is False
    assert offer["version"] == 1
    assert offer["tiers"][1] == {"min_quantity": "100", "unit_price": "10.50"}
    assert offer["capacity"] == "2000"

    lma = f.token_headers(client, people["lma"].email)
    lma_offer = client.post("/api/v1/offers", json=offer_body(), headers=lma).json()
    assert lma_offer["commissioned"] is True

    published = client.post(f"/api/v1/offers/{offer['id']}/publish", headers=contractor)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    again = client.post(f"/api/v1/offers/{offer['id']}/publish", headers=contractor)
    assert again.status_code == 409
    withdrawn = client.post(f"/api/v1/offers/{offer['id']}/withdraw", headers=contractor)
    assert withdrawn.json()["status"] == "withdrawn"
    assert client.patch(
        f"/api/v1/offers/{offer['id']}", json={"title": "New"}, headers=contractor
    ).status_code == 409

    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.object_id == str(offer["id"]),
                                        AuditEvent.object_type == "offer")
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    assert actions == ["offer.created", "offer.published", "offer.withdrawn"]


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"category": "catering"}, "category"),
    ({"unit": "image"}, "unit"),
    ({"tiers": [{"min_quantity": "5", "unit_price": "12.00"}]}, "tiers.0.min_quantity"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "12.00"},
                {"min_quantity": "1", "unit_price": "11.00"}]}, "tiers.1.min_quantity"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "12.00"},
                {"min_quantity": "200", "unit_price": "11.00"},
                {"min_quantity": "100", "unit_price": "10.00"}]}, "tiers.2.min_quantity"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "10.00"},
                {"min_quantity": "100", "unit_price": "10.01"}]}, "tiers.1.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "0"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "-3.00"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "abc"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "12.005"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": 12.5}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "0", "unit_price": "12.00"}]}, "tiers.0.min_quantity"),
    ({"tiers": [{"min_quantity": "-1", "unit_price": "12.00"}]}, "tiers.0.min_quantity"),
    ({"tiers": [{"min_quantity": "lots", "unit_price": "12.00"}]}, "tiers.0.min_quantity"),
    ({"tiers": []}, "tiers"),
    ({"unit": "box_year", "tiers": [{"min_quantity": "1", "unit_price": "2.00"},
                                    {"min_quantity": "10.5", "unit_price": "1.50"}]},
     "tiers.1.min_quantity"),
    ({"capacity": "0"}, "capacity"),
    ({"capacity": "12.345"}, "capacity"),
    ({"valid_from": "2027-01-01", "valid_until": "2026-12-31"}, "valid_until"),
    ({"commissioned": True}, "commissioned"),
    ({"title": ""}, "title"),
    ({"lead_time_days": -1}, "lead_time_days"),
]


def _error_fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    body = response.json()
    if isinstance(body["detail"], list):
        return {e["field"] for e in body["detail"]}
    return {body["field"]}


def test_bad_input_names_the_field_and_writes_nothing(client, session, people) -> None:
    headers = f.token_headers(client, people["contractor"].email)
    before = counts(session)
    for overrides, field in BAD_INPUT:
        response = client.post("/api/v1/offers", json=offer_body(**overrides), headers=headers)
        assert response.status_code == 422, (overrides, response.text)
        assert field in _error_fields(response), (overrides, response.json())
    assert counts(session) == before


def test_permissions(client, session, people) -> None:
    own = session.get(Organisation, people["contractor"].organisation_id)
    offer = make_offer(session, own)
    draft = make_offer(session, own, publish=False)
    session.commit()
    manager = f.token_headers(client, people["manager"].email)
    other = f.token_headers(client, people["other"].email)
    before = counts(session)
    assert client.post("/api/v1/offers", json=offer_body(), headers=manager).status_code == 403
    patch = client.patch(f"/api/v1/offers/{offer.id}", json={"title": "Mine now"}, headers=other)
    assert patch.status_code == 403
    assert client.post(f"/api/v1/offers/{offer.id}/withdraw", headers=other).status_code == 403
    # Another provider's draft is not found on any verb (issue 9: was 403 here).
    assert client.post(f"/api/v1/offers/{draft.id}/publish", headers=other).status_code == 404
    # Another provider's draft is invisible; a published offer is visible to everyone.
    assert client.get(f"/api/v1/offers/{draft.id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/offers/{draft.id}", headers=manager).status_code == 404
    assert client.get(f"/api/v1/offers/{offer.id}", headers=manager).status_code == 200
    assert client.get("/api/v1/offers", headers={}).status_code == 401
    assert counts(session) == before


def test_draft_changes_in_place_and_published_rates_make_a_new_version(client, session, people) -> None:
    headers = f.token_headers(client, people["contractor"].email)
    offer = client.post("/api/v1/offers", json=offer_body(), headers=headers).json()
    tiers_v2 = [{"min_quantity": "1", "unit_price": "11.00"}, {"min_quantity": "100", "unit_price": "10.00"}]
    draft = client.patch(f"/api/v1/offers/{offer['id']}", json={"tiers": tiers_v2}, headers=headers).json()
    assert draft["version"] == 1 and len(draft["versions"]) == 1
    assert draft["tiers"] == tiers_v2

    client.post(f"/api/v1/offers/{offer['id']}/publish", headers=headers)
    # A contract-to-be is priced now, on version 1: 120 m at £10.00 for 2027.
    before = quotes.quote_offer(
        session, offer_id=offer["id"], quantity=Decimal("120"),
        start_date=date(2027, 1, 1), end_date=date(2027, 12, 31),
    )
    assert (before.version, before.unit_price, before.value) == (1, Decimal("10.00"), Decimal("1200.00"))

    # Text changes stay in place; new rates make version 2.
    renamed = client.patch(f"/api/v1/offers/{offer['id']}", json={"title": "Renamed"}, headers=headers).json()
    assert renamed["version"] == 1 and renamed["title"] == "Renamed"
    new_rates = [{"min_quantity": "1", "unit_price": "13.00"}, {"min_quantity": "100", "unit_price": "11.50"}]
    changed = client.patch(
        f"/api/v1/offers/{offer['id']}", json={"tiers": new_rates, "unit": "cubic_metre_year"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["status"] == "published"
    assert body["version"] == 2 and body["unit"] == "cubic_metre_year"
    assert [v["number"] for v in body["versions"]] == [1, 2]
    assert body["versions"][0]["tiers"] == tiers_v2
    assert body["versions"][0]["unit"] == "linear_metre_year"
    assert body["versions"][1]["tiers"] == new_rates

    # The contract-to-be keeps the old rate on the old version...
    session.expire_all()
    kept = quotes.price_version(
        session, version_id=before.offer_version_id, quantity=Decimal("120"),
        start_date=date(2027, 1, 1), end_date=date(2027, 12, 31),
    )
    assert kept == before
    # ...while a new quote uses version 2: 120 × £11.50 = £1,380.00.
    after = quotes.quote_offer(
        session, offer_id=offer["id"], quantity=Decimal("120"),
        start_date=date(2027, 1, 1), end_date=date(2027, 12, 31),
    )
    assert after.version == 2 and after.offer_version_id != before.offer_version_id
    assert after.value == Decimal("1380.00")
    # Unchanged rates do not make a version.
    same = client.patch(f"/api/v1/offers/{offer['id']}", json={"tiers": new_rates}, headers=headers)
    assert same.json()["version"] == 2


def offer_row(session: Session, offer_id: int) -> tuple[Any, ...]:
    session.expire_all()
    offer = session.get(Offer, offer_id)
    assert offer is not None
    tiers = session.exec(
        select(OfferTier.min_quantity, OfferTier.unit_price_pence)
        .join(OfferVersion, OfferVersion.id == OfferTier.version_id)  # type: ignore[arg-type]
        .where(OfferVersion.offer_id == offer_id)
        .order_by(OfferTier.version_id, OfferTier.min_quantity)  # type: ignore[arg-type]
    ).all()
    return (offer.title, offer.unit_id, offer.capacity, offer.valid_until, offer.status,
            offer.current_version, offer.commissioned, [tuple(t) for t in tiers])


PATCH_BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"category": "conservation"}, "category"),  # a published offer keeps its category
    ({"unit": "image"}, "unit"),
    ({"unit": "furlong"}, "unit"),
    ({"tiers": [{"min_quantity": "2", "unit_price": "12.00"}]}, "tiers.0.min_quantity"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "12.00"},
                {"min_quantity": "50", "unit_price": "12.50"}]}, "tiers.1.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "12.00"},
                {"min_quantity": "1", "unit_price": "11.00"}]}, "tiers.1.min_quantity"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "0.00"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "-1"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "cheap"}]}, "tiers.0.unit_price"),
    ({"tiers": [{"min_quantity": "1", "unit_price": "9.999"}]}, "tiers.0.unit_price"),
    ({"tiers": []}, "tiers"),
    ({"tiers": None}, "tiers"),
    ({"capacity": "-5"}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"valid_until": "2025-12-31"}, "valid_until"),  # before valid_from 2026-01-01
    ({"commissioned": True}, "commissioned"),
    ({"title": "   "}, "title"),
    ({"status": "published"}, "status"),
]


def test_bad_changes_name_the_field_and_write_nothing(client, session, people) -> None:
    own = session.get(Organisation, people["contractor"].organisation_id)
    published = make_offer(session, own, tiers=[("1", "12.00"), ("100", "10.00")])
    draft = make_offer(session, own, publish=False)
    session.commit()
    headers = f.token_headers(client, people["contractor"].email)
    for offer in (published, draft):
        before, rows = counts(session), offer_row(session, offer.id)  # type: ignore[arg-type]
        for overrides, field in PATCH_BAD_INPUT:
            if offer is draft and field == "category":
                overrides, field = {"category": "catering"}, "category"
            response = client.patch(f"/api/v1/offers/{offer.id}", json=overrides, headers=headers)
            assert response.status_code == 422, (overrides, response.text)
            assert field in _error_fields(response), (overrides, response.json())
        assert counts(session) == before
        assert offer_row(session, offer.id) == rows  # type: ignore[arg-type]


def test_only_providers_change_offers(client, session, people) -> None:
    own = session.get(Organisation, people["contractor"].organisation_id)
    offer = make_offer(session, own)
    draft = make_offer(session, own, publish=False)
    session.commit()
    before, rows = counts(session), offer_row(session, offer.id)  # type: ignore[arg-type]
    for person in ("manager", "other"):
        headers = f.token_headers(client, people[person].email)
        calls = [
            client.patch(f"/api/v1/offers/{offer.id}", json={"tiers": [
                {"min_quantity": "1", "unit_price": "1.00"}]}, headers=headers),
            client.post(f"/api/v1/offers/{offer.id}/withdraw", headers=headers),
            client.post(f"/api/v1/offers/{draft.id}/publish", headers=headers),
        ]
        # Visible offers: 403; another provider's draft: 404, as on GET (issue 9).
        assert [c.status_code for c in calls] == [403, 403, 404], person
    officer = f.officer(session)
    session.commit()
    headers = f.token_headers(client, officer.email)
    assert client.post("/api/v1/offers", json=offer_body(), headers=headers).status_code == 403
    assert counts(session) == before
    assert offer_row(session, offer.id) == rows  # type: ignore[arg-type]
