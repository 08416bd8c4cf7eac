"""Dashboard panels for demand: a borough's own needs, the officer's pipeline."""

from sqlalchemy import distinct
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import Role, User
from lap_market.demand import reads
from lap_market.demand.models import Demand, DemandStatus, submitted
from lap_market.web.dashboard import Panel, PanelRow


def panel(session: Session, user: User) -> Panel | None:
    """Counts by status for a borough manager; submitted lines and boroughs for officers."""
    if user.role == Role.BOROUGH_MANAGER:
        counts = reads.status_counts(session, user)
        return Panel(
            title="Our needs",
            rows=[
                PanelRow(status.value.replace("_", " ").capitalize(),
                         str(counts.get(status.value, 0)), "/needs")
                for status in DemandStatus
            ],
            links=[("Raise a need", "/needs#raise"), ("Upload needs from a CSV file",
                                                       "/needs#upload")],
        )
    if user.role == Role.PROCUREMENT_OFFICER:
        lines, boroughs = session.exec(
            select(func.count(), func.count(distinct(col(Demand.borough_id)))).where(submitted())
        ).one()
        return Panel(
            title="Demand pipeline",
            rows=[
                PanelRow("Submitted demand lines", str(lines), "/pipeline?status=submitted"),
                PanelRow("Boroughs with submitted demand", str(boroughs),
                         "/pipeline?status=submitted"),
            ],
            links=[("See the pipeline", "/pipeline"),
                   ("Preview aggregation", "/pipeline/aggregate")],
        )
    return None
