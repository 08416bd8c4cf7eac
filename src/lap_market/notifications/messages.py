"""Messages rendered from templates: a subject, a plain-text part and an HTML part, each
with a link to the page where the person acts.

Each kind has ``templates/notifications/email/<kind>.jinja`` with the blocks ``subject``,
``text`` and ``html``. Subject and text are rendered without HTML escaping, the HTML part
with it, so one template cannot produce a half-escaped plain-text message.
"""

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from lap_market.clock import as_utc
from lap_market.config import get_settings
from lap_market.db import REPO_ROOT
from lap_market.tenders.workdays import LONDON

_LOADER = FileSystemLoader(str(REPO_ROOT / "templates"))
_plain = Environment(loader=_LOADER, autoescape=False, undefined=StrictUndefined,  # noqa: S701 - plain text, never HTML
                     keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
_html = Environment(loader=_LOADER, autoescape=True, undefined=StrictUndefined,
                    trim_blocks=True, lstrip_blocks=True)
PREFERENCES_PATH = "/account/notifications"


def london_time(moment: Any) -> str:
    """``Tue 1 Dec 2026, 14:05 (London time)``: people read deadlines in local time."""
    return as_utc(moment).astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M (London time)")


for _env in (_plain, _html):
    _env.filters["london"] = london_time
    _env.filters["day"] = lambda d: d.strftime("%-d %b %Y")


@dataclass(frozen=True)
class Rendered:
    kind: str
    subject: str
    text: str
    html: str
    link_path: str


def public_url(path: str) -> str:
    """The absolute address of ``path`` (``LAP_PUBLIC_URL``, or the local default)."""
    base = str(getattr(get_settings(), "public_url", "") or "http://localhost:8000")
    return base.rstrip("/") + path


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def render(kind: str, link_path: str, **context: Any) -> Rendered:
    """The message of ``kind`` about ``context``, linking to ``link_path``."""
    name = f"notifications/email/{kind}.jinja"
    ctx = {**context, "link": public_url(link_path),
           "preferences_link": public_url(PREFERENCES_PATH)}
    subject = " ".join(_block(_plain.get_template(name), "subject", ctx).split())
    body = _block(_plain.get_template(name), "text", ctx)
    text = (f"{body}\n\nOpen it in LAP Market: {ctx['link']}\n\n--\nChoose which emails you get: "
            f"{ctx['preferences_link']}\n")
    inner = _block(_html.get_template(name), "html", ctx)
    html = _html.get_template("notifications/email/layout.html").render(
        subject=subject, body=Markup(inner), **ctx  # noqa: S704 - rendered with autoescape
    )
    return Rendered(kind=kind, subject=subject, text=text, html=html, link_path=link_path)
