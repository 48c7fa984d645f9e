"""One turn of a conversation as the flows see it: what the resident just said, what the bot
remembers (slots), and what the bot answers (responses from the domain, slot changes).

The flows (``filing``, ``lookup``, ``helpdesk``) read a ``Turn`` and write to it; ``turn.py``
builds it from Rasa's tracker and hands the result back to Rasa. Keeping Rasa at the edge makes
the dialogue plain code that can be read top to bottom."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.digits import find_phone, say_digits, speak_digits

# Channels whose sender is a phone number verified by the carrier (see bot/channels).
PHONE_CHANNELS = {"hotline_voice": "voice", "hotline_sms": "sms"}

# Everything that belongs to one complaint being filed; cleared when it is filed or dropped.
FILING_SLOTS = (
    "complaint_text",
    "category",
    "category_name",
    "top_items",
    "resident_category",
    "village",
    "township",
    "village_group",
    "village_known",
    "village_tries",
    "township_asked",
    "anonymity",
    "name",
    "person_wanted",  # a person was asked for, but no phone left to call back
    "phone_start",  # the first digits of a phone said in two breaths
)


@dataclass
class Turn:
    text: str
    intent: str
    confidence: float
    input_channel: str
    sender: str
    slots: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    said: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    extra: list[dict[str, Any]] = field(default_factory=list)  # json messages for channels
    # The resident told more of their story this turn: asking the same question again then is
    # no sign of being stuck.
    made_progress: bool = False

    # -- reading -------------------------------------------------------------------------------

    def slot(self, name: str) -> Any:
        return self.changes[name] if name in self.changes else self.slots.get(name)

    @property
    def channel(self) -> str:
        """The case service's channel name: web, sms or voice."""
        return PHONE_CHANNELS.get(self.input_channel, "web")

    @property
    def channel_phone(self) -> str | None:
        """The caller's or texter's own number, only from channels that verify it."""
        if self.channel == "web":
            return None
        return find_phone(str(self.metadata.get("phone") or self.sender))

    @property
    def is_command(self) -> bool:
        """A button or key payload ('/check_case'): never part of what the resident told."""
        return self.text.startswith("/")

    @property
    def content(self) -> str:
        return "" if self.is_command else self.text

    # -- writing -------------------------------------------------------------------------------

    def say(self, response: str, **values: Any) -> None:
        self.said.append((response, values))

    def set(self, **slots: Any) -> None:
        self.changes.update(slots)

    def ask(self, requested: str | None, response: str | None = None, **values: Any) -> None:
        """Ask one question and remember which, so the next message is read as its answer."""
        asked_before = (
            self.slots.get("requested_slot") == requested
            and requested is not None
            and not self.made_progress
        )
        self.set(
            requested_slot=requested,
            awaiting=None,
            reasked=int(self.slots.get("reasked") or 0) + 1 if asked_before else 0,
        )
        if response:
            self.say(response, **values)

    def asked_in_vain(self, requested: str, times: int = 3) -> bool:
        """The same question was asked ``times`` times and not answered: time to move on."""
        return (
            self.slots.get("requested_slot") == requested
            and int(self.slots.get("reasked") or 0) >= times - 1
            and self.slot("requested_slot") == requested
        )

    def await_answer(self, awaiting: str, response: str | None = None, **values: Any) -> None:
        """A yes/no question (a read-back, an offer of a person, continuing a draft)."""
        self.set(awaiting=awaiting, requested_slot=None)
        if response:
            self.say(response, **values)

    def clear_filing(self) -> None:
        self.set(**{name: None for name in FILING_SLOTS})
        self.set(village_tries=0)

    def signal(self, **flags: Any) -> None:
        """Tell the phone channels something (hang up, put a person on)."""
        self.extra.append(flags)


def number_values(number: str) -> dict[str, str]:
    """A case number as each channel says it: typed with spaces, or spoken digit by digit."""
    return {"number": say_digits(number), "number_spoken": speak_digits(number)}
