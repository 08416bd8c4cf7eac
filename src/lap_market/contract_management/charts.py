"""The payments chart: the share of invoices paid within 30 days, per borough or provider."""

from decimal import Decimal

from markupsafe import Markup

from lap_market.contract_management.schemas import PaymentsReport
from lap_market.reports.charts import BarGroup, Series, horizontal_bar_chart

ON_TIME = Series("Paid within 30 days (%)", "lap-chart__bar--contracted")


def _percent(value: Decimal) -> str:
    return f"{value:.1f}%"


def payments_chart(report: PaymentsReport) -> Markup:
    noun = report.group_by
    groups = [
        BarGroup(row.name, (row.paid_within_30_days_pct or Decimal(0),)) for row in report.rows
    ]
    return horizontal_bar_chart(
        chart_id=f"payments-chart-{noun}",
        title=f"Invoices paid within 30 days by {noun}",
        description=(
            f"Horizontal bar chart: for each {noun}, the percentage of its paid "
            "invoices that were paid within 30 days of receipt. The table that follows "
            "gives the same figures with the average days to pay and what is overdue."
        ),
        series=[ON_TIME],
        groups=groups,
        format_value=_percent,
    )
