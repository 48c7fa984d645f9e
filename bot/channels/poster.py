"""What the chat page may tell the bot besides the message: the village and township of the QR
poster it was opened from (read by ``actions/filing.py``). Pure, so tested without Rasa."""

from __future__ import annotations

from typing import Any

POSTER_KEYS = ("village", "township")
MAX_PLACE_CHARS = 20


def poster_metadata(body: Any) -> dict[str, Any] | None:
    """{"village", "township"} from a request body's metadata, short strings only; else None.
    Anything else (a phone, a channel name) is dropped."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(metadata, dict):
        return None
    kept = {}
    for key in POSTER_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and 0 < len(value.strip()) <= MAX_PLACE_CHARS:
            kept[key] = value.strip()
    return kept or None
