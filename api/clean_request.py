"""Refuse request addresses and query parameters that carry control characters (400, problem
details) before any route sees them: a NUL in a filter would otherwise reach PostgreSQL, which
refuses it with an error, not an answer."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.clean import has_bad_chars


class CleanRequest:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bad(scope):
            await _refuse(send)
            return
        await self.app(scope, receive, send)


def _bad(scope: Scope) -> bool:
    if has_bad_chars(scope.get("path", ""), single_line=True):
        return True
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return False
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        return True
    return any(
        has_bad_chars(name, single_line=True) or has_bad_chars(value, single_line=True)
        for name, value in pairs
    )


async def _refuse(send: Send) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "请求有误",
            "status": 400,
            "detail": "请求地址或参数含有不允许的字符（控制字符或无效编码）",
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
