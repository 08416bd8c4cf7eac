"""Through Chromium: the supplier invoices, the borough approves and records payment, and the
spend bar on the contract page moves; a phone-width check on each page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.contracts.acceptance import accept_contract
from tests.accessibility import assert_accessible
from tests.browser import assert_fits_a_phone, sign_in, sign_out
from tests.factories import contracts as cf


def test_invoice_approve_pay_and_the_spend_bar_moves(page, live_server) -> None:
    with Session(live_server.app.state.engine) as session:
        def user(email: str) -> User:
            return session.exec(select(User).where(User.email == email)).one()

        awarded = cf.awarded_lot(
            session, demands=[("E09000012", "400")], unit_price="25.00",
            category="conservation", unit="hour", officer=user("officer@lap.example"),
            provider=user("bankside@lap.example"))
        contract = cf.issued_call_offs(session, awarded)[0]
        accept_contract(session, user("hackney@lap.example"), contract.id)  # type: ignore[arg-type]
        accept_contract(session, awarded.provider, contract.id)  # type: ignore[arg-type]
        session.commit()
        contract_id, reference = contract.id, contract.reference
    clock.set(datetime(2027, 5, 3, 9, 0, tzinfo=UTC))  # £10,000.00: 400 hours at £25.00
    base = live_server.url

    sign_in(page, base, "bankside@lap.example")
    page.goto(f"{base}/contracts/{contract_id}")
    assert page.locator("#spend-meter").get_attribute("value") == "0.0"
    page.get_by_role("link", name=f"Send an invoice on {reference}").click()
    assert_accessible(page)
    page.get_by_role("button", name="Send invoice").click()  # empty: every error at once
    summary = page.locator(".lap-error-summary")
    for label in ("Invoice number", "Period start", "Amount excluding VAT"):
        assert label in summary.inner_text()
    page.get_by_label("Invoice number").fill("BCS-0001")
    page.get_by_label("Invoice date").fill("2027-05-01")
    page.get_by_label("Period start").fill("2027-04-01")
    page.get_by_label("Period end").fill("2027-06-30")
    page.get_by_label("Amount excluding VAT, in pounds").fill("2500.00")
    page.get_by_label("VAT, in pounds", exact=True).fill("500.00")
    page.get_by_role("button", name="Send invoice").click()
    page.wait_for_url(f"{base}/contracts/{contract_id}")
    assert "Invoice sent" in page.locator("#flash").inner_text()
    assert page.locator("#spend-meter").get_attribute("value") == "25.0"
    assert "£2,500.00" in page.locator("#spend-invoiced").inner_text()
    assert_fits_a_phone(page)
    sign_out(page)

    sign_in(page, base, "hackney@lap.example")
    page.goto(f"{base}/invoices?status=submitted")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_role("link", name="BCS-0001").click()
    page.get_by_role("button", name="Approve for payment").click()
    assert "Invoice approved" in page.locator("#flash").inner_text()
    page.get_by_label("Date paid").fill("2027-05-03")
    page.get_by_role("button", name="Record payment").click()
    assert "Payment recorded" in page.locator("#flash").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name=f"Back to {reference}").click()
    assert "£2,500.00" in page.locator("#spend-paid").inner_text()
    assert "£7,500.00" in page.locator("#spend-remaining").inner_text()
    assert_accessible(page)
    page.goto(f"{base}/reports/payments")
    assert "Hackney" in page.locator("#payments-table").inner_text()
    assert_accessible(page)
    assert_fits_a_phone(page)
    clock.reset()
