"""What a key press means depends on what the bot just asked. Pure functions: given the
conversation's state (Rasa slots) and the digits, the text to hand the bot, or a channel-level
step (repeat, voicemail, policy prompt)."""

from __future__ import annotations

from dataclasses import dataclass

MENU = "反映问题请按1，查询进度请按2，政策咨询请按3，转人工请按0，重听请按星号。"
YES_NO = "对请按1，不对请按2。"
ANONYMITY = "匿名请按1，留名请按2。"
DIGITS = "也可以用按键输入，输完按井号键。"
# Rasa treats "/intent" as that intent, skipping the language model.
MENU_INTENTS = {"1": "/report_problem", "2": "/check_case", "0": "/ask_human"}


@dataclass(frozen=True)
class KeyAction:
    text: str | None = None  # hand this to the bot as what the caller said
    step: str | None = None  # or handle it in the channel: repeat, voicemail, policy


def context_of(slots: dict) -> str:
    """Which question is open: 'number' (phone or case number), 'anonymity', 'yes_no', 'menu'."""
    requested = slots.get("requested_slot")
    if requested in ("phone", "case_number"):
        return "number"
    if requested == "anonymity":
        return "anonymity"
    if requested == "complaint_text":
        return "speech"
    if slots.get("awaiting") in ("confirm", "handoff_offer", "resume"):
        return "yes_no"
    return "menu"


def interpret(digits: str, slots: dict) -> KeyAction:
    digits = digits.strip().rstrip("#")
    if digits == "*":
        return KeyAction(step="repeat")
    context = context_of(slots)
    if context == "number" or len(digits) > 1:
        return KeyAction(text=digits.replace("*", ""))
    if context == "anonymity":
        return KeyAction(text={"1": "匿名", "2": "留名"}.get(digits, digits))
    if context == "yes_no":
        return KeyAction(text={"1": "对", "2": "不对"}.get(digits, digits))
    if digits == "3":
        return KeyAction(step="policy")
    if digits == "9":
        return KeyAction(step="voicemail")
    return KeyAction(text=MENU_INTENTS.get(digits, digits))


def key_hint(slots: dict) -> str | None:
    """The keypad line to add after the bot's words, for the question now open."""
    return {
        "number": DIGITS,
        "anonymity": ANONYMITY,
        "yes_no": YES_NO,
        "menu": None,
        "speech": None,
    }[context_of(slots)]


def digits_expected(slots: dict) -> int | None:
    """numDigits for the next <Gather>: one key answers a menu or a yes/no at once; numbers
    end with # (or a pause)."""
    return None if context_of(slots) in ("number", "speech") else 1
