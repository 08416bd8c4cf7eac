"""Every page the demo data reaches, as each kind of user, read on a 390 px phone.

Each role signs in and follows every link it can see, breadth first, to every page of the
service (one page per kind of address: ``/tenders/3`` and ``/tenders/4`` are the same page
template). On each: nothing is wider than the phone, every table either stacks its rows or
fits, and axe finds nothing serious or critical.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page

from tests.accessibility import assert_accessible
from tests.browser import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ROLES = ("officer@lap.example", "camden@lap.example", "thames@lap.example", "admin@lap.example")
# Pages that are files, API documents or would end the session, not pages to read on a phone.
SKIP = re.compile(r"^/(api/|logout|static/)|\.(csv|pdf|json)$|/pdf$|/export")
MAX_PAGES = 120

# Width of the document beyond the viewport, and each table that neither stacks nor fits.
MEASURE = """() => {
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll('main table')]
    .filter(t => !t.classList.contains('lap-table--stack'))
    .filter(t => t.getBoundingClientRect().right > doc.clientWidth + 1
              || t.scrollWidth > t.parentElement.clientWidth + 1)
    .map(t => (t.querySelector('caption') || t).textContent.trim().slice(0, 60));
  return {overflow: doc.scrollWidth - doc.clientWidth, tables};
}"""


def pattern(path: str) -> str:
    """The kind of page an address is: its numbers and references taken out."""
    return re.sub(r"/(\d+|LAP-[\w-]+|[0-9a-f]{16,})(?=/|$)", "/{id}", path)


def links(page: Page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        url = urlsplit(urljoin(page.url, href))
        if f"{url.scheme}://{url.netloc}" == base and not SKIP.search(url.path):
            found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def crawl(page: Page, base: str) -> list[str]:
    """Visit each kind of page once; the problems found, one line each."""
    seen, problems = {pattern("/dashboard")}, []
    queue: deque[str] = deque(["/dashboard"])
    visited = 0
    while queue and visited < MAX_PAGES:
        path = queue.popleft()
        response = page.goto(base + path)
        visited += 1
        if response is None or response.status >= 400 or "text/html" not in (
            response.headers.get("content-type", "")
        ):
            continue
        measured = page.evaluate(MEASURE)
        if measured["overflow"] > 0:
            problems.append(f"{path}: {measured['overflow']} px wider than a 390 px phone")
        for table in measured["tables"]:
            problems.append(f"{path}: table '{table}' neither stacks nor fits")
        assert_accessible(page)
        for link in links(page, base):
            kind = pattern(urlsplit(link).path)
            if kind not in seen:
                seen.add(kind)
                queue.append(link)
    assert visited > 5, "the crawl reached almost nothing: is the demo data loaded?"
    return problems


@pytest.mark.parametrize("email", ROLES)
def test_every_page_reads_on_a_phone(live_server, browser, email: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, email)
        problems = crawl(page, live_server.url)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
