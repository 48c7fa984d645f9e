"""The workbench router: its routes answer with HTML pages, errors included.

The service's exception handlers answer in JSON problem details, right for the API and wrong for
a person at a browser; this route class turns whatever a page raises into a page (or, with no
session, a redirect to the login page) and puts the security headers on every answer.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api.lifecycle import IllegalTransition
from api.workbench.render import page, redirect, secure
from api.workbench.session import PREFIX, CsrfRejected, LoginRequired
from api.workflow import ActionRefused

log = logging.getLogger(__name__)


def _error(request: Request, status: int, message: str):
    return page(request, "error.html", None, status=status, status_code=status, message=message)


def _back(request: Request) -> str:
    """Where to return after logging in: the page asked for, or, for a form posted after the
    session ran out, the page the form was on."""
    if request.method == "GET":
        url = request.url
        return url.path + (f"?{url.query}" if url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith(PREFIX + "/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return PREFIX + "/"


class PageRoute(APIRoute):
    def get_route_handler(self):
        handler = super().get_route_handler()

        async def as_page(request: Request):
            try:
                response = await handler(request)
            except LoginRequired:
                return secure(redirect(f"{PREFIX}/login?next={quote(_back(request), safe='')}"))
            except CsrfRejected:
                return _error(request, 403, "页面已过期或请求来源不明，请返回刷新页面后重试。")
            except HTTPException as exc:
                return _error(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                fields = "、".join(
                    ".".join(str(p) for p in err["loc"][1:]) or "参数" for err in exc.errors()
                )
                return _error(request, 422, f"请求参数不符合要求：{fields}")
            except (ActionRefused, IllegalTransition) as exc:
                return _error(request, 409, str(exc))
            except Exception:
                log.exception("workbench page %s failed", request.url.path)
                return _error(request, 500, "服务内部错误，已记录，请稍后再试。")
            return secure(response)

        return as_page


router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
