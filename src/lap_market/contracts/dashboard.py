"""The contracts panel on each role's dashboard."""

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.contracts import call_offs, policy, service
from lap_market.money import format_gbp, from_pence
from lap_market.web.dashboard import Panel, PanelRow

MAX_LISTED = 5


def panel(session: Session, user: User) -> Panel | None:
    """Borough and provider: contracts awaiting acceptance, active, value; officer: counts."""
    if not policy.can_list(user):
        return None
    summary = service.summarise(session, user)
    rows: list[PanelRow] = []
    if policy.can_issue_call_offs(user):
        ready = [item for item in call_offs.lots_awaiting_call_offs(session, user) if item.ready]
        rows.append(PanelRow("Lots ready for call-offs", str(len(ready)), "/contracts"))
        rows.append(PanelRow("Contracts issued", str(summary.count), "/contracts"))
        rows.append(PanelRow("Awaiting acceptance", str(summary.awaiting_acceptance),
                             "/contracts?status=issued"))
    else:
        rows.append(PanelRow("Awaiting your acceptance", str(summary.awaiting_us),
                             "/contracts?status=issued"))
        for contract in summary.to_accept[:MAX_LISTED]:
            rows.append(PanelRow(
                contract.reference,
                f"{format_gbp(from_pence(contract.value_pence))} ex VAT, awaiting your acceptance",
                f"/contracts/{contract.id}",
            ))
        rows.append(PanelRow("Awaiting the other party", str(
            summary.awaiting_acceptance - summary.awaiting_us)))
    rows.append(PanelRow("Active", str(summary.active), "/contracts?status=active"))
    rows.append(PanelRow("Total value ex VAT", format_gbp(summary.total_value)))
    return Panel(title="Contracts", rows=rows, links=[("All contracts", "/contracts")])
