"""Every web form's error path answers with the form and its error summary, never a 5xx:
a crawler signs in as each role on the demo data, finds every form on every page it can reach,
and posts empty, NUL-laden, oversized and out-of-range values to each."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from types import SimpleNamespace

from sqlmodel import Session, select

from lap_market.accounts.deps import SESSION_COOKIE
from lap_market.accounts.models import User
from lap_market.demo import load_demo
from lap_market.tenders import questions
from lap_market.tenders.models import Tender, TenderStatus
from lap_market.tenders.schemas import QuestionCreate
from tests.factories import accounts as acc

ROLES = ["officer@lap.example", "camden@lap.example", "thames@lap.example", "admin@lap.example"]
MAX_PAGES = 80  # per role: enough to reach every kind of page the demo data has
SKIP_ACTIONS = ("/logout", "/login")
VARIANTS = {
    "empty": "",
    "nul": "bad\x00value",
    "huge": "99999999999999999999999",
    "far_date": "9999-12-31T23:59",
}
# The forms whose error path used to be a 500 (a missing Jinja test on the workspace).
MUST_REACH = [r"/tenders/\d+/amendments", r"/tenders/\d+/questions/\d+/answer", r"/tenders/\d+/cancel"]


class Forms(HTMLParser):
    """Links and POST forms (action, fields with their values) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._form: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        elif tag == "form" and a.get("method", "").lower() == "post":
            self._form = {}
            self.forms.append((a.get("action", ""), self._form))
        elif tag in ("input", "textarea", "select") and self._form is not None and a.get("name"):
            self._form[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path.split("?")[0])


def _crawl(client, start: list[str]) -> dict[str, tuple[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """One form per action shape (``/tenders/N/cancel``), from pages reachable from the dashboard."""
    seen_pages: set[str] = set()
    seen_shapes: dict[str, int] = {}
    forms: dict[str, tuple[str, dict[str, str]]] = {}
    queue = deque(start)
    while queue and len(seen_pages) < MAX_PAGES:
        path = queue.popleft()
        shape = _shape(path)
        if path in seen_pages or seen_shapes.get(shape, 0) >= 2 or path.endswith((".csv", "/pdf")):
            continue
        seen_pages.add(path)
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = Forms()
        parser.feed(response.text)
        queue.extend(parser.links)
        for action, fields in parser.forms:
            if action.startswith("/") and not action.startswith(SKIP_ACTIONS):
                forms.setdefault(_shape(action), (action, fields))
    return forms


def _post_variants(client, action: str, fields: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Post each bad variant of the form; the problems found (5xx, or 422 without a summary)."""
    problems = []
    for name, junk in VARIANTS.items():
        data = {k: (v if k == "csrf_token" else junk) for k, v in fields.items()}
        try:
            response = client.post(action, data=data, follow_redirects=False)
        except Exception as exc:  # the test client re-raises what the server did not handle
            problems.append(f"{name}: {action} raised {exc!r}")
            continue
        if response.status_code >= 500:
            problems.append(f"{name}: {action} answered {response.status_code}")
        elif response.status_code == 422 and "There is a problem" not in response.text:
            problems.append(f"{name}: {action} answered 422 without an error summary")
    return problems


def test_every_web_form_error_path_renders_without_a_server_error(app, client) -> None:  # type: ignore[no-untyped-def]
    with Session(app.state.engine) as session:
        load_demo(session)
        session.commit()
        users = {u.email: u for u in session.exec(select(User)).all()}
        published = session.exec(select(Tender).where(Tender.status == TenderStatus.PUBLISHED)).first()
        assert published is not None
        # An open question, so the officer's workspace shows its answer form.
        questions.ask_question(
            session, users["thames@lap.example"], published.id, data=QuestionCreate(question="Which site?")
        )
        session.commit()
        published_id = published.id
        user_ids = {email: users[email].id for email in ROLES}
    problems: list[str] = []
    reached: set[str] = set()
    for email in ROLES:
        token = acc.session_token(app, SimpleNamespace(id=user_ids[email]))
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, token)
        forms = _crawl(client, ["/dashboard", f"/tenders/{published_id}", f"/opportunities/{published_id}"])
        for action, fields in forms.values():
            reached.add(action)
            problems += _post_variants(client, action, fields)
    assert not problems, "\n".join(problems)
    for pattern in MUST_REACH:
        assert any(re.fullmatch(pattern, a) for a in reached), (pattern, sorted(reached))
    assert len(reached) >= 15, sorted(reached)


PAGE_QUERIES = [
    ("officer@lap.example", "/catalogue?q=box%00"),
    ("officer@lap.example", "/catalogue?page=99999999999999999999999"),
    ("officer@lap.example", "/catalogue?category=%07&quantity=1e999999"),
    ("officer@lap.example", "/pipeline?category=stor%00age"),
    ("officer@lap.example", "/pipeline?page=99999999999999999999999"),
    ("officer@lap.example", "/pipeline?borough=%1b"),
    ("officer@lap.example", "/audit?action=%00&page=99999999999999999999999"),
    ("officer@lap.example", "/contracts?status=%00"),
    ("officer@lap.example", "/tenders?status=%00"),
    ("officer@lap.example", "/savings?from=0001-01-01&to=9999-12-31"),
    ("officer@lap.example", "/savings?from=%00"),
    ("camden@lap.example", "/needs?page=99999999999999999999999"),
    ("camden@lap.example", "/catalogue/offers/1?quantity=%00&start_date=0001-01-01&end_date=9999-12-31"),
    ("camden@lap.example", "/catalogue/offers/1/commission?quantity=1&start_date=0001-01-01&end_date=9999-12-31"),
    ("officer@lap.example", f"/tenders/{2**64}"),
    ("officer@lap.example", "/contracts/99999999999999999999999/pdf"),
]


def test_page_filters_with_bad_values_never_answer_5xx(app, client, session) -> None:  # type: ignore[no-untyped-def]
    """GET pages whose filters come from the query string (not posted forms)."""
    from tests.factories import catalogue as cf

    people = {"officer@lap.example": acc.officer(session), "camden@lap.example": acc.manager(session)}
    cf.make_offer(session, acc.contractor(session))
    session.commit()
    tokens = {e: acc.session_token(app, u) for e, u in people.items()}
    answers = {}
    for email, url in PAGE_QUERIES:
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, tokens[email])
        answers[url] = client.get(url, follow_redirects=False).status_code
    assert all(status < 500 for status in answers.values()), answers
    assert answers["/catalogue?q=box%00"] == 422 and answers["/pipeline?category=stor%00age"] == 422
    assert answers[f"/tenders/{2**64}"] == 404
