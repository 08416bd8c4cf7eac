"""Pricing many quantities at once gives exactly what pricing each one alone gives, at and
between every tier start and capacity limit (pure rules, no database)."""

from decimal import Decimal

from lap_market.catalogue.pricing import RateCard, Tier, _Candidate


def _candidate(number: int, tiers: list[tuple[str, int]], available: str | None) -> _Candidate:
    return _Candidate(
        offer_id=number,
        version_id=number,
        version_number=1,
        provider_id=number,
        available=Decimal(available) if available is not None else None,
        tiers=[Tier(min_quantity=Decimal(m), unit_price_pence=p) for m, p in tiers],
    )


CARD = RateCard(
    [
        _candidate(1, [("1", 1200), ("100", 1000)], None),
        _candidate(2, [("1", 1300), ("50", 1100), ("120", 950)], "200"),
        _candidate(3, [("1", 900)], "10.5"),  # cheapest, but only for small quantities
    ]
)


def test_prices_at_once_match_prices_one_by_one() -> None:
    # Every quarter from 0.25 to 260, which lands on and between every tier and limit.
    quantities = [Decimal(n) / 4 for n in range(1, 1041)] + [Decimal("10.51"), Decimal("200.01")]
    prices = CARD.lowest_prices_pence(quantities)
    for quantity in quantities:
        rate = CARD.best(quantity)
        assert prices[quantity] == (rate.unit_price_pence if rate else None), quantity
    # The steps are really there: the small offer, then A, B's tiers, and A alone past 200.
    assert [prices[Decimal(q)] for q in ("10.5", "10.75", "50", "120", "200", "200.25")] == [
        900,
        1200,
        1100,
        950,
        950,
        1000,
    ]


def test_no_offer_with_room_gives_none() -> None:
    card = RateCard([_candidate(1, [("1", 500)], "20")])
    assert card.lowest_prices_pence([Decimal(20), Decimal("20.01"), Decimal(5)]) == {
        Decimal(20): 500,
        Decimal("20.01"): None,
        Decimal(5): 500,
    }
