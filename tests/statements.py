"""Listening to every statement an app runs, whichever of its engines runs it (the short reads
on the event loop have an engine of their own on PostgreSQL: ``db.reading_engine``)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, event


def app_engines(app: FastAPI) -> list[Engine]:
    """The app's engine, and its reading engine when that has a pool of its own."""
    engines: list[Engine] = [app.state.engine]
    if app.state.reading_engine.pool is not app.state.engine.pool:
        engines.append(app.state.reading_engine)
    return engines


@contextmanager
def on_statements(app: FastAPI, listener: Callable[..., Any]) -> Iterator[None]:
    """``listener`` called before each statement (SQLAlchemy's ``before_cursor_execute``)."""
    engines = app_engines(app)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)
