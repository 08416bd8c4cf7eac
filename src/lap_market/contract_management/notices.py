"""Telling the parties and officers what happened to a contract after signature."""

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from lap_market.accounts.models import Organisation, OrgKind, Role
from lap_market.clock import clock
from lap_market.contract_management.models import ContractNotice
from lap_market.contracts.models import Contract
from lap_market.modeling import pk
from lap_market.notifications import recipients as who
from lap_market.notifications.dispatch import send
from lap_market.notifications.kinds import Kind
from lap_market.notifications.messages import render
from lap_market.tenders.notifications import notify

# The subject line of each kind of message (the in-app kind names the event).
HEADLINES = {
    "invoice.submitted": "invoice received",
    "invoice.approved": "invoice approved",
    "invoice.disputed": "invoice disputed",
    "invoice.paid": "invoice paid",
    "contract.spend_80": "invoices at 80% of its value",
    "contract.spend_100": "invoices at 100% of its value",
    "contract.change_proposed": "change proposed",
    "contract.changed": "change in effect",
    "contract.change_rejected": "change rejected",
    "contract.terminated": "terminated",
    "contract.renewal_due": "renewal due",
}


def partnership_id(session: Session) -> int | None:
    """The partnership's organisation, where procurement officers belong."""
    return session.exec(
        select(Organisation.id).where(Organisation.kind == OrgKind.PARTNERSHIP)
    ).first()


def tell(
    session: Session,
    contract: Contract,
    *,
    kind: str,
    message: str,
    buyer: bool = True,
    supplier: bool = False,
    officers: bool = False,
) -> None:
    """An in-app notification to each named party of ``contract``, and an email to its people
    (messages about a person's own contracts cannot be turned off)."""
    organisation_ids: list[int | None] = []
    if buyer:
        organisation_ids.append(contract.buyer_id)
    if supplier:
        organisation_ids.append(contract.supplier_id)
    if officers:
        organisation_ids.append(partnership_id(session))
    notify(
        session,
        _present(organisation_ids),
        tender_id=contract.tender_id,
        kind=kind,
        message=message,
    )
    people = []
    if buyer:
        people += who.people(session, {contract.buyer_id}, Role.BOROUGH_MANAGER)
    if supplier:
        people += who.people(session, {contract.supplier_id}, Role.PROVIDER)
    if officers:
        people += who.officers(session)
    headline = HEADLINES.get(kind, kind.split(".")[-1].replace("_", " "))
    send(
        session,
        render(
            Kind.CONTRACT_UPDATE,
            f"/contracts/{contract.id}",
            reference=contract.reference,
            headline=headline,
            message=message,
        ),
        people,
    )


def once(session: Session, contract: Contract, kind: str) -> bool:
    """Claim the once-only notice ``kind`` for the contract: True for the first caller only."""
    try:
        with session.begin_nested():
            session.add(
                ContractNotice(contract_id=pk(contract), kind=kind, sent_at=clock.now())
            )
    except IntegrityError:
        return False
    return True


def _present(ids: Iterable[int | None]) -> list[int]:
    return [i for i in ids if i is not None]
