"""The application factory: routers, middleware and error handlers."""

import gc
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from lap_market import openapi
from lap_market.accounts.deps import LoginRequired
from lap_market.admission import BUSY_DETAIL, Admission, retry_after
from lap_market.config import Settings, get_settings
from lap_market.db import dispose, make_engine, reading_engine
from lap_market.errors import DomainError, NotFound
from lap_market.registry import import_all_models
from lap_market.shell import Shell
from lap_market.templating import is_htmx, render

log = logging.getLogger("lap_market.request")
STATIC_DIR = Path(__file__).parent / "static"
DOMAINS = [
    "accounts",
    "audit",
    "catalogue",
    "demand",
    "rounds",
    "aggregation",
    "tenders",
    "contracts",
    "frameworks",
    "contract_management",
    "reports",
    "ocds",
    "jobs",
    "mail",
    "notifications",
    "web",
]


DOCS_PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>LAP Market API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs-assets/swagger-ui.css"></head>
<body><main id="swagger-ui"></main>
<script src="/api/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (the environment's when omitted)."""
    settings = settings or get_settings()
    admitted = min(settings.requests_at_once, settings.db_pool_size)
    import_all_models()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout,
    )
    # The short reads on the event loop (db.runs_on_loop): no transactions.
    reading = reading_engine(engine, pool_size=admitted, pool_timeout=settings.db_pool_timeout)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A request thread for every request let in (each holds one connection at most).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, admitted)
        if settings.env != "test":
            from lap_market.contracts import pdf

            pdf.warm_pool()  # render workers ready before the first large batch of call-offs
        stop_worker = None
        if settings.runs_embedded_worker():
            from lap_market.jobs import start_embedded

            stop_worker = start_embedded(engine, settings)
        if settings.env != "test":  # tests build many apps: each freeze would keep the last
            _settle_garbage_collector()
        yield
        if stop_worker is not None:
            stop_worker()
        engine.dispose()
        await dispose(reading)

    app = FastAPI(
        title="LAP Market",
        summary="Joint procurement of archive services for the London Archives Partnership.",
        version="0.1.0",
        docs_url=None,  # served below from packaged assets: no CDN at run time
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.reading_engine = reading
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/api/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    _add_routes(app)
    # Inside the shell middleware, so a 503 still gets its headers and log line.
    app.add_middleware(Admission, limit=admitted, wait=settings.db_pool_timeout)
    app.add_middleware(Shell, settings=settings)
    _add_error_handlers(app)
    openapi.install(app)
    return app


def _settle_garbage_collector() -> None:
    """Keep what start-up built (modules, models, schemas, routes: some 200,000 objects) out
    of every later garbage collection. A full collection walks every tracked object and took
    half a second under load: a pause every request waiting at that moment would wait for
    (the p99 of issue 11). Frozen objects are never collected, which suits what lives as long
    as the process; what requests make is collected as before (and a request that makes
    tens of thousands of objects, pooling 33,000 lines, no longer pays ~0.15 s to walk it)."""
    gc.collect()
    gc.freeze()


# Routers are tried in order, and each tries its routes one by one: the catalogue, whose
# search is the most requested route, is tried first (issue 11). No two domains share a
# path (tests/test_routes_order.py), so the order changes nothing else.
ROUTING_ORDER = ["catalogue", *(domain for domain in DOMAINS if domain != "catalogue")]


def _add_routes(app: FastAPI) -> None:
    for domain in ROUTING_ORDER:
        for face in ("api", "web"):
            name = f"lap_market.{domain}.{face}"
            if importlib.util.find_spec(name) is None:
                continue
            module = importlib.import_module(name)
            app.include_router(module.router)

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        """Swagger UI for the JSON API, from the packaged swagger-ui assets."""
        return HTMLResponse(DOCS_PAGE)

    @app.get("/healthz", tags=["health"])
    def healthz() -> Response:
        """Liveness and database reachability."""
        try:
            with app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means the database is unreachable
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})


def _add_error_handlers(app: FastAPI) -> None:
    """One answer per kind of failure: JSON ``{detail, code}`` under /api/, a page elsewhere."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(404, _not_found)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(DBAPIError, _connection_lost)
    app.add_exception_handler(500, _server_error)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if _is_api(request):
        headers: dict[str, str] = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(exc.as_json(), status_code=exc.status_code, headers=headers)
    if isinstance(exc, LoginRequired):
        target = "/login?next=" + request.url.path
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return _web_error(request, exc.status_code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_clean_error(e) for e in exc.errors()]
    path_errors = [e for e in errors if e["loc"][:1] == ["path"]]
    if path_errors:
        # No resource has an id outside 1 … 2^31−1 (or one that is not a number).
        return await _not_found(request, NotFound("Not found.", field=path_errors[0]["field"]))
    if _is_api(request):
        first = errors[0]["field"] if errors else None
        body = {"detail": errors, "code": "invalid", "field": first}
        return JSONResponse(body, status_code=422)
    message = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors)
    return _web_error(request, 422, message or "The request was not valid.")


async def _not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        detail = getattr(exc, "detail", "Not found.")
        body = {"detail": detail, "code": "not_found", "field": getattr(exc, "field", None)}
        return JSONResponse(body, status_code=404)
    return _web_error(request, 404, "We could not find that page.")


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette's own refusals (405 and the like) in the same body as every other error.
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        body = {"detail": str(exc.detail), "code": HTTP_CODES.get(exc.status_code, "error")}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    return _web_error(request, exc.status_code, str(exc.detail))


async def _pool_timeout(request: Request, _exc: Exception) -> Response:
    # Every connection stayed busy for the whole bounded wait: overload, not a fault.
    settings: Settings = request.app.state.settings
    return _unavailable(request, retry_after(settings.db_pool_timeout))


async def _connection_lost(request: Request, exc: Exception) -> Response:
    """A database connection that died under the request (the server restarted): the pool has
    already dropped it and every connection made before it, so trying again will work."""
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        raise exc  # a fault, not a restart: on to the 500 handler, as if unhandled
    logging.getLogger("lap_market").warning("Database connection lost: %s", exc.orig)
    return _unavailable(request, retry_after(1))


def _unavailable(request: Request, wait: str) -> Response:
    """503 with ``Retry-After``: try again in ``wait`` seconds."""
    headers = {"Retry-After": wait}
    if _is_api(request):
        body = {"detail": BUSY_DETAIL, "code": "busy"}
        return JSONResponse(body, status_code=503, headers=headers)
    response = _web_error(request, 503, BUSY_DETAIL)
    response.headers.update(headers)
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    logging.getLogger("lap_market").exception("Unhandled error", exc_info=exc)
    if _is_api(request):
        return JSONResponse({"detail": "Internal error.", "code": "internal"}, status_code=500)
    return _web_error(request, 500, "Something went wrong on our side. Please try again.")


def _clean_error(error: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {k: error[k] for k in ("loc", "msg", "type") if k in error}
    cleaned["loc"] = list(cleaned.get("loc", ()))
    cleaned["msg"] = str(cleaned.get("msg", "")).removeprefix("Value error, ")
    cleaned["field"] = ".".join(str(p) for p in error.get("loc", ())[1:]) or None
    return cleaned


HTTP_CODES = {405: "method_not_allowed", 406: "not_acceptable", 415: "unsupported_media_type"}
TITLES = {
    401: "Please sign in",
    403: "You do not have access",
    404: "Page not found",
    409: "That cannot be done now",
    413: "Too large",
    422: "There is a problem",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Service busy",
}


def _web_error(request: Request, status: int, message: str) -> Response:
    if is_htmx(request):
        return render(
            request,
            "shell/fragments/flash.html",
            {"message": message, "kind": "error", "title": TITLES.get(status, "Error")},
            status_code=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return render(
        request,
        "shell/pages/error.html",
        {"status": status, "title": TITLES.get(status, "Error"), "message": message},
        status_code=status,
    )
