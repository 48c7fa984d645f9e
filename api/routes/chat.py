"""The page every household's QR code opens (``/chat``): a chat with the bot in large plain
Chinese, with taps for closed questions, and ``/chat/status`` to look a case up without the
bot. Rasa is reached through this service (``api.chat_proxy``), so the page has one origin."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import AfterValidator, Field, ValidationError

from api.access import Ctx
from api.chat_places import picker_places, poster_place
from api.chat_proxy import MESSAGE_ID, SENDER, BotUnavailable, ChatRelay
from api.clean import clean_line
from api.clock import aware
from api.context import ServiceContext
from api.problems import locked_message, problem
from api.resident import find_for_resident
from api.resident_guard import guarded
from api.schemas import StatusQuery, Strict
from api.throttle import Locked
from api.views import resident_status

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_day(at: datetime) -> str:
    """12月18日, in Beijing time whatever zone the value carries."""
    local = aware(at).astimezone(BEIJING)
    return f"{local.month}月{local.day}日"


router = APIRouter(prefix="/chat", include_in_schema=False)
HERE = Path(__file__).resolve().parent.parent
STATIC = HERE / "static"
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
)
_env.filters["day"] = lambda at: beijing_day(at)
# The page's CSS is inlined (one round trip less before the first paint on a slow line);
# the CSP allows exactly that stylesheet by its hash, and no inline script at all.
_CSS = (STATIC / "chat.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'self'; script-src 'self'; style-src 'sha256-{_CSS_HASH}'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATIC_FILES = {"chat.js": "text/javascript; charset=utf-8"}
# In the script's address, so a phone's cached copy is never older than the page.
_JS_VERSION = hashlib.sha256((STATIC / "chat.js").read_bytes()).hexdigest()[:12]
MAX_MESSAGE_CHARS = 1000
PlaceName = Annotated[str, Field(max_length=20), AfterValidator(clean_line)]


class ChatMessage(Strict):
    sender: Annotated[str, Field(pattern=SENDER.pattern)]
    id: Annotated[str, Field(pattern=MESSAGE_ID.pattern)]
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    village: PlaceName | None = None
    township: PlaceName | None = None


def _line(value: str | None) -> str:
    """A one-line value from a link or form; anything with control characters counts as
    nothing (residents get the form again, never an error page)."""
    try:
        return (clean_line(value) or "").strip()
    except ValueError:
        return ""


def _page(name: str, code: int = 200, **values) -> HTMLResponse:
    html = _env.get_template(name).render(css=_CSS, **values)
    return HTMLResponse(html, status_code=code, headers=HEADERS)


def relay(request: Request) -> ChatRelay:
    state = request.app.state
    if getattr(state, "chat_relay", None) is None:
        state.chat_relay = ChatRelay(state.ctx.settings.rasa_url)
    return state.chat_relay


@router.get("", response_class=HTMLResponse)
def chat_page(
    v: Annotated[str | None, Query(max_length=20)] = None,
    t: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The chat. ``?v=<village>&t=<township>`` (a village's QR poster): the bot is told the
    village with every message and does not ask for it."""
    place = poster_place(_line(v), _line(t))
    return _page(
        "chat.html",
        place=place,
        # In a <script type="application/json">: no "</script>" can close it early.
        places_json=json.dumps(picker_places(), ensure_ascii=False).replace("<", "\\u003c"),
        js_version=_JS_VERSION,
    )


@router.get("/static/{name}")
def chat_static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, "没有这个文件")
    return FileResponse(
        STATIC / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/send")
async def send(body: ChatMessage, request: Request) -> JSONResponse:
    """One message to the bot; the bot's answers (text, buttons, hints for the page)."""
    text = body.message.strip()
    if not text:
        return problem(422, "消息不能为空")
    place = poster_place(body.village, body.township) if body.village else None
    try:
        answer = await relay(request).send(body.sender, body.id, text, place)
    except BotUnavailable:
        return problem(503, "暂时连不上，请稍等再试")
    return JSONResponse({"messages": [m.as_json() for m in answer]})


@router.get("/status", response_class=HTMLResponse)
def status_form() -> HTMLResponse:
    return _page("chat_status.html", number="", phone="", error=None, status=None)


def _lookup(context: ServiceContext, number: str, phone: str):
    with context.read_sessions() as session:
        return find_for_resident(session, number, phone)


@router.post("/status", response_class=HTMLResponse)
async def status_lookup(request: Request, context: Ctx) -> HTMLResponse:
    """Case number + the phone it was filed from → where it stands and the office's public
    answer; the same lookup, answers and lockout as ``POST /api/v1/status``."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    number = _line((form.get("number") or [""])[0])[:40]
    phone_raw = _line((form.get("phone") or [""])[0])[:40]
    shown = {"number": number, "phone": phone_raw}
    try:  # the API's own checks of the pair
        query = StatusQuery(number=number, phone=phone_raw)
    except ValidationError:
        error = "请填写案件号（8位数字）和反映时留的电话。"
        return _page("chat_status.html", 422, error=error, status=None, **shown)
    number, phone = query.number, query.phone
    try:
        found = guarded(context, request, number, lambda: _lookup(context, number, phone))
    except Locked as exc:
        return _page("chat_status.html", 429, error=locked_message(exc), status=None, **shown)
    if found is None:
        error = "没有查到。请核对案件号和电话，是反映问题时留的那个电话。"
        return _page("chat_status.html", 404, error=error, status=None, **shown)
    case, lead = found
    status = resident_status(case, context.taxonomy, lead)
    return _page("chat_status.html", error=None, status=status, **shown)
