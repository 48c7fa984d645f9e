"""What the voice and SMS channels share: the provider's request signature (``provider.py``), the
caller's number as the conversation id (so a caller's calls and texts are one conversation),
answering a webhook the provider resends with the reply already given instead of a second one,
and a health check that says whether the line is configured."""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import speedups, twiml
from bot.channels.provider import (
    FORWARDING_HEADERS,
    LOOPBACK,
    Provider,
    default_provider,
    local_token_path,
    read_local_token,
)

logger = logging.getLogger(__name__)


def caller_id(number: str | None) -> str | None:
    """'+86 139-1234-5678' → '13912345678': the same person on calls and texts."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def collector_for(channel: str) -> CollectingOutputChannel:
    """Collects the bot's messages under the channel's own name: Rasa picks a response's
    channel variant (``channel: hotline_sms`` in bot/domain.yml) by the *output* channel's name,
    which for Rasa's plain collector is "collector", so no variant would ever be used."""

    class Collector(CollectingOutputChannel):
        @classmethod
        def name(cls) -> str:
            return channel

    return Collector()


class TwilioChannel(InputChannel):
    """Base for the project's phone channels (Rasa's own twilio channels check no signature)."""

    def __init__(
        self, auth_token: str | None, public_url: str | None, provider: Provider | None = None
    ) -> None:
        self.auth_token = auth_token or None
        self.public_url = public_url.rstrip("/") if public_url else None
        self.provider = provider or default_provider()
        twiml.warm_up()
        speedups.apply()
        if self.auth_token is None:
            logger.warning(
                "%s: TWILIO_AUTH_TOKEN is not set, so requests from Twilio are refused (403); "
                "requests from this machine signed with %s are accepted (hotline phone)",
                self.name(),
                local_token_path(),
            )

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=os.environ.get(credentials.get("auth_token_env", "TWILIO_AUTH_TOKEN")),
            public_url=os.environ.get("HOTLINE_PUBLIC_URL") or credentials.get("public_url"),
        )

    def health(self) -> tuple[int, dict[str, Any]]:
        """200 when the provider's requests can be checked; 503 with the reason otherwise."""
        if self.auth_token:
            return 200, {"status": "ok", "provider": self.provider.name}
        local = read_local_token() is not None
        return 503, {
            "status": "not_configured",
            "provider": self.provider.name,
            "reason": (
                "TWILIO_AUTH_TOKEN 未设置：无法核对 Twilio 的签名，电话和短信请求一律拒绝（403）"
            ),
            "local_testing": (
                "本机可用 hotline phone call / hotline phone sms 试用"
                f"（本机令牌 {local_token_path()}）"
                if local
                else "没有本机令牌：用 hotline up（make run）启动会创建"
            ),
            "how_to_configure": (
                "设置 TWILIO_AUTH_TOKEN，代理之后再设 HOTLINE_PUBLIC_URL，见 README"
            ),
        }

    def blueprint(self, on_new_message) -> Blueprint:
        """GET / for health; POST /webhook, refused with 403 unless the provider signed it."""
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            status, body = self.health()
            return response.json(body, status=status)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                return response.text("签名无效", status=403)
            return await self.handle(request, on_new_message)

        return hook

    async def handle(self, request: Request, on_new_message) -> HTTPResponse:
        """One signed webhook: answer with the provider's markup."""
        raise NotImplementedError

    def xml_reply(self, body: str) -> HTTPResponse:
        return response.text(body, content_type=self.provider.content_type)

    @staticmethod
    def form(request: Request) -> dict[str, str]:
        return {key: request.form.get(key) for key in request.form}

    def signed_url(self, request: Request) -> str:
        """The URL the provider signed: the public address when the server sits behind a proxy."""
        if self.public_url is None:
            return request.url
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{self.public_url}{request.path}{query}"

    def is_local(self, request: Request) -> bool:
        """From this machine, directly: the loopback address, no proxy in between."""
        if self.public_url is not None:
            return False
        if any(request.headers.get(h) for h in FORWARDING_HEADERS):
            return False
        return (request.ip or "") in LOOPBACK

    def token_for(self, request: Request) -> str | None:
        """The token the request must be signed with: the real one, or (only when none is set,
        only from this machine) the local one."""
        if self.auth_token:
            return self.auth_token
        if self.is_local(request):
            return read_local_token()
        return None

    def is_signed(self, request: Request) -> bool:
        signature = request.headers.get(self.provider.signature_header, "")
        token = self.token_for(request)
        if token is None:
            logger.error(
                "refused %s webhook from %s: TWILIO_AUTH_TOKEN is not set (the local token is "
                "accepted only from this machine)",
                self.name(),
                request.ip,
            )
            return False
        ok = self.provider.is_valid(token, self.signed_url(request), self.form(request), signature)
        if not ok:
            logger.warning(
                "refused %s webhook with a bad or missing signature from %s (%s)",
                self.name(),
                request.ip,
                request.path,
            )
        return ok

    @staticmethod
    def delivery_id(request: Request, *parts: str | None) -> str:
        """One id per delivery that Twilio keeps when it retries the same webhook."""
        token = request.headers.get("I-Twilio-Idempotency-Token")
        if token:
            return f"twilio-{token}"[:100]
        return "twilio-" + hashlib.sha256("\n".join(p or "" for p in parts).encode()).hexdigest()

    @staticmethod
    async def tracker(request: Request, sender: str):
        """The conversation as stored, read once per request (until the bot takes a turn): a
        retrieve rebuilds the tracker from every event, on the event loop."""
        cache = getattr(request.ctx, "trackers", None)
        if cache is None:
            cache = request.ctx.trackers = {}
        if sender not in cache:
            cache[sender] = await request.app.ctx.agent.tracker_store.retrieve(sender)
        return cache[sender]

    async def last_said(self, request: Request, phone: str) -> list[str]:
        """The bot's last turn (all its messages after the resident last spoke or wrote)."""
        from rasa.shared.core.events import BotUttered, UserUttered

        tracker = await self.tracker(request, phone)
        said: list[str] = []
        for event in reversed(tracker.events if tracker else []):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, BotUttered) and event.text:
                said.insert(0, event.text)
        return said

    @staticmethod
    def keep_saved(request: Request, sender: str) -> None:
        """After the bot's turn: the tracker Rasa just saved is the conversation now."""
        tracker = speedups.take_saved(request.app.ctx.agent.tracker_store, sender)
        if tracker is not None:
            if getattr(request.ctx, "trackers", None) is None:
                request.ctx.trackers = {}
            request.ctx.trackers[sender] = tracker

    @staticmethod
    def forget_tracker(request: Request, sender: str) -> None:
        cache = getattr(request.ctx, "trackers", None)
        if cache is not None:
            cache.pop(sender, None)

    async def slots(self, request: Request, sender: str) -> dict[str, Any]:
        tracker = await self.tracker(request, sender)
        return dict(tracker.current_slot_values()) if tracker else {}

    @staticmethod
    def store_engine(request: Request):
        """The tracker store's SQL engine (Rasa's SQLTrackerStore), or None for another store."""
        store = request.app.ctx.agent.tracker_store
        store = getattr(store, "_tracker_store", store)
        return getattr(store, "engine", None)

    def seen_in_store(self, request: Request, sender: str, message_id: str) -> bool | None:
        """Whether the conversation holds a message with this id, asked of the SQL tracker
        store in one indexed query instead of rebuilding the tracker from every event (a resent
        webhook is rare; this is asked on every one). None: the store cannot say."""
        engine = self.store_engine(request)
        if engine is None:
            return None
        from sqlalchemy import text

        pattern = '%"message_id": "' + message_id.replace("%", "") + '"%'
        try:
            with engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT 1 FROM events WHERE sender_id = :s AND type_name = 'user' "
                        "AND data LIKE :p LIMIT 1"
                    ),
                    {"s": sender, "p": pattern},
                ).first()
        except Exception:  # another schema: fall back to the tracker
            logger.exception("message id lookup in the tracker store failed")
            return None
        return row is not None

    async def earlier_reply(self, request: Request, sender: str, message_id: str):
        """The bot's messages after this delivery's user message, if it was handled before."""
        if self.seen_in_store(request, sender, message_id) is False:
            return None
        tracker = await self.tracker(request, sender)
        if tracker is None:
            return None
        found, messages = False, []
        for event in tracker.events:
            if isinstance(event, UserUttered):
                if found:
                    break
                found = event.message_id == message_id
            elif found and isinstance(event, BotUttered):
                messages.append({"text": event.text, "custom": (event.data or {}).get("custom")})
        return messages if found else None

    async def ask_bot(
        self,
        on_new_message,
        sender: str,
        text: str,
        message_id: str,
        phone: str | None,
        request: Request | None = None,
        **metadata: Any,
    ) -> list[dict[str, Any]]:
        if request is not None:
            self.forget_tracker(request, sender)  # the turn changes it
            speedups.expect_save(request.app.ctx.agent.tracker_store, sender)
        collector = collector_for(self.name())
        try:
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata={"phone": phone, **metadata},
                )
            )
        finally:
            if request is not None:
                self.keep_saved(request, sender)
        return collector.messages

    @staticmethod
    def texts(messages: list[dict[str, Any]]) -> list[str]:
        return [m["text"] for m in messages if m.get("text")]

    @staticmethod
    def flags(messages: list[dict[str, Any]]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for message in messages:
            if isinstance(message.get("custom"), dict):
                merged.update(message["custom"])
        return merged
