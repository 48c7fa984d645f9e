"""Errors as RFC 9457 problem details, with a Chinese message people can read."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.throttle import Locked

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"

_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限",
    404: "没有找到",
    409: "状态冲突",
    413: "内容过大",
    415: "格式不支持",
    422: "内容不符合要求",
    429: "尝试次数过多",
    503: "服务暂不可用",
}


# Framework messages that reach people, said in Chinese.
_FRAMEWORK_MESSAGES = {
    "There was an error parsing the body": "请求内容无法解析，请发送UTF-8编码的JSON",
    "Not Found": "没有这个地址",
    "Method Not Allowed": "不支持这种请求方法",
    "Not authenticated": "请先登录",
}


def problem(status: int, detail: str, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": _TITLES.get(status, "错误"), "status": status}
    body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def locked_message(exc: Locked) -> str:
    minutes = max(1, -(-exc.retry_after // 60))
    if exc.scope in ("account", "login_client"):
        return f"登录失败次数过多，已暂时锁定，请{minutes}分钟后再试，或请主管解锁"
    return (
        f"核对失败次数过多，为保护反映人，已暂停查询，请{minutes}分钟后再试，"
        "或拨打热线由工作人员核实"
    )


def too_many(exc: Locked) -> JSONResponse:
    """429 with Retry-After: a locked case number, client or account."""
    response = problem(429, locked_message(exc), retry_after=exc.retry_after)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves the service as problem details, never as a bare 500 page."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = _FRAMEWORK_MESSAGES.get(str(exc.detail), str(exc.detail))
        return problem(exc.status_code, detail)

    @app.exception_handler(Locked)
    async def locked(_: Request, exc: Locked) -> JSONResponse:
        return too_many(exc)

    @app.exception_handler(DataError)
    async def bad_data(request: Request, exc: DataError) -> JSONResponse:
        """A value the database refused as data (a number out of its range, a character it
        cannot store) came from the request: the caller's error, not the service's. Routes
        validate their input; this is the net for any that does not."""
        log.warning("database refused request data on %s: %s", request.url.path, exc.orig)
        return problem(422, "请求中的数值超出范围或含有无法保存的字符")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "服务内部错误，已记录，请稍后再试")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"][1:]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        fields = "、".join(e["field"] for e in errors)
        return problem(422, f"请求内容不符合要求：{fields}", errors=errors)
