"""Case numbers residents can say on the phone and type on a keypad.

Eight digits: seven drawn at random (first never 0, so no system drops it) and a Damm check
digit, which catches every single mistyped digit and every swap of two neighbours. Random, not
sequential, so nobody can walk from their own number to a neighbour's case; the database's
unique constraint makes sure a number is never issued twice.
"""

from __future__ import annotations

import re
import secrets

LENGTH = 8

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_NOT_DIGIT = re.compile(r"[\s\-—_.,，。、]+")


def check_digit(digits: str) -> str:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def new_case_number() -> str:
    body = str(secrets.randbelow(9 * 10 ** (LENGTH - 2)) + 10 ** (LENGTH - 2))
    return body + check_digit(body)


def is_valid(number: str) -> bool:
    return (
        len(number) == LENGTH
        and number.isascii()
        and number.isdigit()
        and number[0] != "0"
        and check_digit(number) == "0"
    )


def parse_case_number(raw: str) -> str | None:
    """Read a number as residents give it: '1234 5678', '一二三四五六七八', '幺三…', full-width."""
    from common.digits import to_digits

    text = _NOT_DIGIT.sub("", to_digits(raw))
    return text if is_valid(text) else None
