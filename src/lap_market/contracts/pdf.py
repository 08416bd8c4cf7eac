"""Contract PDFs: a sandboxed WeasyPrint render of templates/contracts/pdf/.

The renderer reads only files inside its own template folder (and ``data:`` URLs);
anything else — the network, ``file://`` elsewhere — is refused, and every piece of user
text is autoescaped, so markup in a specification prints as text.
"""

import hashlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
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

from lap_market.clock import format_london_long
from lap_market.db import REPO_ROOT
from lap_market.money import format_gbp

PDF_DIR = (REPO_ROOT / "templates" / "contracts" / "pdf").resolve()


class RefusedFetch(ValueError):
    """A URL the contract renderer will not fetch."""


class SandboxFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
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
        return format_london_long(value)
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
    """The contract PDF for a plain-dict ``context`` (see ``documents.document_context``)."""
    return html_to_pdf(render_html(context))


# WeasyPrint reports each rendering step at INFO; a served app logs requests, not those.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Rendering is CPU-bound and WeasyPrint holds the GIL, so a large lot renders in a small
# pool of processes (one per core). Small batches render inline: a worker's first render
# pays for importing WeasyPrint, which only pays off over several documents.
PARALLEL_MIN_DOCUMENTS = 6
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _pool_size() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # forkserver: workers never inherit the threads of a running web server.
            _pool = ProcessPoolExecutor(
                max_workers=_pool_size(), mp_context=multiprocessing.get_context("forkserver"),
                initializer=_warm_worker,
            )
        return _pool


def _warm_worker() -> None:
    _environment()
    _stylesheet()


def warm_pool(*, wait: bool = False) -> None:
    """Start the render workers ahead of the first large batch (a serving app does this at
    start-up, in the background)."""
    if _pool_size() > 1:
        pool = _get_pool()
        futures = [pool.submit(_warm_worker) for _ in range(_pool_size())]
        if wait:
            for future in futures:
                future.result()


def render_many(
    contexts: Sequence[dict[str, Any]], progress: Callable[[int, int], None] | None = None
) -> list[bytes]:
    """Render many contracts, in parallel when worthwhile; the first failure is raised."""
    total = len(contexts)
    if total < PARALLEL_MIN_DOCUMENTS or _pool_size() < 2:
        documents = []
        for done, context in enumerate(contexts, start=1):
            documents.append(render_contract_pdf(context))
            if progress:
                progress(done, total)
        return documents
    pool = _get_pool()
    futures: dict[Future[bytes], int] = {
        pool.submit(render_contract_pdf, context): index for index, context in enumerate(contexts)
    }
    results: list[bytes | None] = [None] * total
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, total)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [r for r in results if r is not None]


def sha256_hex(content: bytes) -> str:
    """Hex SHA-256 of a document, as stored on the contract record."""
    return hashlib.sha256(content).hexdigest()
