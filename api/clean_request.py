"""Refuse request addresses and query parameters that carry control characters, or whole
numbers past what a database integer holds (400, problem details), before any route sees them:
a NUL in a filter would otherwise reach PostgreSQL, which refuses it with an error, not an
answer, and an id past 64 bits overflows on both databases. Routes still bound their own
parameters; this is the net under every route, present and future."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.clean import MAX_INT, has_bad_chars

_INTEGER = re.compile(r"[+-]?\d+")


class CleanRequest:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bad(scope):
            await _refuse(send)
            return
        await self.app(scope, receive, send)


def _too_big(value: str) -> bool:
    """A whole number no BIGINT column or OFFSET takes."""
    value = value.strip()
    return bool(_INTEGER.fullmatch(value)) and abs(int(value[:40])) > MAX_INT


def _bad(scope: Scope) -> bool:
    path = scope.get("path", "")
    if has_bad_chars(path, single_line=True):
        return True
    if any(_too_big(part.removesuffix(".json")) for part in path.split("/")):
        return True
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return False
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        return True
    return any(
        has_bad_chars(name, single_line=True)
        or has_bad_chars(value, single_line=True)
        or _too_big(value)
        for name, value in pairs
    )


async def _refuse(send: Send) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "请求有误",
            "status": 400,
            "detail": "请求地址或参数含有不允许的字符（控制字符或无效编码），或数字超出范围",
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
