"""Through Chromium: the officer issues a lot's call-offs and watches the progress; the
borough manager accepts and downloads its PDF; the provider accepts."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlmodel import Session, col, select

from lap_market.accounts.models import Organisation, User
from lap_market.catalogue.models import Category, Offer
from lap_market.clock import clock
from lap_market.contracts.models import Contract
from lap_market.money import format_gbp, from_pence
from tests.accessibility import assert_accessible
from tests.browser import assert_fits_a_phone, sign_in, sign_out
from tests.factories import contracts as cf

BOROUGHS = ["E09000007", "E09000012", "E09000019", "E09000022", "E09000028", "E09000033"]


def test_call_offs_acceptance_and_download(page, live_server) -> None:
    with Session(live_server.app.state.engine) as session:
        def user(email: str) -> User:
            return session.exec(select(User).where(User.email == email)).one()

        awarded = cf.awarded_lot(
            session, demands=[(gss, str(100 + 10 * n)) for n, gss in enumerate(BOROUGHS)],
            officer=user("officer@lap.example"), provider=user("thames@lap.example"),
        )
        session.commit()
        tender_ref, tender_id, lot_id = awarded.tender.reference, awarded.tender.id, awarded.lot.id
        awarded.after_standstill()
    base = live_server.url

    sign_in(page, base, "officer@lap.example")
    page.goto(f"{base}/contracts")
    assert_accessible(page)
    page.get_by_role("link", name=f"Issue call-offs for {tender_ref} lot 1").click()
    page.wait_for_url(f"{base}/tenders/{tender_id}/lots/{lot_id}/call-offs")
    assert_accessible(page)
    page.get_by_role("button", name="Issue 6 call-off contracts").click()
    # The progress region appears at once and counts towards 6 while the batch runs.
    page.locator("#call-off-count", has_text=re.compile(r"^\d of 6")).wait_for()
    page.get_by_text("6 of 6 call-off contracts issued.").wait_for(timeout=30_000)
    assert page.get_by_role("link", name=f"{tender_ref}-L1-C06").is_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    sign_out(page)

    sign_in(page, base, "camden@lap.example")
    assert page.get_by_role("heading", name="Contracts", exact=True).is_visible()
    # The dashboard shows what buying together saved Camden: the sum over its contracts of
    # (standalone value - contracted value), read straight from the contract rows.
    with Session(live_server.app.state.engine) as session:
        camden = session.exec(select(Organisation).where(Organisation.gss_code == "E09000007")).one()
        mine = session.exec(select(Contract).where(Contract.buyer_id == camden.id)).all()
        saved = sum((c.standalone_value_pence if c.standalone_value_pence is not None
                     else c.value_pence) - c.value_pence for c in mine)
    assert saved > 0
    savings = page.get_by_role("region", name="Savings")
    assert savings.get_by_text(format_gbp(from_pence(saved)), exact=False).is_visible()
    # The dashboard lists the new contract (in its panel, and as an action at the top);
    # the list filters to those awaiting acceptance.
    assert page.get_by_text(f"{tender_ref}-L1-C01", exact=True).is_visible()
    assert page.get_by_role("link", name=f"Accept contract {tender_ref}-L1-C01").is_visible()
    page.goto(f"{base}/contracts?status=issued")
    assert_accessible(page)
    page.get_by_role("link", name=f"{tender_ref}-L1-C01").click()
    assert_accessible(page)
    page.get_by_role("button", name=f"Accept contract {tender_ref}-L1-C01").click()
    # Issue 13: a confirmation step (with the purchase-order number), then a receipt.
    page.get_by_role("button", name=f"Confirm and accept {tender_ref}-L1-C01").click()
    page.get_by_text(f"You accepted contract {tender_ref}-L1-C01").wait_for()
    assert page.get_by_text("Accepted by Chloe Camden").is_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    sha = page.locator("#pdf-sha256").inner_text().strip()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download the contract PDF for {tender_ref}-L1-C01").click()
    content = download_info.value.path().read_bytes()
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == sha

    # Commissioning a catalogue offer directly: the price, then a contract.
    with Session(live_server.app.state.engine) as session:
        offer = session.exec(
            select(Offer).join(Category, col(Category.id) == Offer.category_id)
            .where(Offer.status == "published", Category.code == "conservation",
                   col(Offer.valid_until).is_(None) | (col(Offer.valid_until) > clock.today()
                                                         + timedelta(days=60)))
            .order_by(col(Offer.id))
        ).first()
        assert offer is not None
        offer_id = offer.id
    start = clock.today() + timedelta(days=14)
    page.goto(f"{base}/catalogue/offers/{offer_id}/commission")
    assert_accessible(page)
    page.get_by_label(re.compile("^Quantity")).fill("2")
    page.get_by_label("Service start date").fill(start.isoformat())
    page.get_by_label("Service end date").fill((start + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Check the price").click()
    page.get_by_role("heading", name=re.compile("^Price for 2 ")).wait_for()
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_role("button", name="Commission", exact=True).click()
    page.wait_for_url(re.compile(r"/contracts/\d+$"))
    assert page.get_by_role("heading", name=re.compile(r"^LAP-DC-\d{4}-\d{4}")).is_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, base, "thames@lap.example")
    page.goto(f"{base}/contracts")
    page.get_by_role("link", name=f"{tender_ref}-L1-C01").click()
    page.get_by_role("button", name=f"Accept contract {tender_ref}-L1-C01").click()
    page.get_by_role("button", name=f"Confirm and accept {tender_ref}-L1-C01").click()
    page.get_by_text("the contract is now active").wait_for()
    assert page.get_by_text("Accepted by Tariq Thames").is_visible()
    assert_accessible(page)
    page.goto(f"{base}/contracts")
    assert_fits_a_phone(page)
