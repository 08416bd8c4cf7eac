"""Accessibility checks with axe-core, run in the page under test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe

if TYPE_CHECKING:
    from playwright.sync_api import Page

FAILING_IMPACTS = ("serious", "critical")

_axe = Axe()


def assert_accessible(
    page: Page,
    *,
    context: str | None = None,
    options: dict[str, Any] | None = None,
    impacts: tuple[str, ...] = FAILING_IMPACTS,
) -> None:
    """Fail if axe finds any violation of ``impacts`` on the page as it is now.

    ``context`` is a CSS selector to check only part of the page; ``options`` are axe's
    ``run`` options (by default every rule, violations only).
    """
    results = _axe.run(page, context=context, options=options or {"resultTypes": ["violations"]})
    violations = [v for v in results.response["violations"] if v.get("impact") in impacts]
    if violations:
        pytest.fail(_describe(page.url, violations), pytrace=False)


def _describe(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')}"
            f" <{violation.get('helpUrl')}>"
        )
        for node in violation.get("nodes", [])[:10]:
            target = ", ".join(str(part) for part in node.get("target", []))
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary}")
        extra = len(violation.get("nodes", [])) - 10
        if extra > 0:
            lines.append(f"    ... and {extra} more")
    return "\n".join(lines)
