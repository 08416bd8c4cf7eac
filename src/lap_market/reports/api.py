"""JSON (and CSV) routes for the savings report."""

from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import Response

from lap_market.accounts.deps import CurrentUser, api_router
from lap_market.db import SessionDep
from lap_market.errors import Invalid
from lap_market.primitives import BusinessDate
from lap_market.reports import income, service
from lap_market.reports.schemas import GroupBy, IncomeReport, SavingsReport

router = api_router("reports")

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# A report route's 200 answer in the OpenAPI document: JSON by default, CSV on request.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}
}

# The query parameters every report takes: issued between two dates, JSON or CSV.
FromDate = Annotated[
    BusinessDate | None, Query(alias="from", description="issued on or after (YYYY-MM-DD)")
]
ToDate = Annotated[
    BusinessDate | None, Query(alias="to", description="issued on or before (YYYY-MM-DD)")
]
Accept = Annotated[str | None, Header()]


def wants_csv(accept: str | None) -> bool:
    """Whether an Accept header prefers ``text/csv`` to JSON (ties go to CSV, as it was asked
    for by name)."""
    if not accept:
        return False
    csv_q = json_q = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == "text/csv":
            csv_q = max(csv_q, q)
        elif media in ("application/json", "application/*", "*/*"):
            json_q = max(json_q, q)
    return csv_q > 0 and csv_q >= json_q


def csv_download(body: str, filename: str) -> Response:
    """A CSV body as a download named ``filename``."""
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_response(report: SavingsReport) -> Response:
    """The report as a CSV download."""
    return csv_download(service.savings_csv(report), service.csv_filename(report))


@router.get(
    "/reports/savings",
    response_model=SavingsReport,
    responses=CSV_RESPONSE,
)
def savings(
    session: SessionDep,
    user: CurrentUser,
    group_by: Annotated[
        str,
        Query(
            description="borough, category or provider",
            json_schema_extra={"enum": [g.value for g in GroupBy]},
        ),
    ] = "borough",
    from_date: FromDate = None,
    to_date: ToDate = None,
    accept: Accept = None,
) -> Response | SavingsReport:
    """Savings from buying together: contracted against standalone value, with totals.

    Officers see every contract, a borough manager its own borough's, a provider its own
    contracts' values without the savings (saving fields null). Send `Accept: text/csv` for
    a CSV download.
    """
    report = service.savings_report(
        session, user, group_by=group_by, from_date=from_date, to_date=to_date
    )
    if wants_csv(accept):
        return csv_response(report)
    return report


def income_csv_response(report: IncomeReport) -> Response:
    """The income report as a CSV download."""
    return csv_download(income.income_csv(report), "income-by-borough.csv")


@router.get(
    "/reports/income",
    response_model=IncomeReport,
    responses={200: {"content": {"text/csv": {}},
                     "description": "JSON, or CSV with format=csv or Accept: text/csv"}},
)
def income_report(
    session: SessionDep,
    user: CurrentUser,
    group_by: Annotated[
        str, Query(description="borough", json_schema_extra={"enum": ["borough"]})
    ] = "borough",
    format: Annotated[  # noqa: A002 - the published query parameter's name
        str, Query(description="json or csv", json_schema_extra={"enum": ["json", "csv"]})
    ] = "json",
    from_date: FromDate = None,
    to_date: ToDate = None,
    accept: Accept = None,
) -> Response | IncomeReport:
    """Each borough's income from selling to other members, its spend, and its net position.

    Officers see every borough, a borough manager its own. `format=csv` (or `Accept:
    text/csv`) answers a CSV download.
    """
    if format not in ("json", "csv"):
        raise Invalid("format must be json or csv.", field="format")
    report = income.income_report(
        session, user, group_by=group_by, from_date=from_date, to_date=to_date
    )
    if format == "csv" or wants_csv(accept):
        return income_csv_response(report)
    return report
