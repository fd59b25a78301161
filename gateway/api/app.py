"""Build the gateway's FastAPI app: `/api/v1`, OpenAPI at `/openapi.json`, one error shape.

Every error leaves as `{"error", "message", "field", "retryable"}`; a 401 also carries
`WWW-Authenticate: Bearer`. Validation errors are 422 and name the first bad field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from eccoo.gateway.api.limits import BodySizeLimit
from eccoo.gateway.api.routes import (
    appointments,
    coin,
    contribution,
    events,
    forward,
    graph,
    hats,
    me,
    notes,
    pots,
    transactions,
    treasury,
    wallet,
)
from eccoo.gateway.errors import GatewayError
from eccoo.gateway.parts import Services
from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.web import routes as web
from eccoo.gateway.web.errors import error_page, is_page
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

_HTTP_ERRORS = {400: "InvalidInput", 404: "NotFound", 405: "MethodNotAllowed"}


def _field_of(error: dict[str, object]) -> str:
    if error.get("type") == "json_invalid":  # its loc ends in a character offset
        return "body"
    where = error.get("loc", ())
    parts = where if isinstance(where, (list, tuple)) else ()
    return ".".join(str(part) for part in parts if part != "body") or "body"


def create_app(settings: GatewaySettings, services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        try:
            built.start()
            yield
        finally:
            if services is None:
                built.close()
            elif built.worker is not None:
                built.worker.stop()

    app = FastAPI(
        title="eccoo gateway",
        version="1",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        if is_page(request):
            return error_page(request, exc.status_code, exc)
        headers = (
            {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status_code == 401 else None
        )
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):  # a page's only typed inputs are ids in its address
            return error_page(request, 404)
        errors = exc.errors()
        first = errors[0] if errors else {}
        body = {
            "error": "InvalidInput",
            "message": str(first.get("msg", "invalid request")),
            "field": _field_of(first),
            "retryable": False,
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request):
            return error_page(request, exc.status_code)
        # The framework's own refusals (unknown path, wrong method, a body that is not
        # UTF-8) in the same machine-readable shape as ours; unreadable input is a 422.
        status = exc.status_code
        body: dict[str, object] = {
            "error": _HTTP_ERRORS.get(status, "HTTPError"),
            "message": str(exc.detail),
        }
        if status == 400:  # FastAPI's only 400: a body it could not parse
            status, body["message"] = 422, "the request body could not be read as UTF-8 JSON"
            body["field"] = "body"
        body["retryable"] = False
        return JSONResponse(body, status_code=status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        # A bug: pages say what to do next; the API answers its plain 500.
        if is_page(request):
            return error_page(request, 500)
        body = {"error": "InternalError", "message": "internal error", "retryable": False}
        return JSONResponse(body, status_code=500)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        worker = request.app.state.services.worker
        if worker is not None and not worker.alive:
            return JSONResponse({"status": "down", "worker": "stopped"}, status_code=503)
        return JSONResponse({"status": "ok", "worker": "running" if worker else "none"})

    routers = (
        me.router,
        hats.router,
        wallet.router,
        transactions.router,
        coin.router,
        treasury.router,
        appointments.router,
        contribution.router,
        pots.router,
        events.router,
        forward.router,
        notes.router,
        graph.router,
    )
    for router in routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(graph.graphql_router, prefix="/api/v1")
    web.mount(app, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
