"""The savings panel on the role dashboards."""

from sqlmodel import Session

from lap_market.accounts.models import Role, User
from lap_market.money import format_gbp
from lap_market.reports import service
from lap_market.reports.schemas import GroupBy
from lap_market.web.dashboard import Panel, PanelRow

ROLES = (Role.PROCUREMENT_OFFICER, Role.BOROUGH_MANAGER, Role.PROVIDER)


def panel(session: Session, user: User) -> Panel | None:
    """Officers: the partnership's saving to date; a borough: its saving; a provider: the
    value of its contracts."""
    if user.role not in ROLES:
        return None
    report = service.savings_report(session, user, group_by=GroupBy.BOROUGH)
    totals = report.totals
    rows = [PanelRow("Contracts", str(totals.contracts))]
    rows.append(PanelRow("Contracted value", format_gbp(totals.contracted_value)))
    if report.savings_visible:
        pct = f" ({totals.saving_pct}%)" if totals.saving_pct is not None else ""
        label = "Partnership saving to date" if user.role == Role.PROCUREMENT_OFFICER else (
            "Our saving to date"
        )
        loss = totals.saving is not None and totals.saving < 0
        words = " – cost more than buying alone" if loss else ""
        rows.append(PanelRow(label, format_gbp(totals.saving) + pct + words, loss=loss))
    return Panel(
        title="Savings" if report.savings_visible else "Contract value",
        rows=rows,
        links=[("See the savings report", "/savings")],
    )
