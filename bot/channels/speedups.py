"""Two costs of a phone turn inside the Rasa process, measured with py-spy under
`hotline bench phone` (10 calls at once): together about half of Rasa's CPU per webhook, and one
Rasa process serves every call, so they decide the queueing delay a caller hears.

- Rasa validates every action-server answer with ``jsonschema.validate``, which checks the
  (fixed) schema itself against the JSON Schema meta-schema each time (~25% of the CPU). The
  same validation with the validator built once.
- After the bot's turn the channels need the conversation's slots; reading them back from the
  tracker store replays every event (~14%). Rasa has just saved that very tracker: the store's
  ``save`` keeps it for the request that is waiting for it.

Both keep Rasa's behaviour; they apply once, when the phone channels are created (so only in the
Rasa server)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    try:
        _cache_action_validator()
    except Exception:  # an unexpected Rasa version: keep its own (slower) check
        logger.exception("action result validator not cached")


def _cache_action_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once
    validator = cls(schema)

    def validate(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        if not isinstance(error, ValidationError):  # pragma: no cover - best_match gives one
            raise ValidationError(str(error))
        raise error

    RemoteAction._validate_action_result = validate


def expect_save(store: Any, sender: str) -> None:
    """Before a phone turn: keep the tracker Rasa will save for this sender (only for senders
    a channel is waiting for, so web conversations are never held in memory)."""
    waiting = getattr(store, "_hotline_waiting", None)
    if waiting is None:
        waiting = {}
        original = store.save

        async def save(tracker: Any) -> None:
            await original(tracker)
            if tracker.sender_id in waiting:
                waiting[tracker.sender_id] = tracker

        store.save = save
        store._hotline_waiting = waiting
    waiting[sender] = None


def take_saved(store: Any, sender: str) -> Any | None:
    """After the turn: the tracker saved for this sender (None if none was), forgotten here."""
    waiting = getattr(store, "_hotline_waiting", None)
    return waiting.pop(sender, None) if waiting is not None else None
