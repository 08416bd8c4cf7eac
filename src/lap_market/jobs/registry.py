"""Which function runs each kind of job, and what runs on a schedule."""

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from lap_market.config import Settings

Handler = Callable[[Session, Settings, dict[str, Any]], None]
PeriodicFn = Callable[[Session, Settings], None]
Poller = Callable[[Engine, Settings], int]


@dataclass(frozen=True)
class HandlerSpec:
    fn: Handler
    max_attempts: int


@dataclass(frozen=True)
class PeriodicSpec:
    kind: str
    fn: PeriodicFn
    every: timedelta


HANDLERS: dict[str, HandlerSpec] = {}
PERIODICS: dict[str, PeriodicSpec] = {}
POLLERS: dict[str, Poller] = {}


def handler(kind: str, *, max_attempts: int = 5) -> Callable[[Handler], Handler]:
    """Register ``fn(session, settings, payload)`` as the code that runs jobs of ``kind``.

    The worker runs it in one transaction that also marks the job done; a raised
    exception rolls it back and the job retries with backoff, up to ``max_attempts``.
    """

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = HandlerSpec(fn=fn, max_attempts=max_attempts)
        return fn

    return register


def periodic(kind: str, every: timedelta) -> Callable[[PeriodicFn], PeriodicFn]:
    """Register ``fn(session, settings)`` to run once per ``every`` across all workers."""

    def register(fn: PeriodicFn) -> PeriodicFn:
        PERIODICS[kind] = PeriodicSpec(kind=kind, fn=fn, every=every)

        def run(session: Session, settings: Settings, _payload: dict[str, Any]) -> None:
            fn(session, settings)

        HANDLERS[kind] = HandlerSpec(fn=run, max_attempts=1)
        return fn

    return register


def poller(name: str) -> Callable[[Poller], Poller]:
    """Register ``fn(engine, settings) -> items handled``, called on every worker tick.

    For queues with their own rows and leases (the email outbox), which do work outside
    any one transaction and so cannot be jobs' single-transaction handlers.
    """

    def register(fn: Poller) -> Poller:
        POLLERS[name] = fn
        return fn

    return register


_discovered = False


def discover() -> None:
    """Import ``lap_market.<domain>.tasks`` for every domain, registering its handlers."""
    global _discovered
    if _discovered:
        return
    from lap_market.main import DOMAINS

    for domain in DOMAINS:
        name = f"lap_market.{domain}.tasks"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    _discovered = True
