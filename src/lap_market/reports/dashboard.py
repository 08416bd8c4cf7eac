"""The savings panel on the role dashboards."""

from sqlmodel import Session

from lap_market.accounts.models import User
from lap_market.money import format_gbp
from lap_market.reports import policy, service
from lap_market.reports.schemas import GroupBy
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """Officers: the partnership's saving to date; a borough: its saving; a provider: the
    value of its contracts."""
    if not policy.can_read_report(user):
        return None
    report = service.savings_report(session, user, group_by=GroupBy.BOROUGH)
    totals = report.totals
    rows = [PanelRow("Contracts", str(totals.contracts))]
    rows.append(PanelRow("Contracted value", format_gbp(totals.contracted_value)))
    if report.savings_visible:
        pct = f" ({totals.saving_pct}%)" if totals.saving_pct is not None else ""
        label = "Partnership saving to date" if policy.sees_partnership(user) else (
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
