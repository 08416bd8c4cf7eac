"""Contract PDFs: a sandboxed WeasyPrint render of templates/contracts/pdf/.

The renderer reads only files inside its own template folder (and ``data:`` URLs);
anything else — the network, ``file://`` elsewhere — is refused, and every piece of user
text is autoescaped, so markup in a specification prints as text.
"""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from lap_market.clock import as_utc
from lap_market.db import REPO_ROOT
from lap_market.money import format_gbp

PDF_DIR = (REPO_ROOT / "templates" / "contracts" / "pdf").resolve()


class RefusedFetch(ValueError):
    """A URL the contract renderer will not fetch."""


class SandboxFetcher(URLFetcher):
    """Serves ``data:`` URLs and files inside the PDF template folder; refuses the rest."""

    def __init__(self, root: Path = PDF_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return super().fetch(path.as_uri(), headers)
        self.refused.append(url)
        raise RefusedFetch(f"contract renderer refuses to fetch {url!r}")


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return as_utc(value).strftime("%-d %B %Y at %H:%M UTC")
    return value.strftime("%-d %B %Y")


def _quantity(value: Decimal | int) -> str:
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PDF_DIR)), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["gbp"] = format_gbp
    env.filters["longdate"] = _date
    env.filters["qty"] = _quantity
    return env


@lru_cache(maxsize=1)
def _fonts() -> FontConfiguration:
    return FontConfiguration()


@lru_cache(maxsize=1)
def _stylesheet() -> CSS:
    # Parsed once per process: the stylesheet is ours and never changes at run time.
    return CSS(filename=str(PDF_DIR / "style.css"), url_fetcher=SandboxFetcher(),
               font_config=_fonts())


def render_html(context: dict[str, Any]) -> str:
    """The contract as HTML, user text escaped."""
    return _environment().get_template("template.html").render(**context)


def html_to_pdf(html: str, *, fetcher: SandboxFetcher | None = None) -> bytes:
    """Render HTML to PDF bytes with the sandboxed fetcher and the contract stylesheet."""
    document = HTML(
        string=html, base_url=PDF_DIR.as_uri() + "/", url_fetcher=fetcher or SandboxFetcher()
    )
    pdf: bytes = document.write_pdf(stylesheets=[_stylesheet()], font_config=_fonts())
    return pdf


def render_contract_pdf(context: dict[str, Any]) -> bytes:
    """The contract PDF for a plain-dict ``context`` (see ``service.document_context``)."""
    return html_to_pdf(render_html(context))


def sha256_hex(content: bytes) -> str:
    """Hex SHA-256 of a document, as stored on the contract record."""
    return hashlib.sha256(content).hexdigest()
