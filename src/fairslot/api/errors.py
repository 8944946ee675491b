"""One place renders every refusal as ``{"error": code, "detail": message}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairslot.error_messages import chinese
from fairslot.errors import DomainError

log = logging.getLogger("fairslot.api")


_HTTP_ZH = {
    404: "请求的地址不存在。",
    405: "该地址不支持此请求方法，可用的方法见 Allow 响应头。",
}


def _body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    # A refusal raised without its own Chinese message gets the catalogue's.
    zh = extra.pop("detail_zh", None) or chinese(code)
    return {"error": code, "detail": detail, **({"detail_zh": zh} if zh else {}), **extra}


def domain_response(exc: DomainError) -> JSONResponse:
    """A domain refusal as every API answers it: its status, its code and messages, and a
    refusal that says when to come back (a rate limit, a throttled sign-in) says it in
    the standard header too."""
    retry = exc.extra.get("retry_after")
    headers = {"Retry-After": str(int(retry))} if isinstance(retry, int | float) else None
    return JSONResponse(
        _body(exc.code, exc.detail, **exc.extra), status_code=exc.status, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg")}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        zh = chinese("invalid_request") or ""
        if first["field"]:
            zh = (
                f"请求格式有误：字段 {first['field']} 缺少或取值不正确，"
                "请按接口文档检查后重新提交。"
            )
        return JSONResponse(
            _body("invalid_request", str(detail), detail_zh=zh, problems=problems),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        extra = {"detail_zh": _HTTP_ZH[exc.status_code]} if exc.status_code in _HTTP_ZH else {}
        # The router's 405 names the path's methods in ``Allow``: keep its headers.
        return JSONResponse(
            _body(code, str(exc.detail), **extra),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint caught a race that the rules did not see; nothing was changed.
        log.info("constraint refused a change: %s", exc.orig.__class__.__name__)
        return JSONResponse(
            _body(
                "conflict",
                "The request conflicted with another change; nothing was "
                "changed. Reload and try again.",
            ),
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        log.info("database refused a value: %s", exc.orig.__class__.__name__)
        return JSONResponse(
            _body("invalid_value", "A value in the request is out of range."), status_code=422
        )

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        # A lock wait that timed out under load: the request changed nothing; retry.
        log.warning("database busy: %s", exc.orig)
        return busy_response()

    @app.exception_handler(PoolTimeout)
    async def _no_connection(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed in use for the whole pool timeout: as above.
        log.warning("database busy: %s", exc)
        return busy_response()


def busy_response() -> JSONResponse:
    """503 ``busy``: the database did not answer in time; nothing was changed."""
    return JSONResponse(
        _body("busy", "The platform is busy; nothing was changed. Try again shortly."),
        status_code=503,
        headers={"Retry-After": "1"},
    )
