"""The app tries the catalogue's routes before the other domains' (``main.ROUTING_ORDER``:
its search is the most requested route). That is only safe while no two domains have a
route for the same method and path: a route earlier in the order would win it."""

from __future__ import annotations

import importlib
import importlib.util
import re
from typing import Any

from starlette.routing import Route

from lap_market.main import DOMAINS, ROUTING_ORDER

PARAMETER = re.compile(r"{(\w+)(?::(\w+))?}")


def _routes_by_domain() -> dict[str, list[Route]]:
    found: dict[str, list[Route]] = {}
    for domain in DOMAINS:
        for face in ("api", "web"):
            name = f"lap_market.{domain}.{face}"
            if importlib.util.find_spec(name) is None:
                continue
            router: Any = importlib.import_module(name).router
            found.setdefault(domain, []).extend(r for r in router.routes if isinstance(r, Route))
    return found


def _sample_path(route: Route) -> str:
    """A concrete path the route answers: every parameter given a value of its type."""
    return PARAMETER.sub(lambda m: "a/b" if m.group(2) == "path" else "1", route.path)


def test_the_routing_order_has_every_domain_once() -> None:
    assert sorted(ROUTING_ORDER) == sorted(DOMAINS)
    assert ROUTING_ORDER[0] == "catalogue"


def test_no_two_domains_answer_the_same_method_and_path() -> None:
    by_domain = _routes_by_domain()
    assert sum(len(routes) for routes in by_domain.values()) > 100  # the whole app was read
    clashes = []
    for domain, routes in by_domain.items():
        for route in routes:
            path = _sample_path(route)
            for other, their_routes in by_domain.items():
                if other == domain:
                    continue
                for theirs in their_routes:
                    same_method = set(route.methods or ()) & set(theirs.methods or ())
                    if same_method and theirs.path_regex.match(path):
                        clashes.append(f"{domain} {route.path} ~ {other} {theirs.path}")
    assert not clashes, clashes
