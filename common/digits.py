"""Digits as residents give them: typed, full-width, or spoken (一二三, 幺, 两, 洞, 拐), with
spaces and dashes in between, and as the bot says them back: one digit at a time. Pure functions
shared by the bot, its channels and the case service."""

from __future__ import annotations

import re
import unicodedata

from common.case_numbers import LENGTH as CASE_NUMBER_LENGTH
from common.case_numbers import is_valid as is_valid_case_number

# Telephone operators and speech recognisers say 幺 for 1, 两 for 2, 洞 for 0, 拐 for 7, 勾 for 9.
_SPOKEN_DIGITS = str.maketrans("零〇○洞一幺么两二三四五六七拐八九勾", "000011122345677899")
# Digits a person reads as one number may be spaced or dashed, or broken by a hesitation a
# speech recogniser writes down ("幺八九 嗯 五六四三"), never split across lines.
_RUN = re.compile(r"\d(?:(?:[ \t\u3000\-—_.,，、]|嗯|啊|呃|额|哦)*\d)*")
_CHUNK = re.compile(r"\d+")
_SEPARATORS = re.compile(r"\D")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def to_digits(text: str) -> str:
    """Full-width to ASCII and spoken digits to digits; everything else is kept."""
    return unicodedata.normalize("NFKC", text).translate(_SPOKEN_DIGITS)


def digit_runs(text: str) -> list[str]:
    """Runs of digits a person would read as one number ('3141 5926' is one run)."""
    return [_SEPARATORS.sub("", m.group()) for m in _RUN.finditer(to_digits(text))]


def is_phone(digits: str) -> bool:
    return bool(_MOBILE.match(digits) or _LANDLINE.match(digits))


def _pieces(run: str) -> list[str]:
    """A run may hold a case number and a phone said in one breath: split where both parse."""
    if is_valid_case_number(run) or is_phone(run):
        return [run]
    for cut in (CASE_NUMBER_LENGTH, len(run) - CASE_NUMBER_LENGTH):
        head, tail = run[:cut], run[cut:]
        case_first = is_valid_case_number(head) and is_phone(tail)
        if case_first or (is_phone(head) and is_valid_case_number(tail)):
            return [head, tail]
    return [run]


def numbers_in(text: str) -> list[str]:
    """The numbers in a text; a run that makes no phone or case number as a whole (a phone
    followed by a year, '13866172305 2026年') is also read chunk by chunk as written."""
    found: list[str] = []
    digits = to_digits(text)
    for match in _RUN.finditer(digits):
        run = _SEPARATORS.sub("", match.group())
        pieces = _pieces(run)
        found += pieces
        if len(run) > 11 and not any(is_phone(p) or is_valid_case_number(p) for p in pieces):
            found += [c for c in _CHUNK.findall(match.group()) if c != run]
    return found


def find_phone(text: str) -> str | None:
    return next((n for n in numbers_in(text) if is_phone(n)), None)


def find_case_number(text: str) -> tuple[str | None, bool]:
    """(a valid case number, whether the text held an 8-digit number that failed its check)."""
    numbers = numbers_in(text)
    valid = next((n for n in numbers if is_valid_case_number(n)), None)
    near_miss = any(len(n) == CASE_NUMBER_LENGTH and not is_valid_case_number(n) for n in numbers)
    return valid, valid is None and near_miss


def say_digits(digits: str) -> str:
    """'31415926' → '3 1 4 1 5 9 2 6': read one digit at a time."""
    return " ".join(digits)


# How a Mandarin voice reads a digit on its own (幺 for 1, as operators say it: 一 and 七 are
# easily confused on a phone line).
_SAY_DIGIT = dict(zip("0123456789", "零幺二三四五六七八九", strict=True))


def speak_digits(digits: str) -> str:
    """'13912345678' → '幺三九 幺二三四 五六七八': every digit a syllable, in groups a listener can
    hold (3-4-4 for mobiles, 4-4 for case numbers), so a voice never reads 三千四百万."""
    only = "".join(ch for ch in to_digits(digits) if ch.isdigit())
    sizes = (3, 4, 4) if len(only) == 11 else (4,) * ((len(only) + 3) // 4)
    groups, start = [], 0
    for size in sizes:
        if start >= len(only):
            break
        groups.append("".join(_SAY_DIGIT[ch] for ch in only[start : start + size]))
        start += size
    return " ".join(groups)
