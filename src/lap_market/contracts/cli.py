"""``lap-market issue-call-offs TENDER LOT``: issue a lot's call-offs with a progress bar."""

from typing import Any

import click
from sqlmodel import Session, col, select

from lap_market.accounts.models import Role, User
from lap_market.contracts import call_offs, callofs_batch
from lap_market.errors import DomainError
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
    """Issue and commit; returns the exit code (0 done, 1 refused or failed)."""
    tender, lot = _find(session, tender_key, lot_number)
    officer = _officer(session, email)
    try:
        call_offs.check_call_offs(session, officer, tender_id=tender.id, lot_id=lot.id)  # type: ignore[arg-type]
    except DomainError as exc:
        click.echo(f"Refused: {exc.detail}", err=True)
        return 1
    pending = call_offs.pending_call_offs(session, lot.id)  # type: ignore[arg-type]
    bar: Any = click.progressbar(
        length=max(pending, 1), label=f"{tender.reference} lot {lot.number}", show_pos=True,
        file=click.get_text_stream("stderr"),  # type: ignore[operator]
    )
    shown = [0]
    interactive = bool(getattr(bar, "_is_atty", False))

    def progress(done: int, total: int) -> None:
        bar.update(done - shown[0])
        shown[0] = done
        if not interactive and done:
            click.echo(f"  {done} of {total} contracts rendered", err=True)

    tracker = callofs_batch.BatchTracker(
        callofs_batch.engine_of(session), lot_id=lot.id,  # type: ignore[arg-type]
        started_by_id=officer.id, total=pending,  # type: ignore[arg-type]
    )

    def both(done: int, total: int) -> None:
        tracker(done, total)
        progress(done, total)

    try:
        with bar:
            result = call_offs.issue_call_offs(
                session, officer, tender_id=tender.id, lot_id=lot.id, progress=both  # type: ignore[arg-type]
            )
        session.commit()
    except Exception as exc:
        session.rollback()
        message = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        tracker.finish(callofs_batch.FAILED, message)
        click.echo(f"Nothing was issued: {message}", err=True)
        return 1
    tracker.finish(callofs_batch.DONE)
    click.echo(f"Issued {len(result.issued)} call-off contracts for {tender.reference} lot "
               f"{lot.number} ({len(result.contracts)} in all).")
    for contract in result.issued:
        click.echo(f"  {contract.reference}  {contract.pdf_sha256}")
    return 0
