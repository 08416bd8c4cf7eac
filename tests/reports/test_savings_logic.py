"""Pure rules of the savings report: percentages, CSV, content negotiation, the SVG chart."""

import csv
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from lap_market.errors import Invalid
from lap_market.reports.api import wants_csv
from lap_market.reports.charts import BarGroup, Series, horizontal_bar_chart, savings_chart
from lap_market.reports.schemas import GroupBy, SavingsFigures, SavingsReport, SavingsRow, Scope
from lap_market.reports.service import parse_group_by, saving_pct, savings_csv

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("saving", "standalone", "expected"),
    [
        (4900, 40000, Decimal("12.3")),  # 12.25 exactly: half-up, not to even
        (1, 8, Decimal("12.5")),
        (29901, 175000, Decimal("17.1")),  # 17.0862…
        (0, 100, Decimal("0.0")),
        (-4900, 40000, Decimal("-12.3")),  # a loss rounds away from zero too
        (100, 0, None),
    ],
)
def test_saving_pct(saving, standalone, expected):
    assert saving_pct(saving, standalone) == expected


def test_parse_group_by():
    assert parse_group_by(None) is GroupBy.BOROUGH
    assert parse_group_by("provider") is GroupBy.PROVIDER
    with pytest.raises(Invalid, match="group_by must be one of") as caught:
        parse_group_by("Borough")
    assert caught.value.field == "group_by"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("application/json", False),
        ("*/*", False),
        ("text/csv", True),
        ("text/csv; charset=utf-8", True),
        ("application/json;q=0.9, text/csv", True),
        ("text/csv;q=0.5, application/json", False),
        ("text/csv;q=0", False),
    ],
)
def test_wants_csv(accept, expected):
    assert wants_csv(accept) is expected


def _figures(**overrides):
    values = {
        "contracts": 1, "contracted_value": Decimal("90.00"),
        "standalone_value": Decimal("100.00"), "saving": Decimal("10.00"),
        "saving_pct": Decimal("10.0"), "no_reference_rate": 0,
    }
    return values | overrides


def _report(rows, savings_visible=True):
    return SavingsReport(
        group_by=GroupBy.PROVIDER, scope=Scope.PARTNERSHIP, savings_visible=savings_visible,
        from_date=None, to_date=None, rows=rows,
        totals=SavingsFigures(**_figures(contracts=len(rows))),
    )


def test_csv_neutralises_formula_text_and_ends_with_totals():
    report = _report([
        SavingsRow(key="=HYPERLINK(\"x\")", name="=HYPERLINK(\"x\")", id=7, **_figures()),
        SavingsRow(key="Plain, Ltd", name="Plain, Ltd", id=8,
                   **_figures(saving=Decimal("-5.00"), saving_pct=Decimal("-5.6"))),
    ])
    rows = list(csv.reader(io.StringIO(savings_csv(report))))
    assert rows[1][:2] == ["'=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"]
    assert rows[2] == ["Plain, Ltd", "Plain, Ltd", "", "1", "90.00", "100.00", "-5.00", "-5.6", "0"]
    assert rows[3] == ["Total", "", "", "2", "90.00", "100.00", "10.00", "10.0", "0"]


def test_bar_chart_scales_bars_and_has_a_text_alternative():
    chart = horizontal_bar_chart(
        chart_id="c1", title="Value <by> borough", description="Same as the table.",
        series=[Series("Contracted", "a"), Series("Standalone", "b")],
        groups=[
            BarGroup("Camden", (Decimal("100"), Decimal("200"))),
            BarGroup("A very long borough name that goes on and on", (Decimal("50"), Decimal(0))),
        ],
    )
    svg = ET.fromstring(str(chart))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Value <by> borough"  # escaped, then parsed back
    assert svg.find(f"{SVG}title").get("id") == "c1-title"
    assert all(el.get("style") is None for el in svg.iter())
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("height") == "16"]
    widths = [Decimal(r.get("width")) for r in bars]
    # The largest value (200) spans the plot (400 - 120 = 280 units); others pro rata. The
    # chart is stacked (labels above bars) since issue 13, so it reads on a phone.
    assert widths == [Decimal(140), Decimal(280), Decimal(70), Decimal(0)]
    assert [r.get("class") for r in bars] == ["lap-chart__bar a", "lap-chart__bar b"] * 2
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Camden" in labels and "£200.00" in labels
    assert "A very long borough name that goes on and on" in labels
    with pytest.raises(ValueError, match="negative"):
        horizontal_bar_chart(chart_id="c2", title="t", description="d", series=[Series("x", "a")],
                             groups=[BarGroup("g", (Decimal(-1),))])


def test_savings_chart_shows_no_standalone_bars_to_providers():
    row = SavingsRow(key="Camden", name="Camden", id=1, **_figures(
        standalone_value=None, saving=None, saving_pct=None, no_reference_rate=None))
    svg = ET.fromstring(str(savings_chart(_report([row], savings_visible=False))))
    classes = {r.get("class") for r in svg.iter(f"{SVG}rect")}
    assert classes == {"lap-chart__bar lap-chart__bar--contracted"}
    assert svg.find(f"{SVG}title").text == "Contracted value by provider"
