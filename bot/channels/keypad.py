"""What a key press means depends on what the bot just asked. Pure functions: given the
conversation's state (Rasa slots) and the digits, the text to hand the bot, or a channel-level
step (repeat, voicemail, policy prompt).

What the bot is sent for each key (the dialogue relies on it):

- at every question: ``0`` → ``/ask_human``; ``*`` (or ``#`` alone) → nothing (the channel
  repeats the bot's last turn); keys ending with ``#`` have the ``#`` dropped
- main menu (nothing open, one key): 1 → ``/report_problem``, 2 → ``/check_case``, 3 → nothing
  (the channel asks which policy; the next speech goes to the bot as said), 9 → nothing
  (voicemail), other keys → nothing (the menu again)
- a number asked (``requested_slot`` phone or case_number): the digits as keyed, "88248476"
- several digits at any other question (keys while the bot waits for words): the digits as
  keyed, so a number reaches the bot as a number, never wrapped in a payload
- yes/no (``awaiting`` confirm, amend, handoff_offer, resume): 1 → "对", 2 → "不对"
- anonymity: 1 → "匿名", 2 → "留名"
- a rating (``awaiting`` rating, rating_offer): 1 → "满意", 2 → "基本满意", 3 → "不满意"
- village (``requested_slot`` village, ``township`` known): k → the k-th village of the
  township in config/places.yml, e.g. "河湾村"
- silence: nothing (the channel asks again, then offers a person or voicemail)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

MENU = "反映问题请按1，查询进度请按2，政策咨询请按3，转人工请按0，重听请按星号。"
YES_NO = "对请按1，不对请按2。"
ANONYMITY = "匿名请按1，留名请按2。"
RATING = "满意请按1，基本满意请按2，不满意请按3。"
DIGITS = "也可以用按键输入，输完按井号键。"
ALWAYS = "转人工请按0，重听请按星号。"
# Rasa treats "/intent" as that intent, skipping the language model.
MENU_INTENTS = {"1": "/report_problem", "2": "/check_case", "0": "/ask_human"}
HUMAN = "/ask_human"
PLACES = Path(__file__).resolve().parents[2] / "config" / "places.yml"
MAX_LISTED = 9  # villages offered on the keypad (keys 1-9)


@dataclass(frozen=True)
class KeyAction:
    text: str | None = None  # hand this to the bot as what the caller said
    step: str | None = None  # or handle it in the channel: repeat, voicemail, policy


@lru_cache(maxsize=4)
def _gazetteer(path: Path = PLACES) -> dict[str, list[str]]:
    """Township name (and its aliases) → its villages, in the gazetteer's order."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    out: dict[str, list[str]] = {}
    for township in data.get("townships") or []:
        names = [v["name"] for v in township.get("villages") or [] if v.get("name")]
        for key in [township.get("name"), *(township.get("aliases") or [])]:
            if key:
                out[key] = names
    return out


def villages_of(slots: dict) -> list[str]:
    """The villages the keypad offers when the bot asks for the village: those of the caller's
    township (the ``township`` slot), when the gazetteer knows it and it has at most 9."""
    if slots.get("requested_slot") != "village":
        return []
    found = _gazetteer().get(str(slots.get("township") or "").strip(), [])
    return found if 0 < len(found) <= MAX_LISTED else []


def context_of(slots: dict) -> str:
    """Which question is open: 'number' (phone or case number), 'anonymity', 'yes_no',
    'rating', 'village' (a keyed list), 'speech' (an answer in words), 'menu'."""
    requested = slots.get("requested_slot")
    if requested in ("phone", "case_number") or slots.get("phone_start"):
        return "number"  # phone_start: the rest of a phone said in pieces after the record
    if requested == "anonymity":
        return "anonymity"
    if requested == "village" and villages_of(slots):
        return "village"
    if requested:
        return "speech"
    if slots.get("awaiting") in ("confirm", "amend", "handoff_offer", "resume"):
        return "yes_no"
    if slots.get("awaiting") in ("rating", "rating_offer"):
        return "rating"
    if slots.get("awaiting"):
        return "speech"
    return "menu"


def interpret(digits: str, slots: dict) -> KeyAction:
    digits = digits.strip().rstrip("#").strip()
    if digits == "*" or (digits and set(digits) <= {"*"}):
        return KeyAction(step="repeat")
    digits = digits.replace("*", "")
    if not digits:  # only # pressed: nothing keyed, say the question again
        return KeyAction(step="repeat")
    if digits == "0":
        return KeyAction(text=HUMAN)
    context = context_of(slots)
    if context == "number" or len(digits) > 1:
        return KeyAction(text=digits)
    if context == "anonymity":
        return KeyAction(text={"1": "匿名", "2": "留名"}.get(digits, digits))
    if context == "yes_no":
        return KeyAction(text={"1": "对", "2": "不对"}.get(digits, digits))
    if context == "rating":
        return KeyAction(text={"1": "满意", "2": "基本满意", "3": "不满意"}.get(digits, digits))
    if context == "village":
        listed = villages_of(slots)
        index = int(digits) - 1
        return KeyAction(text=listed[index] if 0 <= index < len(listed) else digits)
    if context == "speech":
        return KeyAction(text=digits)
    if digits == "3":
        return KeyAction(step="policy")
    if digits == "9":
        return KeyAction(step="voicemail")
    if digits in MENU_INTENTS:
        return KeyAction(text=MENU_INTENTS[digits])
    return KeyAction(step="menu")  # a key the menu does not have: say the menu again


def village_menu(slots: dict) -> str | None:
    """'按1 河湾村，按2 柳树村……': the keyed list for the caller's township."""
    listed = villages_of(slots)
    if not listed:
        return None
    return "，".join(f"{name}按{i}" for i, name in enumerate(listed, 1)) + "。"


def key_hint(slots: dict) -> str | None:
    """The keypad line to add after the bot's words, for the question now open: every
    question says how to reach a person and hear it again."""
    context = context_of(slots)
    if context == "village":
        return f"也可以按键选村：{village_menu(slots)}{ALWAYS}"
    return {
        "number": DIGITS + ALWAYS,
        "anonymity": ANONYMITY + ALWAYS,
        "yes_no": YES_NO + ALWAYS,
        "rating": RATING + ALWAYS,
        "menu": None,
        "speech": None,
    }[context]


def digits_expected(slots: dict) -> int | None:
    """numDigits for the next <Gather>: one key answers the menu, a yes/no, anonymity or a short
    village list at once; numbers (and keys while the bot waits for words) end with #."""
    keyed = ("menu", "yes_no", "anonymity", "village", "rating")
    return 1 if context_of(slots) in keyed else None
