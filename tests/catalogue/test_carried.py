"""Issue 13 on the catalogue pages: the compare table's caption and unit list, and the
quantity and term carried from compare to the offer, and on to commissioning or a need."""

from __future__ import annotations

import re
from html import unescape

from tests.factories import accounts as acc
from tests.factories import catalogue as cat


def _links(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" href="([^"]+)"', html)
    assert match, element_id
    return unescape(match.group(1))


def test_compare_carries_quantity_and_term_to_offer_commission_and_need(
    session, client, app
) -> None:
    offer = cat.make_offer(session, acc.lma(session), category="storage", unit="box_year",
                           tiers=[("1", "3.00")], title="Box store")
    cat.make_offer(session, acc.lma(session), category="storage", unit="linear_metre_year",
                   tiers=[("1", "1.00")], title="Shelf store")
    manager = acc.manager(session)
    session.commit()
    client.cookies.set("lap_session", acc.session_token(app, manager))
    params = {"category": "storage", "unit": "box_year", "quantity": "240",
              "start_date": "2027-04-01", "end_date": "2030-03-31"}
    page = client.get("/catalogue/compare", params=params)
    assert page.status_code == 200
    table = page.text.split('id="comparison-table"')[1].split("</table>")[0]
    # A real caption, not a block in the Rank column; ranked within box per year only.
    assert '<caption class="lap-table__caption">1 offer at 240 box per year' in table
    assert "Shelf store" not in table
    assert 'data-label="Rank"' in table
    units = page.text.split('id="f-unit"')[1].split("</select>")[0]
    assert units.count(">Item<") == 1
    carried = "quantity=240&start_date=2027-04-01&end_date=2030-03-31"
    assert f'/catalogue/offers/{offer.id}?{carried}' in unescape(table)
    assert _links(page.text, "raise-need-link") == (
        f"/needs?category=storage&unit=box_year&{carried}#raise")

    offer_page = client.get(f"/catalogue/offers/{offer.id}", params={
        k: params[k] for k in ("quantity", "start_date", "end_date")})
    assert 'id="quote"' in offer_page.text  # pre-filled and priced at once
    assert _links(offer_page.text, "commission-link") == (
        f"/catalogue/offers/{offer.id}/commission?{carried}")
    assert _links(offer_page.text, "raise-need-link") == (
        f"/needs?category=storage&unit=box_year&{carried}#raise")
    back = re.search(r'href="([^"]+)" class="lap-back-link"', offer_page.text)
    assert back and unescape(back.group(1)).startswith("/catalogue/compare?category=storage")

    commission = client.get(_links(offer_page.text, "commission-link"))
    assert commission.status_code == 200 and 'value="240"' in commission.text
    assert "Back to the offer" in commission.text
    need = client.get(_links(offer_page.text, "raise-need-link"))
    assert '<option value="storage:box_year" selected' in need.text
    assert 'value="2030-03-31"' in need.text


def test_compare_refuses_a_bad_optional_date(session, client, app) -> None:
    manager = acc.manager(session)
    session.commit()
    client.cookies.set("lap_session", acc.session_token(app, manager))
    page = client.get("/catalogue/compare", params={
        "category": "storage", "unit": "box_year", "quantity": "5", "start_date": "2027-13-01"})
    assert page.status_code == 422 and 'id="f-start_date-error"' in page.text
