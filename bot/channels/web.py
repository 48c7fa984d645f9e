"""The chat page's channel (``/chat`` on the case service proxies here): Rasa's REST channel
under its own name, taking from the request only what the page may say.

The plain ``rest`` channel trusts the body's ``input_channel`` and whole ``metadata``, so a
caller could pass as the SMS channel and have a phone number taken as verified. Here the
channel is always ``hotline_web`` and the metadata is only the village and township the page
was opened for (from a village's QR poster), which the actions check against the gazetteer."""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

POSTER_KEYS = ("village", "township")
MAX_PLACE_CHARS = 20


def poster_metadata(body: Any) -> Optional[Dict[Text, Any]]:
    """{"village", "township"} from the body's metadata, short strings only; else None."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(metadata, dict):
        return None
    kept = {
        key: value.strip()
        for key in POSTER_KEYS
        if isinstance(value := metadata.get(key), str) and 0 < len(value.strip()) <= MAX_PLACE_CHARS
    }
    return kept or None


class HotlineWebInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "hotline_web"

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return poster_metadata(request.json)
