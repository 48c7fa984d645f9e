"""What the voice and SMS channels share: Twilio's request signature, the caller's number as the
conversation id (so a caller's calls and texts are one conversation), and answering a webhook
Twilio resends with the reply already given instead of a second one."""

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
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)


def caller_id(number: str | None) -> str | None:
    """'+86 139-1234-5678' → '13912345678': the same person on calls and texts."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


class TwilioChannel(InputChannel):
    """Base for the project's Twilio channels (Rasa's own twilio channels check no signature)."""

    def __init__(self, auth_token: str | None, public_url: str | None) -> None:
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.public_url = public_url.rstrip("/") if public_url else None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=os.environ.get(credentials.get("auth_token_env", "TWILIO_AUTH_TOKEN")),
            public_url=os.environ.get("HOTLINE_PUBLIC_URL") or credentials.get("public_url"),
        )

    def blueprint(self, on_new_message) -> Blueprint:
        """GET / for health; POST /webhook, refused with 403 unless Twilio signed it."""
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                return response.text("签名无效", status=403)
            return await self.handle(request, on_new_message)

        return hook

    async def handle(self, request: Request, on_new_message) -> HTTPResponse:
        """One signed webhook from Twilio: answer with TwiML."""
        raise NotImplementedError

    @staticmethod
    def xml_reply(body: str) -> HTTPResponse:
        return response.text(body, content_type="text/xml")

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the public address when the server sits behind a proxy."""
        if self.public_url is None:
            return request.url
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{self.public_url}{request.path}{query}"

    def is_signed(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if self.validator is None:
            logger.error("TWILIO_AUTH_TOKEN is not set: refusing every %s webhook", self.name())
            return False
        params = {key: request.form.get(key) for key in request.form}
        ok = bool(signature) and self.validator.validate(
            self.signed_url(request), params, signature
        )
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
        return await request.app.ctx.agent.tracker_store.retrieve(sender)

    async def slots(self, request: Request, sender: str) -> dict[str, Any]:
        tracker = await self.tracker(request, sender)
        return dict(tracker.current_slot_values()) if tracker else {}

    async def earlier_reply(self, request: Request, sender: str, message_id: str):
        """The bot's messages after this delivery's user message, if it was handled before."""
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
        self, on_new_message, sender: str, text: str, message_id: str, phone: str | None
    ) -> list[dict[str, Any]]:
        collector = CollectingOutputChannel()
        await on_new_message(
            UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                message_id=message_id,
                metadata={"phone": phone},
            )
        )
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
