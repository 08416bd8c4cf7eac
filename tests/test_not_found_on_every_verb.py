"""Something the caller may not see answers 404 on every verb, never 403: a 403 on PATCH
after a 404 on GET would confirm that another provider's draft offer, a draft tender or
another borough's demand exists. Only what the caller may see but not change is 403."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import Organisation
from lap_market.clock import clock
from tests.contracts.helpers import auth
from tests.factories import accounts as acc
from tests.factories import catalogue as cat
from tests.factories import demand as df
from tests.factories import tenders as tf

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _statuses(client: Any, headers: dict[str, str], calls: list[tuple[str, str, Any]]) -> dict[str, int]:
    """Each call's status code, keyed by ``METHOD path``."""
    seen = {}
    for method, path, body in calls:
        kwargs = {"json": body} if body is not None else {}
        response = client.request(method, path, headers=headers, **kwargs)
        seen[f"{method} {path}"] = response.status_code
    return seen


def test_another_providers_draft_offer_is_404_on_every_verb(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    owner, rival = acc.provider(session), acc.provider(session)
    officer, camden = acc.officer(session), acc.manager(session, "E09000007")
    owner_org = session.get(Organisation, owner.organisation_id)
    draft = cat.make_offer(session, owner_org, publish=False, title="Unpublished vaults")
    live = cat.make_offer(session, owner_org, title="Published vaults")
    session.commit()

    def calls(offer_id: int) -> list[tuple[str, str, Any]]:
        return [
            ("GET", f"/api/v1/offers/{offer_id}", None),
            ("PATCH", f"/api/v1/offers/{offer_id}", {"title": "Taken over"}),
            ("POST", f"/api/v1/offers/{offer_id}/publish", None),
            ("POST", f"/api/v1/offers/{offer_id}/withdraw", None),
            ("GET", f"/api/v1/offers/{offer_id}/quote?quantity=1&start_date=2027-01-01"
                    f"&end_date=2027-12-31", None),
        ]

    for who in (rival, officer, camden):
        assert set(_statuses(client, auth(app, who), calls(draft.id)).values()) == {404}, who.role
    # Missing altogether: the same answer.
    assert set(_statuses(client, auth(app, rival), calls(draft.id + 1000)).values()) == {404}
    # Visible but not theirs: 403 on the changes, 200 on reading it.
    seen = _statuses(client, auth(app, rival), calls(live.id)[:4])
    assert seen == {
        f"GET /api/v1/offers/{live.id}": 200,
        f"PATCH /api/v1/offers/{live.id}": 403,
        f"POST /api/v1/offers/{live.id}/publish": 403,
        f"POST /api/v1/offers/{live.id}/withdraw": 403,
    }
    # The owner still reads and changes its draft.
    assert client.get(f"/api/v1/offers/{draft.id}", headers=auth(app, owner)).status_code == 200
    r = client.patch(f"/api/v1/offers/{draft.id}", json={"title": "Renamed"},
                     headers=auth(app, owner))
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    # ...and its pages say the same: another provider's draft is not found.
    client.cookies.set(SESSION_COOKIE, auth(app, rival)["Authorization"][7:])
    assert client.get(f"/my-offers/{draft.id}/edit").status_code == 404
    client.cookies.clear()


def test_a_draft_tender_is_404_on_every_verb_to_all_but_officers(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    officer = acc.officer(session)
    provider, camden = acc.provider(session), acc.manager(session, "E09000007")
    draft = tf.draft_tender(session, officer)
    lot = tf.lots_of(session, draft)[0]
    session.commit()
    base = f"/api/v1/tenders/{draft.id}"
    reason = {"reason": "No longer needed"}
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"title": "Renamed"}),
        ("POST", f"{base}/publish", None),
        ("POST", f"{base}/amendments", {"reason": "More time"}),
        ("POST", f"{base}/cancel", reason),
        ("POST", f"{base}/lots/{lot.id}/cancel", reason),
        ("GET", f"{base}/questions", None),
        ("POST", f"{base}/questions/1/answer", {"answer": "Yes"}),
        ("GET", f"{base}/bids", None),
        ("GET", f"{base}/lots/{lot.id}/evaluation", None),
        ("POST", f"{base}/lots/{lot.id}/award", {"bid_id": "x"}),
        ("POST", f"{base}/lots/{lot.id}/unsuccessful", reason),
        ("PATCH", f"{base}/lots", {"moves": [{"demand_id": 1, "to_lot": None}]}),
        ("DELETE", base, None),
    ]
    for who in (provider, camden):
        seen = _statuses(client, auth(app, who), calls)
        assert {k: v for k, v in seen.items() if v != 404} == {}, who.role
    # The officer may see it: answers are about the draft itself, never "not found".
    r = client.patch(base, json={"title": "Renamed"}, headers=auth(app, officer))
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert client.delete(base, headers=auth(app, officer)).status_code == 204


def test_another_boroughs_demand_is_404_on_every_verb(session, client, app) -> None:  # type: ignore[no-untyped-def]
    clock.set(NOW)
    camden, hackney = acc.manager(session, "E09000007"), acc.manager(session, "E09000012")
    demand = df.demand(session, camden)
    session.commit()
    path = f"/api/v1/demands/{demand.id}"
    calls = [
        ("GET", path, None),
        ("PATCH", path, {"quantity": "10"}),
        ("POST", f"{path}/withdraw", None),
    ]
    assert set(_statuses(client, auth(app, hackney), calls).values()) == {404}
    assert client.get(path, headers=auth(app, camden)).status_code == 200
    assert client.post(f"{path}/withdraw", headers=auth(app, camden)).status_code == 200
