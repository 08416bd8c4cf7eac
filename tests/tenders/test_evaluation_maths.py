"""Evaluation maths worked by hand (no database)."""

from decimal import Decimal as D

from lap_market.tenders.evaluation import Scored, price_score, rank_bids, total_score


def test_price_and_total_scores_round_half_up() -> None:
    assert price_score(800, 1000) == D("80.00")
    assert price_score(700, 900) == D("77.78")  # 77.777…
    assert total_score(60, 40, D("77.78"), D("33.33")) == D("60.00")  # 46.668 + 13.332
    assert total_score(50, 50, D("66.65"), D("0")) == D("33.33")  # 33.325 half-up, not 33.32


def test_ranking_by_hand() -> None:
    # Weights 60/40. Lowest price £8.00.
    # A £10.00: price 80.00, quality 90   -> (4800 + 3600) / 100 = 84.00
    # B £12.50: price 64.00, quality 95.5 -> (3840 + 3820) / 100 = 76.60
    # C £8.00:  price 100.00, quality 61  -> (6000 + 2440) / 100 = 84.40
    ranked = rank_bids(
        [Scored(1, 1000, D("90")), Scored(2, 1250, D("95.5")), Scored(3, 800, D("61"))], 60, 40
    )
    assert [(r.bid_id, r.price_score, r.total_score, r.rank) for r in ranked] == [
        (3, D("100.00"), D("84.40"), 1),
        (1, D("80.00"), D("84.00"), 2),
        (2, D("64.00"), D("76.60"), 3),
    ]


def test_ties_share_a_rank_and_unscored_bids_have_none() -> None:
    # C with quality 60 -> 84.00, the same as A: both first, B third.
    ranked = rank_bids(
        [
            Scored(1, 1000, D("90")),
            Scored(2, 1250, D("95.5")),
            Scored(3, 800, D("60")),
            Scored(4, 900, None),
        ],
        60,
        40,
    )
    assert [(r.bid_id, r.rank) for r in ranked] == [(3, 1), (1, 1), (2, 3), (4, None)]
    assert ranked[-1].price_score == D("88.89") and ranked[-1].total_score is None
    assert rank_bids([], 60, 40) == []
