"""The savings page, its HTMX fragment, the CSV download and the dashboard panel."""

import csv
import io
import re

from lap_market.accounts.deps import SESSION_COOKIE
from tests.factories import accounts as fa


def _sign_in(client, app, user):
    client.cookies.set(SESSION_COOKIE, fa.session_token(app, user, minutes=30))


def test_officer_page_fragment_and_csv(client, app, dataset):
    _sign_in(client, app, dataset.officer)
    page = client.get("/savings")
    assert page.status_code == 200
    html = page.text
    assert "<html" in html
    # Headline: saving 599.51 of 4383.83 standalone (13.7%), see test_savings_api.
    assert re.search(r'id="headline-saving">£599\.51 <span[^>]*>\(13\.7%\)', html)
    assert "£3,784.32" in html and "£4,383.83" in html
    assert 'role="img"' in html and 'aria-labelledby="savings-chart-borough-title' in html
    assert '<th scope="row">Hackney <span class="lap-secondary">(E09000012)</span></th>' in html
    assert " style=" not in html  # the CSP forbids inline styles
    assert 'href="/savings.csv?group_by=borough"' in html

    fragment = client.get(
        "/savings?group_by=category&from=2026-10-01&to=2026-10-01",
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="savings-table"' in fragment.text
    assert 'id="group-category" class="lap-sub-nav__link" href="/savings?group_by=category&amp;from=2026-10-01&amp;to=2026-10-01"' in fragment.text  # noqa: E501
    assert '£49.00 <span class="lap-headline__pct">(12.3%)</span>' in fragment.text

    download = client.get("/savings.csv?group_by=provider")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="savings-by-provider.csv"' in download.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(download.text)))[-1] == [
        "Total", "", "", "5", "3784.32", "4383.83", "599.51", "13.7", "1"
    ]


def test_provider_page_hides_savings(client, app, session, dataset):
    _sign_in(client, app, dataset.contractor_user)
    html = client.get("/savings").text
    assert "Contracts with Riverside Conservation Ltd" in html
    assert "£2,351.00" in html
    assert "headline-saving" not in html and "Standalone value" not in html
    assert "£2,300.50" not in html and "£400.00" not in html
    westminster = fa.manager(session, "E09000033")
    session.commit()
    _sign_in(client, app, westminster)
    html = client.get("/savings").text
    assert "Westminster" in html and "No contracts yet." in html and "<svg" not in html


def test_bad_dates_are_shown_beside_the_fields(client, app, dataset):
    _sign_in(client, app, dataset.camden_manager)
    response = client.get("/savings?from=2026-13-01")
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert '<a href="#f-from">Issued from: Issued from must be a real date' in response.text
    response = client.get("/savings?from=2026-10-02&to=2026-10-01")
    assert response.status_code == 422
    assert 'href="#f-to"' in response.text and 'id="f-to-error"' in response.text
    assert client.get("/savings?group_by=colour").status_code == 422
    assert client.get("/savings.csv?to=tomorrow").status_code == 422


def test_dashboard_panels(client, app, dataset):
    _sign_in(client, app, dataset.officer)
    html = client.get("/dashboard").text
    assert "Partnership saving to date" in html and "£599.51 (13.7%)" in html
    _sign_in(client, app, dataset.camden_manager)
    html = client.get("/dashboard").text
    assert "Our saving to date" in html and "£299.01 (17.1%)" in html
    _sign_in(client, app, dataset.lma_user)
    html = client.get("/dashboard").text
    # LMA's contracts: C1 + C4 + C5 = 1433.32, and no saving shown.
    assert "Contract value" in html and "£1,433.32" in html and "saving to date" not in html


def test_a_negative_saving_is_red_with_a_minus_sign_and_words(client, app, session, dataset):
    """Issue 13: a contract that cost more than buying alone shows as a loss everywhere."""
    from datetime import UTC, datetime

    from tests.factories import reports as fr

    fr.contract(session, buyer=dataset.camden, supplier=dataset.lma, issued_by=dataset.officer,
                category="storage", value="5000.00", standalone="1000.00",
                issued_at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    session.commit()
    _sign_in(client, app, dataset.camden_manager)
    html = client.get("/savings").text
    headline = html.split('id="headline-saving">')[1].split("</dd>")[0]
    assert headline.startswith('<span class="lap-loss">-£')
    assert "(cost more than buying alone)" in headline
    assert "lap-headline--saving" not in html and "lap-headline--loss" in html
    assert 'data-label="Saving" class="lap-num"><span class="lap-loss">-£' in html
    dashboard = client.get("/dashboard").text
    assert "cost more than buying alone" in dashboard and "lap-loss" in dashboard
