"""The savings dashboard page and its CSV download."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from lap_market.accounts.deps import WebUser
from lap_market.accounts.models import Organisation
from lap_market.db import SessionDep
from lap_market.errors import Invalid
from lap_market.primitives import Line, form_date
from lap_market.reports import income, policy, service
from lap_market.reports.api import csv_response, income_csv_response
from lap_market.reports.charts import income_chart, savings_chart
from lap_market.reports.schemas import GroupBy
from lap_market.templating import render
from lap_market.web.deps import web_router

router = web_router()

GROUP_LABELS = {GroupBy.BOROUGH: "By borough", GroupBy.CATEGORY: "By category",
                GroupBy.PROVIDER: "By provider"}
DATE_LABELS = {"from": "Issued from", "to": "Issued to"}

FromQuery = Annotated[Line, Query(alias="from", max_length=20)]
ToQuery = Annotated[Line, Query(alias="to", max_length=20)]
GroupQuery = Annotated[Line, Query(max_length=20)]
Parsed = tuple[date | None, date | None, dict[str, str]]


@dataclass
class DateFilter:
    """A report's contract dates as typed (``?from=…&to=…``), kept to show in the form."""

    from_text: FromQuery = ""
    to_text: ToQuery = ""


@dataclass
class SavingsFilter(DateFilter):
    """The savings report's query: its dates and the grouping."""

    group_by: GroupQuery = "borough"


async def _dates_typed(from_text: FromQuery = "", to_text: ToQuery = "") -> DateFilter:
    return DateFilter(from_text, to_text)


async def _savings_typed(
    group_by: GroupQuery = "borough", from_text: FromQuery = "", to_text: ToQuery = ""
) -> SavingsFilter:
    return SavingsFilter(from_text, to_text, group_by)


# Async, as they touch no database: FastAPI runs a class dependency in a worker thread.
Dates = Annotated[DateFilter, Depends(_dates_typed)]
SavingsQuery = Annotated[SavingsFilter, Depends(_savings_typed)]


def _parse_date(value: str, name: str, errors: dict[str, str]) -> date | None:
    """An optional report date filter; a bad one is named by its label."""
    invalid = f"{DATE_LABELS[name]} must be a real date from 2000 to 2100, for example 2026-04-01"
    return form_date(value.strip(), name, errors, invalid=invalid, missing=None)


def _dates(from_text: str, to_text: str) -> Parsed:
    """The report's date filters, and what is wrong with them by field."""
    errors: dict[str, str] = {}
    from_date = _parse_date(from_text, "from", errors)
    to_date = _parse_date(to_text, "to", errors)
    return from_date, to_date, errors


def _or_refused(parsed: Parsed) -> tuple[date | None, date | None]:
    """A download's dates, or the first bad one refused by name (there is no form to show)."""
    from_date, to_date, errors = parsed
    if errors:
        field, message = next(iter(errors.items()))
        raise Invalid(message, field=field)
    return from_date, to_date


def _query(group_by: str, from_text: str, to_text: str) -> str:
    params = {"group_by": group_by, "from": from_text.strip(), "to": to_text.strip()}
    return urlencode({k: v for k, v in params.items() if v})


@router.get("/savings", response_class=HTMLResponse)
def savings_page(
    request: Request, session: SessionDep, user: WebUser, query: SavingsQuery
) -> Response:
    """The savings dashboard: headline figures, a chart and table per grouping, CSV link."""
    group_by, from_text, to_text = query.group_by, query.from_text, query.to_text
    scope = policy.report_scope(user)
    grouping = service.parse_group_by(group_by)
    from_date, to_date, errors = _dates(from_text, to_text)
    if not errors and (problem := service.range_problem(from_date, to_date)):
        errors[problem.field or "to"] = problem.detail
    report = None if errors else service.savings_report(
        session, user, group_by=grouping, from_date=from_date, to_date=to_date
    )
    organisation = session.get(Organisation, user.organisation_id)
    context: dict[str, Any] = {
        "report": report,
        "chart": savings_chart(report) if report and report.rows else None,
        "errors": errors,
        "date_labels": DATE_LABELS,
        "group_by": grouping.value,
        "from_text": from_text.strip(),
        "to_text": to_text.strip(),
        "groupings": [
            (g.value, label, "/savings?" + _query(g.value, from_text, to_text))
            for g, label in GROUP_LABELS.items()
        ],
        "csv_url": "/savings.csv?" + _query(grouping.value, from_text, to_text),
        "csv_name": f"savings-by-{grouping.value}.csv",
        "scope": scope.value,
        "organisation": organisation,
        "noun": grouping.value,
    }
    return render(
        request, "reports/pages/savings.html", context, block="results",
        status_code=422 if errors else 200,
    )


@router.get("/savings.csv")
def savings_csv(session: SessionDep, user: WebUser, query: SavingsQuery) -> Response:
    """The savings report as a CSV download, for the signed-in user's view."""
    from_date, to_date = _or_refused(_dates(query.from_text, query.to_text))
    report = service.savings_report(
        session, user, group_by=query.group_by, from_date=from_date, to_date=to_date
    )
    return csv_response(report)


def _income_dates(from_text: str, to_text: str) -> Parsed:
    errors: dict[str, str] = {}
    from_date = _parse_date(from_text, "from", errors)
    to_date = _parse_date(to_text, "to", errors)
    if not errors and from_date and to_date and to_date < from_date:
        errors["to"] = "Issued to must be the same as or after Issued from"
    return from_date, to_date, errors


@router.get("/income", response_class=HTMLResponse)
def income_page(request: Request, session: SessionDep, user: WebUser, typed: Dates) -> Response:
    """Income from selling to other members, spend and net position per borough."""
    from_text, to_text = typed.from_text, typed.to_text
    scope = income.income_scope(user)
    from_date, to_date, errors = _income_dates(from_text, to_text)
    report = None if errors else income.income_report(
        session, user, from_date=from_date, to_date=to_date
    )
    query = _query("borough", from_text, to_text)
    context: dict[str, Any] = {
        "report": report, "errors": errors, "date_labels": DATE_LABELS, "scope": scope.value,
        "chart": income_chart(report) if report and report.rows else None,
        "from_text": from_text.strip(), "to_text": to_text.strip(),
        "csv_url": "/income.csv?" + query, "csv_name": "income-by-borough.csv",
        "organisation": session.get(Organisation, user.organisation_id),
    }
    return render(request, "reports/pages/income.html", context, block="results",
                  status_code=422 if errors else 200)


@router.get("/income.csv")
def income_csv(session: SessionDep, user: WebUser, query: Dates) -> Response:
    """The income report as a CSV download, for the signed-in user's view."""
    from_date, to_date = _or_refused(_income_dates(query.from_text, query.to_text))
    return income_csv_response(
        income.income_report(session, user, from_date=from_date, to_date=to_date)
    )
