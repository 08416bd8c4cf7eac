"""The savings report API against hand-computed figures, on both databases.

The contracts are in ``conftest.py``: C1–C5.
"""

import csv
import io

from tests.factories.accounts import token_headers

URL = "/api/v1/reports/savings"


def _get(client, user, **params):
    return client.get(URL, params=params, headers=token_headers(client, user.email))


def _figures(row):
    return (row["contracts"], row["contracted_value"], row["standalone_value"], row["saving"],
            row["saving_pct"], row["no_reference_rate"])


def test_officer_by_borough(client, dataset):
    response = _get(client, dataset.officer, group_by="borough")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_by"] == "borough"
    assert body["scope"] == "partnership"
    # Hackney: C3 + C4. contracted 2000.00 + 333.33 = 2333.33;
    #   standalone 2300.50 + 333.33 (C4 at its own value) = 2633.83; saving 300.50;
    #   300.50 / 2633.83 = 11.409…% → 11.4; one contract without a reference rate.
    # Camden: C1 + C2 + C5. contracted 1000.00 + 351.00 + 99.99 = 1450.99;
    #   standalone 1250.00 + 400.00 + 100.00 = 1750.00; saving 299.01;
    #   299.01 / 1750.00 = 17.086…% → 17.1.
    # Sorted by saving: Hackney (300.50) before Camden (299.01).
    assert [(r["key"], r["gss_code"]) for r in body["rows"]] == [
        ("Hackney", "E09000012"), ("Camden", "E09000007")
    ]
    assert _figures(body["rows"][0]) == (2, "2333.33", "2633.83", "300.50", "11.4", 1)
    assert _figures(body["rows"][1]) == (3, "1450.99", "1750.00", "299.01", "17.1", 0)
    # Totals: contracted 3784.32, standalone 4383.83, saving 599.51; 599.51 / 4383.83
    # = 13.675…% → 13.7.
    totals = body["totals"]
    assert _figures(totals) == (5, "3784.32", "4383.83", "599.51", "13.7", 1)


def test_officer_by_category_and_provider(client, dataset):
    headers = token_headers(client, dataset.officer.email)
    body = client.get(URL, params={"group_by": "category"}, headers=headers).json()
    # storage: C1 + C3 + C5: 1000.00 + 2000.00 + 99.99 = 3099.99 against
    #   1250.00 + 2300.50 + 100.00 = 3650.50; saving 550.51; 15.080…% → 15.1.
    # conservation: C2 + C4: 351.00 + 333.33 = 684.33 against 400.00 + 333.33 = 733.33;
    #   saving 49.00; 6.681…% → 6.7.
    assert [(r["key"], r["name"]) for r in body["rows"]] == [
        ("storage", "Archive storage"), ("conservation", "Conservation")
    ]
    assert _figures(body["rows"][0]) == (3, "3099.99", "3650.50", "550.51", "15.1", 0)
    assert _figures(body["rows"][1]) == (2, "684.33", "733.33", "49.00", "6.7", 1)
    assert body["rows"][0]["gss_code"] is None
    assert _figures(body["totals"]) == (5, "3784.32", "4383.83", "599.51", "13.7", 1)

    body = client.get(URL, params={"group_by": "provider"}, headers=headers).json()
    # Riverside (contractor): C2 + C3: 351.00 + 2000.00 = 2351.00 against
    #   400.00 + 2300.50 = 2700.50; saving 349.50; 12.942…% → 12.9.
    # LMA: C1 + C4 + C5: 1000.00 + 333.33 + 99.99 = 1433.32 against
    #   1250.00 + 333.33 + 100.00 = 1683.33; saving 250.01; 14.852…% → 14.9.
    assert [r["key"] for r in body["rows"]] == [
        "Riverside Conservation Ltd", "London Metropolitan Archives"
    ]
    assert _figures(body["rows"][0]) == (2, "2351.00", "2700.50", "349.50", "12.9", 0)
    assert _figures(body["rows"][1]) == (3, "1433.32", "1683.33", "250.01", "14.9", 1)


def test_date_filter_and_half_up_percentage(client, dataset):
    headers = token_headers(client, dataset.officer.email)
    # 2026-01-01 to 2026-10-15 inclusive: C1, C2, C3 (C3 issued on the 15th counts).
    # 1000.00 + 351.00 + 2000.00 = 3351.00 against 1250.00 + 400.00 + 2300.50 = 3950.50;
    # saving 599.50; 15.175…% → 15.2.
    body = client.get(
        URL, params={"group_by": "borough", "from": "2026-01-01", "to": "2026-10-15"},
        headers=headers,
    ).json()
    assert body["from_date"] == "2026-01-01" and body["to_date"] == "2026-10-15"
    assert _figures(body["totals"]) == (3, "3351.00", "3950.50", "599.50", "15.2", 0)
    # Only C2: 49.00 / 400.00 = 12.25% exactly, which rounds half-up to 12.3.
    body = client.get(
        URL, params={"group_by": "category", "from": "2026-10-01", "to": "2026-10-01"},
        headers=headers,
    ).json()
    assert [r["key"] for r in body["rows"]] == ["conservation"]
    assert _figures(body["totals"]) == (1, "351.00", "400.00", "49.00", "12.3", 0)


def test_borough_manager_sees_only_its_borough(client, dataset):
    body = _get(client, dataset.camden_manager, group_by="borough").json()
    assert body["scope"] == "borough"
    assert [r["key"] for r in body["rows"]] == ["Camden"]
    assert _figures(body["totals"]) == (3, "1450.99", "1750.00", "299.01", "17.1", 0)
    body = _get(client, dataset.camden_manager, group_by="provider").json()
    # LMA for Camden: C1 + C5: 1099.99 against 1350.00, saving 250.01, 18.519…% → 18.5.
    # Riverside for Camden: C2: 351.00 against 400.00, saving 49.00, 12.25% → 12.3.
    assert [(r["key"], *_figures(r)) for r in body["rows"]] == [
        ("London Metropolitan Archives", 2, "1099.99", "1350.00", "250.01", "18.5", 0),
        ("Riverside Conservation Ltd", 1, "351.00", "400.00", "49.00", "12.3", 0),
    ]
    hackney = _get(client, dataset.hackney_manager, group_by="category").json()
    assert {r["key"] for r in hackney["rows"]} == {"storage", "conservation"}
    assert _figures(hackney["totals"]) == (2, "2333.33", "2633.83", "300.50", "11.4", 1)
    assert "1450.99" not in str(hackney) and "Camden" not in str(hackney)


def test_provider_sees_its_contract_values_without_savings(client, dataset):
    response = _get(client, dataset.contractor_user, group_by="borough")
    body = response.json()
    assert body["scope"] == "provider" and body["savings_visible"] is False
    # Riverside's contracts: C3 for Hackney (2000.00) and C2 for Camden (351.00), largest
    # value first; no standalone values, savings or percentages.
    assert [(r["key"], *_figures(r)) for r in body["rows"]] == [
        ("Hackney", 1, "2000.00", None, None, None, None),
        ("Camden", 1, "351.00", None, None, None, None),
    ]
    assert _figures(body["totals"]) == (2, "2351.00", None, None, None, None)
    for secret in ("2300.50", "400.00", "349.50", "London Metropolitan"):
        assert secret not in response.text
    body = _get(client, dataset.lma_user, group_by="provider").json()
    assert [(r["key"], r["contracts"], r["contracted_value"]) for r in body["rows"]] == [
        ("London Metropolitan Archives", 3, "1433.32")
    ]


def test_csv_download(client, dataset):
    headers = token_headers(client, dataset.officer.email) | {"Accept": "text/csv"}
    response = client.get(URL, params={"group_by": "borough"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="savings-by-borough.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["key", "name", "gss_code", "contracts", "contracted_value", "standalone_value",
         "saving", "saving_pct", "no_reference_rate"],
        ["Hackney", "Hackney", "E09000012", "2", "2333.33", "2633.83", "300.50", "11.4", "1"],
        ["Camden", "Camden", "E09000007", "3", "1450.99", "1750.00", "299.01", "17.1", "0"],
        ["Total", "", "", "5", "3784.32", "4383.83", "599.51", "13.7", "1"],
    ]
    provider = token_headers(client, dataset.contractor_user.email) | {"Accept": "text/csv"}
    response = client.get(URL, params={"group_by": "category"}, headers=provider)
    assert response.headers["content-disposition"].endswith('"savings-by-category.csv"')
    assert list(csv.reader(io.StringIO(response.text)))[1:] == [
        ["storage", "Archive storage", "", "1", "2000.00", "", "", "", ""],
        ["conservation", "Conservation", "", "1", "351.00", "", "", "", ""],
        ["Total", "", "", "2", "2351.00", "", "", "", ""],
    ]


def test_bad_input_and_access(client, dataset):
    headers = token_headers(client, dataset.officer.email)
    response = client.get(URL, params={"group_by": "colour"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "group_by"
    assert "borough, category, provider" in response.json()["detail"]
    response = client.get(URL, params={"from": "2026-02-30"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "from"
    response = client.get(URL, params={"from": "2026-10-02", "to": "2026-10-01"}, headers=headers)
    assert response.status_code == 422 and response.json()["field"] == "to"
    assert client.get(URL).status_code == 401
    response = _get(client, dataset.admin)
    assert response.status_code == 403
