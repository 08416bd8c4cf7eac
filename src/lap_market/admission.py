"""Overload is answered, not crashed on: requests wait in order for a database connection.

The app lets in at most as many requests at once as its pool has connections, so a request
that was let in never waits for one. The rest queue in arrival order (``asyncio.Semaphore``
wakes waiters first come, first served); past the bounded wait they get 503 with
``Retry-After``, as does a request whose pool checkout still timed out (see ``main.py``).
"""

import asyncio
import json
import math

from starlette.types import ASGIApp, Receive, Scope, Send

BUSY_DETAIL = "The service is busy; please try again in a moment."


def retry_after(wait: float) -> str:
    """Seconds a client should wait before trying again."""
    return str(max(1, math.ceil(wait)))


class Admission:
    """ASGI middleware letting in at most ``limit`` HTTP requests at once."""

    def __init__(self, app: ASGIApp, *, limit: int, wait: float) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limit)

    def _slots_of_this_loop(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; tests may serve one app from several.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slots = self._slots_of_this_loop()
        try:
            async with asyncio.timeout(self.wait):
                await slots.acquire()
        except TimeoutError:
            await self._busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _busy(self, scope: Scope, send: Send) -> None:
        if scope["path"].startswith("/api/"):
            body = json.dumps({"detail": BUSY_DETAIL, "code": "busy"}).encode()
            kind = b"application/json"
        else:
            body = (
                '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
                "<title>Service busy</title></head><body><main><h1>Service busy</h1>"
                f"<p>{BUSY_DETAIL}</p></main></body></html>"
            ).encode()
            kind = b"text/html; charset=utf-8"
        headers = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", retry_after(self.wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
