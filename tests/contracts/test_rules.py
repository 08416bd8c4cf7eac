"""Pure rules (no database): references, pricing, the sandboxed PDF renderer."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lap_market.contracts import pdf
from lap_market.contracts.call_offs import call_off_reference
from lap_market.contracts.direct import direct_reference
from lap_market.contracts.service import price
from tests.contracts.helpers import flat, pdf_pages


def test_references() -> None:
    assert call_off_reference("LAP-2026-0007", 2, 3) == "LAP-2026-0007-L2-C03"
    assert call_off_reference("LAP-2026-0007", 1, 33) == "LAP-2026-0007-L1-C33"
    assert direct_reference(2026, 12) == "LAP-DC-2026-0012"


def test_price_rounds_once_half_up() -> None:
    # 3 × 0.35 × 200 / 365 = 0.57534… → 0.58; VAT 0.116 → 0.12.
    priced = price(Decimal("3"), 35, per_year=True, days=200)
    assert (priced.value_pence, priced.vat_pence, priced.total_pence) == (58, 12, 70)
    # 2.5 hours at 40.10: 100.25; VAT 20.05.
    priced = price(Decimal("2.5"), 4010, per_year=False, days=10)
    assert (priced.value_pence, priced.vat_pence, priced.total_pence) == (10025, 2005, 12030)
    # VAT half-up: 0.125 → 0.13.
    assert price(Decimal("1"), 63, per_year=False, days=1).vat_pence == 13


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counting.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_renderer_fetches_nothing_outside_its_folder(local_server: str) -> None:
    fetcher = pdf.SandboxFetcher()
    html = f"""<html><head>
      <link rel="stylesheet" href="{local_server}/evil.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="../../base.html">
      <style>@import url("{local_server}/import.css");</style>
      </head><body><p>Hello</p><img src="{local_server}/pixel.png" alt="">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""></body></html>"""
    content = pdf.html_to_pdf(html, fetcher=fetcher)
    assert content.startswith(b"%PDF")
    assert _Counting.hits == []
    refused = set(fetcher.refused)
    assert f"{local_server}/evil.css" in refused and "file:///etc/passwd" in refused
    assert f"{local_server}/pixel.png" in refused
    assert any(url.endswith("/templates/base.html") for url in refused)
    assert "root:" not in flat(" ".join(pdf_pages(content)))
    # Its own stylesheet is served.
    own = fetcher.fetch((pdf.PDF_DIR / "style.css").as_uri())
    assert b"@page" in own.read()
    own.close()


def _context(specification: str) -> dict[str, object]:
    return {
        "reference": "LAP-2026-0007-L2-C03", "kind": "call_off",
        "kind_label": "Call-off contract", "issued_at": datetime(2026, 11, 16, 9, tzinfo=UTC),
        "status": "issued", "buyer": {"name": "Camden", "gss_code": "E09000007"},
        "supplier": {"name": "Thames <Records> Ltd", "description": "Contractor"},
        "derivation": {"type": "tender", "tender_reference": "LAP-2026-0007",
                       "tender_title": "Joint storage", "lot_number": 2, "lot_title": "Storage",
                       "award_id": 4, "awarded_at": datetime(2026, 11, 2, tzinfo=UTC),
                       "standstill_ends": date(2026, 11, 12)},
        "service": "Archive storage", "specification": specification,
        "category": {"name": "Archive storage", "code": "storage", "cpv_code": "63121100-4",
                     "cpv_description": "Storage services"},
        "unit": {"name": "linear metre per year", "per_year": True},
        "lines": [{"description": "Archive storage", "quantity": Decimal("120"),
                   "unit": "linear metre per year", "unit_price": Decimal("9.50"),
                   "value": Decimal("1140.00")}],
        "value": Decimal("1140.00"), "vat": Decimal("228.00"), "total": Decimal("1368.00"),
        "vat_rate": "20%", "start_date": date(2027, 1, 1), "end_date": date(2027, 12, 31),
        "term_days": 365, "payment_terms": "30 days from receipt of a valid invoice",
        "acceptances": [
            {"role": "buyer", "party": "Camden", "by": None, "at": None},
            {"role": "supplier", "party": "Thames", "by": "Tariq <script>",
             "at": datetime(2026, 11, 17, 10, 30, tzinfo=UTC)},
        ],
    }


def test_user_text_is_escaped_and_acceptance_blocks_show_who_and_when() -> None:
    spec = '<b>bold?</b> <link rel="stylesheet" href="file:///etc/passwd"> & more'
    html = pdf.render_html(_context(spec))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "<b>bold?</b>" not in html
    assert "Thames &lt;Records&gt; Ltd" in html
    text = flat(" ".join(pdf_pages(pdf.render_contract_pdf(_context(spec)))))
    assert spec in text
    assert "Awaiting acceptance" in text
    assert "Accepted by Tariq <script> on 17 November 2026 at 10:30 GMT" in text


@pytest.mark.skipif(sys.platform != "linux", reason="fonts as on Debian")
def test_long_contract_footer_counts_pages() -> None:
    content = pdf.render_contract_pdf(_context("A long specification line.\n" * 120))
    pages = pdf_pages(content)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in flat(page)
