"""Contract management's scheduled work: renewal reminders before a contract ends."""

from datetime import timedelta

from sqlmodel import Session, col, func, select

from lap_market import jobs
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.contract_management import notices, policy
from lap_market.contracts.models import Contract, ContractStatus

RENEWAL_ROUTES = (
    "a call-off from a framework, a new demand round, or direct commissioning from the catalogue"
)


# Daily is enough: the reminders are about days, and each goes once (ContractNotice's key).
@jobs.periodic("contract_management.renewal_reminders", every=timedelta(hours=1))
def renewal_reminders(session: Session, _settings: Settings) -> None:
    """Tell the borough 90 and 30 days before a live contract ends, naming the routes to
    renew; a contract already past a threshold when this first runs gets that one only."""
    today = clock.today()
    horizon = today + timedelta(days=max(policy.RENEWAL_NOTICE_DAYS))
    end = func.coalesce(col(Contract.current_end_date), col(Contract.end_date))
    due = session.exec(
        select(Contract)
        .where(
            col(Contract.status).in_((ContractStatus.ISSUED, ContractStatus.ACTIVE)),
            end >= today,
            end <= horizon,
        )
        .order_by(col(Contract.id))
    ).all()
    for contract in due:
        remind(session, contract)


def remind(session: Session, contract: Contract) -> None:
    left = (policy.end_date(contract) - clock.today()).days
    days = min((d for d in policy.RENEWAL_NOTICE_DAYS if left <= d), default=None)
    if days is None or not notices.once(session, contract, f"renewal.{days}"):
        return
    notices.tell(
        session,
        contract,
        kind="contract.renewal_due",
        message=f"{contract.reference} ends on {policy.end_date(contract):%d %B %Y}, in "
        f"{left} days. To keep the service, renew through {RENEWAL_ROUTES}.",
    )
