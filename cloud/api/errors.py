"""Every error is JSON: ``{"error": {"reason": <code>, "detail": <text or list>}}``.

Reasons: ``unauthenticated`` (401), ``forbidden`` (403), ``not_found`` (404), ``invalid_request``
(422), ``conflict`` (409), ``unavailable`` (503, e.g. no database), ``rejected`` (an override
the safety layer refused, 409), ``internal_error`` (500).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

LOG = logging.getLogger("xiangjiang.cloud.api")

_REASONS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer: HTTP ``status``, a machine ``reason`` and a human ``detail``."""

    def __init__(self, status: int, reason: str, detail: Any = "") -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status, self.reason, self.detail = status, reason, detail


def error_body(reason: str, detail: Any) -> dict[str, Any]:
    """The JSON body of an error."""
    return {"error": {"reason": reason, "detail": detail}}


def _response(status: int, reason: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(reason, detail), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON form."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _response(exc.status, exc.reason, exc.detail, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = _REASONS.get(exc.status_code, "error")
        return _response(exc.status_code, reason, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
        ]
        return _response(422, "invalid_request", detail)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unhandled error in a request")
        return _response(500, "internal_error", type(exc).__name__)
