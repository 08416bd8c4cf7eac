"""Pages for the payments report (a chart and its table) and the CSV downloads."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from lap_market.accounts.deps import web_role
from lap_market.accounts.models import Role, User
from lap_market.contract_management import reports
from lap_market.contract_management.charts import payments_chart
from lap_market.db import SessionDep
from lap_market.errors import Invalid
from lap_market.reports.api import CSV_MEDIA_TYPE
from lap_market.templating import render
from lap_market.web.deps import web_router

router = web_router()
PartyPage = Annotated[
    User, Depends(web_role(Role.BOROUGH_MANAGER, Role.PROVIDER, Role.PROCUREMENT_OFFICER))
]


# --- payments report -------------------------------------------------------------------------


@router.get("/reports/payments", response_class=HTMLResponse)
def payments_page(
    request: Request,
    session: SessionDep,
    user: PartyPage,
    group_by: Annotated[str, Query(max_length=20)] = "borough",
) -> Response:
    """How promptly invoices are paid: a chart and its table, with a CSV download."""
    group_by = group_by if group_by in ("borough", "provider") else "borough"
    report = reports.payments_report(session, user, group_by=group_by)
    return render(
        request,
        "contract_management/pages/payments.html",
        {
            "report": report,
            "group_by": group_by,
            "chart": payments_chart(report) if report.rows else None,
        },
    )


@router.get("/reports/payments.csv")
def payments_csv(
    session: SessionDep,
    user: PartyPage,
    group_by: Annotated[str, Query(max_length=20)] = "borough",
) -> Response:
    if group_by not in ("borough", "provider"):
        raise Invalid("Group by borough or provider.", field="group_by")
    report = reports.payments_report(session, user, group_by=group_by)
    return Response(
        reports.payments_csv(report),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="payments-by-{group_by}.csv"'},
    )


@router.get("/reports/contract-register.csv")
def register_csv(session: SessionDep, user: PartyPage) -> Response:
    """Every contract you may see, as CSV."""
    body = reports.register_csv(reports.register_rows(session, user))
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="contract-register.csv"'},
    )
