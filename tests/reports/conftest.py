"""A small set of contracts whose savings are worked out by hand in the tests.

    contract  borough  category      provider     issued      contracted  standalone  saving
    C1        Camden   storage       LMA          2026-09-01     1000.00     1250.00  250.00
    C2        Camden   conservation  Contractor   2026-10-01      351.00      400.00   49.00
    C3        Hackney  storage       Contractor   2026-10-15     2000.00     2300.50  300.50
    C4        Hackney  conservation  LMA          2026-11-01      333.33   (no rate)    0.00
    C5        Camden   storage       LMA          2025-12-31       99.99      100.00    0.01

C4 has no reference rate, so it counts at its own value (333.33) and claims no saving.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from lap_market.accounts.models import Organisation, User
from tests.factories import accounts as fa
from tests.factories import reports as fr


@dataclass
class Dataset:
    camden: Organisation
    hackney: Organisation
    lma: Organisation
    contractor: Organisation
    officer: User
    camden_manager: User
    hackney_manager: User
    contractor_user: User
    lma_user: User
    admin: User


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=UTC)


@pytest.fixture
def dataset(session) -> Dataset:
    camden = fa.borough(session, "E09000007")
    hackney = fa.borough(session, "E09000012")
    lma = fa.lma(session)
    contractor = fa.contractor(session, "Riverside Conservation Ltd")
    officer = fa.officer(session)
    data = Dataset(
        camden=camden, hackney=hackney, lma=lma, contractor=contractor, officer=officer,
        camden_manager=fa.manager(session, "E09000007"),
        hackney_manager=fa.manager(session, "E09000012"),
        contractor_user=fa.provider(session, contractor),
        lma_user=fa.provider(session, lma),
        admin=fa.admin(session),
    )
    rows = [
        (camden, "storage", lma, _at(2026, 9, 1), "1000.00", "1250.00"),
        (camden, "conservation", contractor, _at(2026, 10, 1), "351.00", "400.00"),
        (hackney, "storage", contractor, _at(2026, 10, 15), "2000.00", "2300.50"),
        (hackney, "conservation", lma, _at(2026, 11, 1), "333.33", None),
        (camden, "storage", lma, _at(2025, 12, 31), "99.99", "100.00"),
    ]
    for buyer, category, supplier, issued_at, value, standalone in rows:
        fr.contract(
            session, buyer=buyer, supplier=supplier, issued_by=officer, category=category,
            value=value, standalone=standalone, issued_at=issued_at,
        )
    session.commit()
    return data
