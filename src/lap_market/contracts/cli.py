"""``lap-market issue-call-offs TENDER LOT``: issue a lot's call-offs with a progress bar."""

import sys
from collections.abc import Callable
from typing import Any

import click
from sqlmodel import Session, col, select

from lap_market.accounts.models import Role, User
from lap_market.config import get_settings
from lap_market.contracts import call_off_jobs, call_offs
from lap_market.errors import DomainError
from lap_market.modeling import pk
from lap_market.tenders.models import Lot, Tender


def _find(session: Session, tender_key: str, lot_number: int) -> tuple[Tender, Lot]:
    tender = session.exec(select(Tender).where(Tender.reference == tender_key)).first()
    if tender is None and tender_key.isdigit():
        tender = session.get(Tender, int(tender_key))
    if tender is None:
        raise click.ClickException(f"No tender {tender_key!r} (give its reference or id).")
    lot = session.exec(
        select(Lot).where(Lot.tender_id == tender.id, Lot.number == lot_number)
    ).first()
    if lot is None:
        raise click.ClickException(f"Tender {tender.reference} has no lot {lot_number}.")
    return tender, lot


def _officer(session: Session, email: str | None) -> User:
    query = select(User).where(User.role == Role.PROCUREMENT_OFFICER, User.is_active)
    if email:
        query = query.where(User.email == email.strip().lower())
    officer = session.exec(query.order_by(col(User.id))).first()
    if officer is None:
        raise click.ClickException(
            f"No active procurement officer {email}." if email else "No active procurement officer."
        )
    return officer


def issue_call_offs(session: Session, tender_key: str, lot_number: int, email: str | None) -> int:
    """Issue through the same job as the page and the API, showing its progress; returns
    the exit code (0 done, 1 refused or failed)."""
    tender, lot = _find(session, tender_key, lot_number)
    officer = _officer(session, email)
    try:
        call_offs.check_call_offs(session, officer, tender_id=pk(tender), lot_id=pk(lot))
    except DomainError as exc:
        click.echo(f"Refused: {exc.detail}", err=True)
        return 1
    pending = call_offs.pending_call_offs(session, pk(lot))
    bar: Any = click.progressbar(
        length=max(pending, 1), label=f"{tender.reference} lot {lot.number}", show_pos=True,
        file=sys.stderr,
    )
    try:
        with bar:
            outcome = call_off_jobs.issue_now(
                session, call_off_jobs.engine_of(session), get_settings(), officer,
                tender_id=pk(tender), lot_id=pk(lot), progress=_shown_on(bar),
            )
    except Exception as exc:
        message = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        click.echo(f"Nothing was issued: {message}", err=True)
        return 1
    click.echo(f"Issued {outcome.issued} call-off contracts for {tender.reference} lot "
               f"{lot.number} ({len(outcome.contracts)} in all).")
    for contract in outcome.contracts[:outcome.issued]:  # newest first: these are the new ones
        click.echo(f"  {contract.reference}  {contract.pdf_sha256}")
    return 0


def _shown_on(bar: Any) -> Callable[[int, int], None]:
    """Progress drawn on ``bar``, and written out line by line when stderr is not a terminal."""
    shown = [0]
    interactive = bool(getattr(bar, "_is_atty", False))

    def progress(done: int, total: int) -> None:
        bar.update(done - shown[0])
        shown[0] = done
        if not interactive and done:
            click.echo(f"  {done} of {total} contracts rendered", err=True)

    return progress
