"""`hotline phone call|sms`: the phone line in a terminal, for trying it, demos and staff
training, and what `hotline up` says about the line at start-up.

Each request is signed exactly as Twilio signs it (twilio's ``RequestValidator``) with the
configured ``TWILIO_AUTH_TOKEN``, or, when none is set, the local token `hotline up` writes to
var/local-twilio-token (accepted by the channels only from this machine), and posted to the
running Rasa server's webhooks. Input is read line by line, from a keyboard or a pipe."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import TextIO

import httpx

from classifiers.paths import PROJECT_ROOT

# The bot's channel code (bot/, run by Rasa from the project folder) is not an installed
# package; the simulator signs and splits texts with that very code, so it reads it from there.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.append(str(PROJECT_ROOT))

from bot.channels.provider import (
    ensure_local_token,
    local_token_path,
    read_local_token,
)
from bot.channels.twiml import sms_segments

VOICE_PATH = "/webhooks/hotline_voice/webhook"
SMS_PATH = "/webhooks/hotline_sms/webhook"
HOTLINE_NUMBER = "+8655100000000"
KEYS = set("0123456789*#")


# -- start-up ----------------------------------------------------------------------------------
def prepare_line(env: Mapping[str, str]) -> list[str]:
    """What `hotline up` prints about phone and SMS; creates the local token when no real one is
    set (a real token is never replaced)."""
    token = env.get("TWILIO_AUTH_TOKEN")
    sending = all(
        env.get(k) for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    )
    lines: list[str] = []
    if token:
        public = env.get("HOTLINE_PUBLIC_URL")
        where = public.rstrip("/") if public else "http://<本机公网地址>:5005"
        lines.append("电话和短信：已配置 TWILIO_AUTH_TOKEN，只接受 Twilio 签名的请求。")
        lines.append(f"  语音 webhook：{where}{VOICE_PATH}")
        lines.append(f"  通话状态回调（Call status changes）：{where}{VOICE_PATH}?step=status")
        lines.append(f"  短信 webhook：{where}{SMS_PATH}")
        if not public:
            lines.append("  在代理之后运行时请设置 HOTLINE_PUBLIC_URL（Twilio 按公网地址签名）。")
    else:
        ensure_local_token()
        lines.append(
            "电话和短信未配置：没有设置 TWILIO_AUTH_TOKEN，Twilio 发来的请求都会被拒绝（403）。"
        )
        lines.append(
            f"  本机试用：hotline phone call / hotline phone sms（用本机令牌 {local_token_path()}"
            " 签名，只接受来自本机的请求）。"
        )
        lines.append(
            "  接入真实号码：设置 TWILIO_AUTH_TOKEN、TWILIO_ACCOUNT_SID、TWILIO_FROM_NUMBER，"
            "代理之后再设 HOTLINE_PUBLIC_URL，见 README。"
        )
    if sending:
        status = env.get("HOTLINE_SMS_STATUS_URL") or (
            env["HOTLINE_PUBLIC_URL"].rstrip("/") + "/webhooks/twilio/sms-status"
            if env.get("HOTLINE_PUBLIC_URL")
            else None
        )
        lines.append("给群众的短信：经 Twilio 发出。")
        lines.append(
            f"  送达回执地址（StatusCallback）：{status}"
            if status
            else "  没有送达回执：设置 HOTLINE_PUBLIC_URL 或 HOTLINE_SMS_STATUS_URL 后才请求回执。"
        )
    else:
        lines.append(
            "给群众的短信：只记录不发送（缺 TWILIO_ACCOUNT_SID、TWILIO_AUTH_TOKEN 或 "
            "TWILIO_FROM_NUMBER），在 /workbench/outbox 查看。"
        )
    return lines


# -- signing and posting -----------------------------------------------------------------------
def signing_token(explicit: str | None = None) -> str:
    token = explicit or os.environ.get("TWILIO_AUTH_TOKEN") or read_local_token()
    if not token:
        sys.exit(
            f"hotline phone: 没有 TWILIO_AUTH_TOKEN，也没有本机令牌 {local_token_path()}；"
            "请先用 hotline up（make run）启动"
        )
    return token


class Line:
    """Posts signed webhooks as Twilio would."""

    def __init__(self, base_url: str, token: str, timeout: float = 30) -> None:
        from twilio.request_validator import RequestValidator

        self.base = base_url.rstrip("/")
        self.validator = RequestValidator(token)
        self.client = httpx.Client(timeout=timeout)

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        url = path if path.startswith("http") else self.base + path
        signature = self.validator.compute_signature(url, form)
        return self.client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def _lines(stream: TextIO, prompt: str) -> Iterator[str]:
    """Input lines; shows a prompt on a terminal and echoes piped lines, so a transcript reads
    as a conversation."""
    interactive = stream.isatty()
    while True:
        if interactive:
            print(prompt, end="", flush=True)
        line = stream.readline()
        if not line:
            return
        line = line.rstrip("\n")
        if not interactive:
            print(f"{prompt}{line}")
        yield line


def _fail(r: httpx.Response) -> int:
    print(f"[请求被拒绝：HTTP {r.status_code} {r.text[:200]}]")
    return 1


# -- a call ------------------------------------------------------------------------------------
def show_twiml(root: ET.Element, out: TextIO | None = None) -> ET.Element | None:
    """Print what the caller hears, one <Say> a line; return the element waiting for the caller
    (<Gather> or <Record>), or None when the call ends."""
    out = out or sys.stdout
    waiting = None

    def walk(element: ET.Element) -> None:
        nonlocal waiting
        for child in element:
            if child.tag == "Say":
                print("  " + "".join(child.itertext()).strip(), file=out)
            elif child.tag == "Pause":
                continue
            elif child.tag == "Gather":
                walk(child)
                n = child.get("numDigits")
                keys = f"按 {n} 个键" if n else "按键以 # 结束"
                print(f"  [按键…或说话：{keys}；回车不输入 = 沉默]", file=out)
                waiting = child
            elif child.tag == "Record":
                print("  [录音：嘀——请输入留言内容，回车结束]", file=out)
                waiting = child
            elif child.tag == "Dial":
                print(f"  [转接人工 {''.join(child.itertext()).strip()}]", file=out)
            elif child.tag == "Hangup":
                print("  [挂断]", file=out)
            elif child.tag == "Redirect":
                print(f"  [转到 {child.text}]", file=out)

    walk(root)
    return waiting


def _caller_input(line: str, gather: ET.Element) -> dict[str, str]:
    """A typed line as Twilio reports it: keys (Digits, without the finishing #, at most
    numDigits), words (SpeechResult), or nothing (silence)."""
    text = line.strip()
    if not text:
        return {}
    compact = text.replace(" ", "")
    if set(compact) <= KEYS:
        digits = compact.split("#")[0] if "#" in compact else compact
        limit = gather.get("numDigits")
        if limit:
            digits = digits[: int(limit)]
        return {"Digits": digits or "#"}
    return {"SpeechResult": text, "Confidence": "0.9"}


def play_call(line: Line, phone: str, stream: TextIO = sys.stdin, outbox: bool = True) -> int:
    call_sid = "CA" + secrets.token_hex(16)
    base = {"CallSid": call_sid, "From": phone, "To": HOTLINE_NUMBER, "CallStatus": "in-progress"}
    read_outbox = _outbox_reader(phone) if outbox else None
    print(f"[来电 {phone} → 热线]")
    r = line.post(VOICE_PATH, base)
    inputs = _lines(stream, "来电人> ")
    while True:
        if r.status_code != 200:
            return _fail(r)
        waiting = show_twiml(ET.fromstring(r.text))
        if waiting is None:
            return _call_ended(line, base, read_outbox)
        said = next(inputs, None)
        if said is None:
            print("[来电人挂机]")
            return _call_ended(line, base, read_outbox)
        if waiting.tag == "Record":
            form = {
                **base,
                "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/ACsimulator/"
                f"Recordings/RE{secrets.token_hex(16)}",
                "RecordingDuration": str(max(1, len(said) // 4)),
                "Digits": "#",
            }
        else:
            form = {**base, **_caller_input(said, waiting)}
        r = line.post(waiting.get("action") or VOICE_PATH, form)


def _call_ended(line: Line, base: dict[str, str], read_outbox) -> int:
    """The status callback Twilio posts when a call ends, then what the service texted."""
    r = line.post(VOICE_PATH + "?step=status", {**base, "CallStatus": "completed"})
    if r.status_code >= 300:
        return _fail(r)
    for status, body in read_outbox() if read_outbox else []:
        how = "仅记录，未配置发送" if status == "recorded" else status
        print(f"  [案件服务发出的短信（{how}）]：{body}")
    return 0


# -- texts -------------------------------------------------------------------------------------
def _outbox_reader(phone: str):
    """New rows of the case service's outbox for this phone (what the service texts, e.g. the
    receipt of a filing), read from its database; None when it cannot be read here."""
    try:
        from sqlalchemy import select

        from api.db import make_engine, session_factory
        from api.models import OutboundSms
        from api.outbox import sms_number
        from api.settings import Settings

        to = sms_number("".join(ch for ch in phone if ch.isdigit())[-11:])
        if to is None:
            return None
        sessions = session_factory(make_engine(Settings().database_url))
        with sessions() as session:
            seen = (
                session.scalar(select(OutboundSms.id).order_by(OutboundSms.id.desc()).limit(1)) or 0
            )
    except Exception:  # only a nicety of the simulator
        return None
    state = {"seen": seen}

    def read() -> list[tuple[str, str]]:
        try:
            with sessions() as session:
                rows = session.execute(
                    select(OutboundSms.id, OutboundSms.status, OutboundSms.body)
                    .where(OutboundSms.to_phone == to, OutboundSms.id > state["seen"])
                    .order_by(OutboundSms.id)
                ).all()
        except Exception:
            return []
        if rows:
            state["seen"] = rows[-1][0]
        return [(status, body) for _id, status, body in rows]

    return read


def show_texts(root: ET.Element, out: TextIO | None = None) -> int:
    """Each reply text and how it splits into 70-character segments."""
    out = out or sys.stdout
    messages = ["".join(m.itertext()).strip() for m in root.iter("Message")]
    if not messages:
        print("  [没有回复短信]", file=out)
    for i, text in enumerate(messages, 1):
        parts = sms_segments(text)
        print(f"  短信{i}（{len(text)}字，{len(parts)}段）：{text}", file=out)
        if len(parts) > 1:
            for j, part in enumerate(parts, 1):
                print(f"    第{j}段：{part}", file=out)
    return len(messages)


def play_sms(line: Line, phone: str, stream: TextIO = sys.stdin, outbox: bool = True) -> int:
    read_outbox = _outbox_reader(phone) if outbox else None
    for said in _lines(stream, "短信> "):
        if not said.strip():
            continue
        form = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "From": phone,
            "To": HOTLINE_NUMBER,
            "Body": said,
            "NumSegments": "1",
        }
        r = line.post(SMS_PATH, form)
        if r.status_code != 200:
            return _fail(r)
        show_texts(ET.fromstring(r.text))
        for status, body in read_outbox() if read_outbox else []:
            how = "仅记录，未配置发送" if status == "recorded" else status
            print(f"  [案件服务发出的短信（{how}）]：{body}")
    return 0


# -- commands ----------------------------------------------------------------------------------
def cmd_call(args: argparse.Namespace) -> int:
    return play_call(Line(args.url, signing_token(args.token)), args.sender)


def cmd_sms(args: argparse.Namespace) -> int:
    line = Line(args.url, signing_token(args.token))
    return play_sms(line, args.sender, outbox=not args.no_outbox)


def register(sub: argparse._SubParsersAction) -> None:
    phone = sub.add_parser("phone", help="the phone line in a terminal: a call or text messages")
    phone_sub = phone.add_subparsers(dest="phone_command", required=True)
    for name, func, help_text in (
        ("call", cmd_call, "play a call: type words, keys (2, 88248476#) or an empty line"),
        ("sms", cmd_sms, "text the hotline: each line is one text message"),
    ):
        p = phone_sub.add_parser(name, help=help_text)
        p.add_argument("--url", default=os.environ.get("HOTLINE_RASA_URL", "http://127.0.0.1:5005"))
        p.add_argument("--from", dest="sender", default="+8613900000000", help="caller's number")
        p.add_argument("--token", default=None, help="signing token (default: configured/local)")
        if name == "sms":
            p.add_argument(
                "--no-outbox", action="store_true", help="do not show the service's own texts"
            )
        p.set_defaults(func=func)
