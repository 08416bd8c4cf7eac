"""Messages rendered from templates: a subject, a plain-text part and an HTML part.

Each kind has ``templates/notifications/email/<kind>.jinja`` with the blocks ``subject``,
``text`` and ``html``. Subject and text are rendered without HTML escaping, the HTML part
with it, so one template cannot produce a half-escaped plain-text message. The outbox
(``lap_market.mail.queue_email``) adds the absolute link to the page and the footer with
the link to the recipient's preferences.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from lap_market.clock import as_utc
from lap_market.db import REPO_ROOT
from lap_market.tenders.workdays import LONDON

_LOADER = FileSystemLoader(str(REPO_ROOT / "templates"))
_plain = Environment(loader=_LOADER, autoescape=False, undefined=StrictUndefined,  # noqa: S701 - plain text, never HTML
                     trim_blocks=True, lstrip_blocks=True)
_html = Environment(loader=_LOADER, autoescape=True, undefined=StrictUndefined,
                    trim_blocks=True, lstrip_blocks=True)


def london_time(moment: datetime) -> str:
    """``Tue 1 Dec 2026, 14:05 (London time)``: people read times in their own zone."""
    return as_utc(moment).astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M (London time)")


def _day(value: date) -> str:
    return value.strftime("%-d %b %Y")


for _env in (_plain, _html):
    _env.filters["london"] = london_time
    _env.filters["day"] = _day


@dataclass(frozen=True)
class Rendered:
    kind: str
    subject: str
    text: str
    html: str
    link_path: str


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def render(kind: str, link_path: str, *, template: str | None = None,
           **context: Any) -> Rendered:
    """The message of ``kind`` about ``context``, linking to ``link_path`` (from the kind's
    template unless another is named)."""
    name = f"notifications/email/{template or kind}.jinja"
    subject = " ".join(_block(_plain.get_template(name), "subject", context).split())
    return Rendered(
        kind=kind,
        subject=subject,
        text=_block(_plain.get_template(name), "text", context),
        html=_block(_html.get_template(name), "html", context),
        link_path=link_path,
    )
