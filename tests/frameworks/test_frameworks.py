"""Framework agreements over the API: award to several, the record, the direct-award
cascade (accept, decline, lapse, no supplier), further competition, the end date, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import select

from lap_market.audit.models import AuditEvent
from lap_market.clock import clock
from lap_market.contracts.models import Contract
from lap_market.frameworks import cascade
from lap_market.frameworks.models import FrameworkMember
from tests.contracts.helpers import auth, flat, pdf_pages
from tests.factories import accounts as acc
from tests.factories import tenders as tf
from tests.frameworks import helpers as fh
from tests.ocds.validation import assert_valid

CALL_OFF = {"quantity": "40", "start_date": "2027-04-01", "end_date": "2028-03-31",
            "specification": "Acid-free boxes, 40 m", "route": "direct_award"}


def _established(session: Any, client: Any, app: Any) -> tuple[fh.Setup, dict[str, Any]]:
    setup = fh.framework_tender(session)
    response = fh.award(client, app, setup)
    assert response.status_code == 200, response.text
    fh.after_standstill(response.json()["standstill_ends"])
    frameworks = client.get("/api/v1/frameworks", headers=auth(app, setup.officer)).json()
    return setup, frameworks[0]


def _call_off(client: Any, app: Any, manager: Any, framework: dict[str, Any], lot_id: int,
              **overrides: Any) -> Any:
    return client.post(f"/api/v1/frameworks/{framework['id']}/lots/{lot_id}/call-offs",
                       json={**CALL_OFF, **overrides}, headers=auth(app, manager))


def _offer(client: Any, app: Any, provider: Any) -> dict[str, Any]:
    offers = client.get("/api/v1/call-off-offers?status=pending",
                        headers=auth(app, provider)).json()
    assert len(offers) == 1, offers
    return offers[0]


def test_a_framework_lot_awarded_to_three_bids_in_rank_order(session, client, app) -> None:
    setup = fh.framework_tender(session)
    response = fh.award(client, app, setup, "BAC")  # any order: ranked by the evaluation
    assert response.status_code == 200, response.text
    assert len(response.json()["award_ids"]) == 3
    record = client.get("/api/v1/frameworks", headers=auth(app, setup.officer)).json()
    assert [f["reference"] for f in record] == [f"{setup.tender.reference}-FW"]
    detail = client.get(f"/api/v1/frameworks/{record[0]['id']}",
                        headers=auth(app, setup.officer)).json()
    members = detail["lots"][0]["members"]
    assert [(m["rank"], m["supplier"], m["unit_price"]) for m in members] == [
        (1, "Supplier A Ltd", "9.50"), (2, "Supplier B Ltd", "10.00"),
        (3, "Supplier C Ltd", "11.00")]
    assert Decimal(members[0]["quality_score"]) == 90
    assert detail["status"] == "active" and detail["end_date"] == "2029-09-30"
    assert detail["call_off_value"] == "0.00"


def test_leaving_out_a_higher_ranked_bid_needs_a_reason(session, client, app) -> None:
    setup = fh.framework_tender(session)
    refused = fh.award(client, app, setup, "ABD")
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    too_many = fh.award(client, app, setup, "ABCD")
    assert too_many.status_code == 422 and too_many.json()["field"] == "bid_ids"
    assert fh.award(client, app, setup, "ABD", reason="C cannot start until 2028").status_code \
        == 200


def test_framework_end_at_most_four_years(session, client, app) -> None:
    officer = fh.framework_tender(session).officer
    draft = tf.draft_tender(session, officer)
    session.commit()
    headers = auth(app, officer)
    too_late = clock.today() + timedelta(days=4 * 366)
    response = client.patch(f"/api/v1/tenders/{draft.id}", headers=headers,
                            json={"procedure": "framework", "framework_end": str(too_late)})
    assert response.status_code == 422 and response.json()["field"] == "framework_end", \
        response.text
    missing = client.patch(f"/api/v1/tenders/{draft.id}", headers=headers,
                           json={"procedure": "framework"})
    assert missing.status_code == 422 and missing.json()["field"] == "framework_end"
    fine = client.patch(f"/api/v1/tenders/{draft.id}", headers=headers,
                        json={"procedure": "framework", "framework_end": "2029-12-31",
                              "framework_max_suppliers": 4})
    assert fine.status_code == 200, fine.text
    assert fine.json()["procedure"] == "framework"
    assert fine.json()["framework_max_suppliers"] == 4


def test_direct_award_accepted_by_the_first_issues_the_contract(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    response = _call_off(client, app, manager, framework, setup.lot.id)
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "offered" and request["offers"][0]["supplier"] == "Supplier A Ltd"
    offer = _offer(client, app, setup.providers["A"])
    assert offer["unit_price"] == "9.50" and offer["value"] == "381.04"  # 40 × 9.50 × 366 / 365 (2028 is a leap year)
    accepted = client.post(f"/api/v1/call-off-offers/{offer['id']}/accept",
                           headers=auth(app, setup.providers["A"]))
    assert accepted.status_code == 200, accepted.text
    final = client.get(f"/api/v1/framework-call-offs/{request['id']}",
                       headers=auth(app, manager)).json()
    assert final["status"] == "called_off" and final["contract_id"]
    contract = session.get(Contract, final["contract_id"])
    assert contract is not None and contract.buyer_id == manager.organisation_id
    assert contract.call_off_route == "direct_award" and contract.framework_id == framework["id"]
    pdf = client.get(f"/api/v1/contracts/{contract.id}/pdf", headers=auth(app, manager))
    text = flat(" ".join(pdf_pages(pdf.content)))
    assert framework["reference"] in text and "direct award" in text.lower()
    record = client.get(f"/api/v1/frameworks/{framework['id']}",
                        headers=auth(app, setup.officer)).json()
    assert record["call_off_value"] == "381.04"
    assert record["call_offs"][0]["contract_reference"] == contract.reference
    savings = client.get("/api/v1/reports/savings?group_by=borough",
                         headers=auth(app, manager)).json()
    assert savings["totals"]["contracts"] == 1
    assert savings["totals"]["contracted_value"] == "381.04"


def test_cascade_decline_then_lapse_then_accept(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    request = _call_off(client, app, manager, framework, setup.lot.id).json()
    first = _offer(client, app, setup.providers["A"])
    declined = client.post(f"/api/v1/call-off-offers/{first['id']}/decline",
                           json={"reason": "No space until 2028"},
                           headers=auth(app, setup.providers["A"]))
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    second = _offer(client, app, setup.providers["B"])
    assert second["step"] == 2 and second["unit_price"] == "10.00"
    clock.set(clock.now() + timedelta(days=5))  # past two working days

    with type(session)(session.get_bind()) as worker:
        assert cascade.lapse_due(worker, app.state.settings) == 1
        worker.commit()
    late = client.post(f"/api/v1/call-off-offers/{second['id']}/accept",
                       headers=auth(app, setup.providers["B"]))
    assert late.status_code == 409
    third = _offer(client, app, setup.providers["C"])
    assert client.post(f"/api/v1/call-off-offers/{third['id']}/accept",
                       headers=auth(app, setup.providers["C"])).status_code == 200
    final = client.get(f"/api/v1/framework-call-offs/{request['id']}",
                       headers=auth(app, manager)).json()
    assert [o["status"] for o in final["offers"]] == ["declined", "expired", "accepted"]
    assert final["status"] == "called_off"
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    for action in ("framework.call_off_declined", "framework.call_off_lapsed",
                   "framework.call_off_accepted"):
        assert action in actions


def test_all_decline_ends_no_supplier(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    request = _call_off(client, app, manager, framework, setup.lot.id).json()
    for name in "ABC":
        offer = _offer(client, app, setup.providers[name])
        assert client.post(f"/api/v1/call-off-offers/{offer['id']}/decline",
                           json={"reason": "Full"},
                           headers=auth(app, setup.providers[name])).status_code == 200
    final = client.get(f"/api/v1/framework-call-offs/{request['id']}",
                       headers=auth(app, manager)).json()
    assert final["status"] == "no_supplier" and final["contract_id"] is None


def test_a_withdrawn_member_is_skipped(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    first = session.exec(select(FrameworkMember).where(FrameworkMember.rank == 1)).one()
    withdrawn = client.post(f"/api/v1/frameworks/{framework['id']}/members/{first.id}/withdraw",
                            json={"reason": "Insolvent"}, headers=auth(app, setup.officer))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    _call_off(client, app, manager, framework, setup.lot.id)
    assert _offer(client, app, setup.providers["B"])["step"] == 1


def test_no_call_off_after_framework_end(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    clock.set(clock.now().replace(year=2029, month=10, day=1))
    response = _call_off(client, app, manager, framework, setup.lot.id,
                         start_date="2029-11-01", end_date="2030-10-31")
    assert response.status_code == 409 and response.json()["field"] == "framework_end"
    record = client.get(f"/api/v1/frameworks/{framework['id']}", headers=auth(app, manager))
    assert record.json()["status"] == "expired"


def test_further_competition_members_only(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    outsider = setup.providers["D"]
    session.commit()
    deadline = (clock.now() + timedelta(days=3)).isoformat()
    response = _call_off(client, app, manager, framework, setup.lot.id,
                         route="further_competition", price_weight=50, quality_weight=50,
                         submission_deadline=deadline)
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "competing"
    url = f"/api/v1/framework-call-offs/{request['id']}"
    assert client.get(url, headers=auth(app, outsider)).status_code == 403
    assert client.post(f"{url}/bids", json={"unit_price": "8.00", "quality_statement": "x"},
                       headers=auth(app, outsider)).status_code == 403
    prices = {"A": "9.00", "B": "8.00", "C": "9.50"}
    for name, price in prices.items():
        bid = client.post(f"{url}/bids", json={"unit_price": price,
                                               "quality_statement": f"{name}'s plan"},
                          headers=auth(app, setup.providers[name]))
        assert bid.status_code == 200, bid.text
    assert client.post(f"{url}/scores", json={"bid_id": "x", "quality_score": "50"},
                       headers=auth(app, manager)).status_code == 409  # sealed
    clock.set(clock.now() + timedelta(days=4))
    bids = client.get(f"{url}/bids", headers=auth(app, manager)).json()
    assert len(bids) == 3
    for bid in bids:
        scored = client.post(f"{url}/scores", json={"bid_id": bid["id"], "quality_score": "70"},
                             headers=auth(app, manager))
        assert scored.status_code == 200, scored.text
    ranked = sorted(client.get(f"{url}/bids", headers=auth(app, manager)).json(),
                    key=lambda b: b["rank"])
    assert ranked[0]["supplier"] == "Supplier B Ltd"  # cheapest, equal quality
    not_top = client.post(f"{url}/award", json={"bid_id": ranked[1]["id"]},
                          headers=auth(app, manager))
    assert not_top.status_code == 422 and not_top.json()["field"] == "reason"
    awarded = client.post(f"{url}/award", json={"bid_id": ranked[0]["id"]},
                          headers=auth(app, manager))
    assert awarded.status_code == 200, awarded.text
    contract = session.get(Contract, awarded.json()["contract_id"])
    assert contract is not None and contract.unit_price_pence == 800
    assert contract.call_off_route == "further_competition"


def test_two_boroughs_calling_off_at_once_are_both_served(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    managers = [acc.manager(session, "E09000012"), acc.manager(session, "E09000007")]
    session.commit()
    results: list[int] = []
    url = f"/api/v1/frameworks/{framework['id']}/lots/{setup.lot.id}/call-offs"

    def call(headers: dict[str, str]) -> None:
        results.append(client.post(url, json=CALL_OFF, headers=headers).status_code)

    threads = [threading.Thread(target=call, args=(auth(app, m),)) for m in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201, 201]
    offers = client.get("/api/v1/call-off-offers", headers=auth(app, setup.providers["A"])).json()
    assert len(offers) == 2
    for offer in offers:
        assert client.post(f"/api/v1/call-off-offers/{offer['id']}/accept",
                           headers=auth(app, setup.providers["A"])).status_code == 200
    record = client.get(f"/api/v1/frameworks/{framework['id']}",
                        headers=auth(app, setup.officer)).json()
    assert len({c["contract_reference"] for c in record["call_offs"]}) == 2


def test_open_data_framework_and_linked_call_off(session, client, app) -> None:
    setup, framework = _established(session, client, app)
    manager = acc.manager(session, "E09000012")
    session.commit()
    _call_off(client, app, manager, framework, setup.lot.id)
    offer = _offer(client, app, setup.providers["A"])
    client.post(f"/api/v1/call-off-offers/{offer['id']}/accept",
                headers=auth(app, setup.providers["A"]))
    package = client.get("/api/v1/ocds/release-packages").json()
    assert_valid(package)
    prefix = app.state.settings.ocid_prefix
    framework_ocid = f"{prefix}-{setup.tender.reference}"
    own = [r for r in package["releases"] if r["ocid"] == framework_ocid]
    assert all(r["tender"]["techniques"]["hasFrameworkAgreement"] is True for r in own)
    awarded = {s["name"] for r in own for a in r.get("awards", []) for s in a["suppliers"]}
    assert awarded == {"Supplier A Ltd", "Supplier B Ltd", "Supplier C Ltd"}
    call_offs = [r for r in package["releases"] if r["ocid"] != framework_ocid]
    assert len(call_offs) == 1
    release = call_offs[0]
    assert release["ocid"].startswith(f"{framework_ocid}-FW-C")
    assert release["relatedProcesses"] == [{
        "id": "framework", "relationship": ["framework"], "title": "The framework agreement",
        "scheme": "ocid", "identifier": framework_ocid}]
    assert release["tender"]["procurementMethod"] == "limited"
    assert release["contracts"][0]["value"]["amount"] == 381.04
    assert any("techniques" in url for url in package["extensions"])


def test_pooled_demand_is_called_off_from_the_top_ranked_member(session, client, app) -> None:
    setup, _framework = _established(session, client, app)
    response = client.post(f"/api/v1/tenders/{setup.tender.id}/lots/{setup.lot.id}/call-offs",
                           headers=auth(app, setup.officer))
    assert response.status_code == 201, response.text
    contracts = response.json()["contracts"]
    assert len(contracts) == 1  # Camden's pooled line
    assert contracts[0]["supplier"]["name"] == "Supplier A Ltd"
    assert contracts[0]["unit_price"] == "9.50"
