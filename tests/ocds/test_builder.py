"""Pure rules of the OCDS builder and the validator itself (no database)."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lap_market.ocds import builder
from lap_market.ocds.schemas import json_number
from lap_market.tenders.models import Award, AwardStatus, Tender, TenderStatus
from tests.ocds.validation import assert_valid, problems

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_decimal_becomes_an_exact_json_number() -> None:
    assert json.dumps(json_number(Decimal("1979.40"))) == "1979.4"
    assert json.dumps(json_number(Decimal("0.01"))) == "0.01"
    assert json.dumps(json_number(Decimal("120.00"))) == "120"
    assert json.dumps(json_number(Decimal("999999999999.99"))) == "999999999999.99"
    with pytest.raises(ValueError, match="exactly"):
        json_number(Decimal("1234567890123.4567"))


def test_cpv_code_without_check_digit() -> None:
    assert builder.cpv_id("63121100-4") == "63121100"
    assert builder.cpv_id("92512000") == "92512000"


def _tender(**overrides: object) -> Tender:
    values: dict[str, object] = {
        "id": 1, "reference": "LAP-2026-0001", "year": 2026, "sequence": 1, "title": "T",
        "status": TenderStatus.PUBLISHED, "created_by_id": 1, "created_at": NOON,
        "updated_at": NOON, "published_at": NOON,
        "clarification_deadline": datetime(2026, 11, 9, 12, tzinfo=UTC),
        "submission_deadline": datetime(2026, 11, 16, 12, tzinfo=UTC),
    }
    values.update(overrides)
    return Tender(**values)


def _award(**overrides: object) -> Award:
    values: dict[str, object] = {
        "id": 7, "tender_id": 1, "lot_id": 1, "bid_id": 1, "supplier_id": 5,
        "unit_price_pence": 987, "status": AwardStatus.STANDSTILL, "awarded_by_id": 1,
        "awarded_at": datetime(2026, 11, 17, 10, tzinfo=UTC), "standstill_ends": date(2026, 11, 27),
    }
    values.update(overrides)
    return Award(**values)


def test_bidding_closes_at_the_deadline_unless_cancelled_first() -> None:
    tender = _tender()
    deadline = datetime(2026, 11, 16, 12, tzinfo=UTC)
    assert builder.closed_at(tender, datetime(2026, 11, 16, 11, 59, tzinfo=UTC)) is None
    assert builder.closed_at(tender, deadline) == deadline
    cancelled = _tender(status=TenderStatus.CANCELLED, cancelled_at=datetime(2026, 11, 10, tzinfo=UTC))
    assert builder.closed_at(cancelled, datetime(2026, 12, 1, tzinfo=UTC)) is None
    assert builder.closed_at(_tender(published_at=None), deadline) is None


def test_award_is_pending_through_standstill_then_active_or_cancelled() -> None:
    award = _award()
    assert builder.award_status(award, datetime(2026, 11, 27, 23, 59, tzinfo=UTC)) == "pending"
    assert builder.award_status(award, datetime(2026, 11, 28, 0, 0, tzinfo=UTC)) == "active"
    revoked = _award(status=AwardStatus.REVOKED, revoked_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert builder.award_status(revoked, datetime(2026, 11, 19, tzinfo=UTC)) == "pending"
    assert builder.award_status(revoked, datetime(2026, 11, 21, tzinfo=UTC)) == "cancelled"


def test_stages_in_date_order_and_only_those_that_happened() -> None:
    tender = _tender(status=TenderStatus.AWARDED)
    award = _award()
    during = builder.stages(tender, [], [award], datetime(2026, 11, 20, tzinfo=UTC))
    assert [s.suffix for s in during] == ["tender", "tender-closed", "award-7"]
    after = builder.stages(tender, [], [award], datetime(2026, 12, 1, tzinfo=UTC))
    assert [(s.suffix, s.tag) for s in after][-1] == ("award-7-active", "awardUpdate")
    revoked = _award(status=AwardStatus.REVOKED, revoked_at=datetime(2026, 11, 20, tzinfo=UTC))
    tags = [s.tag for s in builder.stages(tender, [], [revoked], datetime(2026, 12, 1, tzinfo=UTC))]
    assert tags == ["tender", "tenderUpdate", "award", "awardCancellation"]
    assert builder.stages(_tender(published_at=None, status=TenderStatus.DRAFT), [], [], NOON) == []


MINIMAL = {
    "uri": "http://testserver/api/v1/ocds/release-packages/1",
    "version": "1.1",
    "publishedDate": "2026-11-02T12:00:00Z",
    "publisher": {"name": "London Archives Partnership"},
    "releases": [{
        "ocid": "ocds-lapmkt-LAP-2026-0001", "id": "ocds-lapmkt-LAP-2026-0001-tender",
        "date": "2026-11-02T12:00:00Z", "tag": ["tender"], "initiationType": "tender",
        "parties": [{"id": "lap-org-1", "name": "London Archives Partnership",
                     "roles": ["procuringEntity"]}],
        "tender": {"id": "LAP-2026-0001", "status": "active", "lots": [], "items": [],
                   "procuringEntity": {"id": "lap-org-1", "name": "London Archives Partnership"},
                   "value": {"amount": 12.5, "currency": "GBP"}},
    }],
}


def test_validator_accepts_a_minimal_package_and_catches_each_kind_of_error() -> None:
    assert_valid(MINIMAL)

    def broken(change) -> list[str]:  # type: ignore[no-untyped-def]
        package = copy.deepcopy(MINIMAL)
        change(package)
        return problems(package)

    assert broken(lambda p: p["releases"].clear())  # a package needs a release
    assert broken(lambda p: p["releases"][0]["tender"].update(status="closed"))
    assert broken(lambda p: p["releases"][0]["tender"]["value"].update(amount="12.50"))
    assert broken(lambda p: p["releases"][0]["tender"]["value"].update(currency="QQQ"))
    assert broken(lambda p: p["releases"][0].update(date="2026-11-02"))
    assert broken(lambda p: p["releases"][0].update(tag=["bid"]))
    assert broken(lambda p: p["releases"][0]["parties"][0].update(roles=["boss"]))
    assert broken(lambda p: p["releases"][0]["tender"]["procuringEntity"].update(id="elsewhere"))
    assert broken(lambda p: p.update(uri="not a uri"))
