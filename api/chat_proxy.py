"""The chat page's messages to the bot: the case service passes them to Rasa's ``hotline_web``
channel (same origin for the page, so no CORS and Rasa's port stays private).

A phone on a slow connection resends a message whose answer it never got; each message carries
an id chosen by the page, and a resend of an id already answered (or still being answered) in
this process gets that answer instead of a second turn. Kept per process for a few minutes:
with several service processes a resend landing on another process is answered again."""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx

from api.chat_places import PosterPlace

SENDER = re.compile(r"^[a-z]{16,40}$")  # letters only: never mistaken for a phone number
MESSAGE_ID = re.compile(r"^[a-z0-9]{6,40}$")
SENDER_PREFIX = "web-"
RASA_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
REMEMBER_SECONDS = 600
REMEMBER_MAX = 5000


class BotUnavailable(Exception):
    """Rasa did not answer (down, or an error): the page tries again later."""


@dataclass(frozen=True)
class BotMessage:
    text: str | None
    buttons: list[dict[str, str]]
    custom: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = self.text
        if self.buttons:
            out["buttons"] = self.buttons
        if self.custom:
            out["custom"] = self.custom
        return out


def _plain(messages: Any) -> list[BotMessage]:
    """Only what the page shows: text, buttons (title and payload), a custom hint."""
    out: list[BotMessage] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        buttons = [
            {"title": str(b.get("title")), "payload": str(b.get("payload"))}
            for b in message.get("buttons") or []
            if isinstance(b, dict) and b.get("title") and b.get("payload")
        ]
        custom = message.get("custom") if isinstance(message.get("custom"), dict) else None
        text = message.get("text") if isinstance(message.get("text"), str) else None
        if text or buttons or custom:
            out.append(BotMessage(text, buttons, custom))
    return out


class ChatRelay:
    def __init__(self, rasa_url: str) -> None:
        self.webhook = rasa_url.rstrip("/") + "/webhooks/hotline_web/webhook"
        self._answers: OrderedDict[tuple[str, str], tuple[float, asyncio.Future]] = OrderedDict()
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=RASA_TIMEOUT)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - REMEMBER_SECONDS
        while self._answers and (
            len(self._answers) > REMEMBER_MAX or next(iter(self._answers.values()))[0] < cutoff
        ):
            self._answers.popitem(last=False)

    async def send(
        self, sender: str, message_id: str, text: str, place: PosterPlace | None
    ) -> list[BotMessage]:
        """The bot's answer to one message, once per (sender, message id)."""
        self._forget_old()
        key = (sender, message_id)
        known = self._answers.get(key)
        if known is not None and not (known[1].done() and known[1].exception()):
            return await asyncio.shield(known[1])
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._answers[key] = (time.monotonic(), future)
        try:
            answer = await self._post(sender, text, place)
        except BotUnavailable as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a resend tries Rasa again
            del self._answers[key]
            raise
        future.set_result(answer)
        return answer

    async def _post(self, sender: str, text: str, place: PosterPlace | None) -> list[BotMessage]:
        body: dict[str, Any] = {"sender": SENDER_PREFIX + sender, "message": text}
        if place is not None:
            body["metadata"] = {"village": place.village, "township": place.township}
        try:
            response = await self._http().post(self.webhook, json=body)
        except httpx.HTTPError as exc:
            raise BotUnavailable(str(exc)) from exc
        if response.status_code != 200:
            raise BotUnavailable(f"rasa answered {response.status_code}")
        try:
            return _plain(response.json())
        except ValueError as exc:
            raise BotUnavailable("rasa answered no JSON") from exc
