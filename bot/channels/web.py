"""The chat page's channel (``/chat`` on the case service proxies here): Rasa's REST channel
under its own name, taking from the request only what the page may say.

The plain ``rest`` channel trusts the body's ``input_channel`` and whole ``metadata``, so a
caller could pass as the SMS channel and have a phone number taken as verified. Here the
channel is always ``hotline_web`` and the metadata is only the village and township the page
was opened for (from a village's QR poster, ``bot/channels/poster.py``), which the actions
check against the gazetteer."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from bot.channels.poster import poster_metadata


class HotlineWebInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "hotline_web"

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return poster_metadata(request.json)
