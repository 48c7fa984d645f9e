"""TwiML and texts for callers and texters. Pure functions.

Voice: slow, short Mandarin sentences (no ``<Say>`` over 30 characters: a long sentence on a
phone line is lost by the end), every number read one digit at a time (Polly reads "34377550"
as 三千四百多万), dates as a person says them (12月18日). SMS: replies packed into as few
70-character segments as possible, broken between clauses or words, never inside a word; long
answers cut to two segments with "回复1看全文"; 回复, never 说, in a text message."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

VOICE = "Polly.Zhiyu"  # Amazon Polly's Mandarin voice, served by Twilio
SAY_LANGUAGE = "cmn-CN"
LISTEN_LANGUAGE = "cmn-Hans-CN"
RATE = "85%"  # slower than normal speech: many callers are old
SMS_SEGMENT = 70  # characters in one Chinese (UCS-2) SMS
SAY_MAX = 30  # characters in one <Say>
SMS_MAX_SEGMENTS = 2  # a longer answer is cut, the rest sent on "1"
MORE_HINT = "回复1看全文。"

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_CLAUSE_END = re.compile(r"(?<=[，,、：:）)])")
_DIGIT_CHAR = "[0-9零幺一二三四五六七八九]"
# A case number after 案件号/登记号: typed (34377550, 3 4 3 7 …) or spoken (三四三七 七五五零).
_CASE_NUMBER = re.compile(
    rf"((?:案件号|登记号)[是为：:\s]*)({_DIGIT_CHAR}(?: ?{_DIGIT_CHAR}){{7}})(?!{_DIGIT_CHAR})"
)
# The verbs and nouns Twilio's TwiML knows (voice and messaging); tests check replies use no other.
TWILIO_ELEMENTS = {
    "Response", "Say", "Play", "Gather", "Record", "Dial", "Number", "Hangup", "Pause",
    "Redirect", "Reject", "Enqueue", "Leave", "Message", "Body", "Media", "prosody", "break",
    "say-as", "emphasis", "p", "s", "sub", "w", "lang", "phoneme",
}  # fmt: skip


# -- how numbers are said ------------------------------------------------------------------------
_DIGIT_WORD = dict(zip("0123456789", "零幺二三四五六七八九", strict=True))
_NUMERAL = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*[-/]\s*(\d{1,2})(?=\s*(?:前|之前|以前|截止|到期))")
# A quantity (3000元, 120亩) is said as a number; any other run of 3+ digits (case numbers,
# phones, 12345) digit by digit.
_QUANTITY = re.compile(
    r"(?<![\d ])(\d{3,8})(?=\s*(?:元|块|万|亩|平|米|户|人|岁|个|天|斤|吨|次|公里))"
)
_DIGIT_RUN = re.compile(r"\d(?:[ \u00a0\-]?\d){2,}")


def speak_digit_run(run: str) -> str:
    """'13912345678' → '幺三九 幺二三四 五六七八': a syllable per digit, in groups a listener
    can hold (3-4-4 for a mobile, 4-4 for a case number); 幺 for 1, as operators say it."""
    digits = "".join(ch for ch in run if ch.isdigit())
    if len(digits) >= 10 and digits.startswith("0"):  # a landline: area code first
        groups = [digits[:4]] + [digits[i : i + 4] for i in range(4, len(digits), 4)]
    elif len(digits) == 11:
        groups = [digits[:3], digits[3:7], digits[7:]]
    elif len(digits) <= 5:
        groups = [digits]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
        if len(groups[-1]) == 1:
            groups[-2:] = [groups[-2] + groups[-1]]
    return " ".join("".join(_DIGIT_WORD[d] for d in g) for g in groups)


def chinese_number(value: int) -> str:
    """3000 → 三千, 120 → 一百二十, 10500 → 一万零五百 (a quantity, as a person says it)."""
    if value == 0:
        return "零"
    if value >= 10**8:
        return speak_digit_run(str(value))
    parts = []
    high, low = divmod(value, 10000)
    if high:
        parts.append(_below_10000(high) + "万")
        if low and low < 1000:
            parts.append("零")
    if low:
        parts.append(_below_10000(low))
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def _below_10000(value: int) -> str:
    out, zero = [], False
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit, value = divmod(value, size)
        if digit:
            if zero and out:
                out.append("零")
            out.append(_NUMERAL[str(digit)] + unit)
            zero = False
        elif out:
            zero = True
    return "".join(out)


def _say_date(match: re.Match, today: date | None = None) -> str:
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    this_year = (today or date.today()).year
    said = f"{month}月{day}日"
    if year != this_year:
        said = "".join(_NUMERAL[d] for d in str(year)) + "年" + said
    return said


def spoken(text: str, today: date | None = None) -> str:
    """Text as the voice should read it: dates as 12月18日, quantities as numbers, every other
    run of three or more digits one digit at a time (never an ASCII digit run)."""
    text = _DATE.sub(lambda m: _say_date(m, today), text)
    text = _MONTH_DAY.sub(lambda m: f"{int(m[1])}月{int(m[2])}日", text)
    text = _QUANTITY.sub(lambda m: chinese_number(int(m[1])), text)
    return _DIGIT_RUN.sub(lambda m: speak_digit_run(m[0]), text)


def sentences(text: str) -> list[str]:
    """'短句一。短句二？' → ['短句一。', '短句二？']."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def warm_up() -> None:
    """Load jieba's dictionary now (about a second), not in the first long reply's request."""
    _words("热线")


def _words(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.cut(text, HMM=False) if w]


def _pack(pieces: list[str], limit: int) -> list[str]:
    """Greedily join consecutive pieces into parts of at most ``limit`` characters."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(piece) <= limit:
            out[-1] += piece
        else:
            out.append(piece)
    return out


def _cut_at_words(text: str, limit: int) -> list[str]:
    """A clause longer than ``limit``: break between jieba's words (a word longer than the
    limit, which no real word is, is cut)."""
    pieces: list[str] = []
    for word in _words(text):
        while len(word) > limit:
            pieces.append(word[:limit])
            word = word[limit:]
        pieces.append(word)
    return _pack(pieces, limit)


def short_pieces(text: str, limit: int) -> list[str]:
    """Break text into parts of at most ``limit`` characters: between sentences where it can,
    then between clauses, then between words."""
    parts: list[str] = []
    for sentence in sentences(text) or [text]:
        if len(sentence) <= limit:
            parts.append(sentence)
            continue
        clauses: list[str] = []
        for clause in (c for c in _CLAUSE_END.split(sentence) if c):
            clauses.extend([clause] if len(clause) <= limit else _cut_at_words(clause, limit))
        parts.extend(_pack(clauses, limit))
    return [p.strip() for p in parts if p.strip()]


def say_lines(text: str, today: date | None = None) -> list[str]:
    """One bot text as the <Say>s of a call: case numbers twice, numbers spoken, short pieces."""
    return short_pieces(spoken(repeat_case_numbers(text), today), SAY_MAX)


def repeat_case_numbers(text: str) -> str:
    """A case number said on the phone is said twice (unless the text already does)."""
    if "再说一遍" in text or "再说一次" in text:
        return text
    return _CASE_NUMBER.sub(lambda m: f"{m[1]}{m[2].strip()}，我再说一遍，{m[2].strip()}", text)


# -- voice -----------------------------------------------------------------------------------
def _say(parent, text: str) -> None:
    say = parent.say(voice=VOICE, language=SAY_LANGUAGE)
    say.prosody(text, rate=RATE)


def _say_all(parent, texts: list[str], pause_between: bool = True) -> None:
    for i, text in enumerate(texts):
        if i and pause_between:
            parent.pause(length=1)
        for line in say_lines(text):
            _say(parent, line)


def action_url(base: str, **params: str | int) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def gather_reply(
    texts: list[str], *, action: str, hints: str, num_digits: int | None = None, timeout: int = 6
) -> str:
    """Say the bot's sentences inside a <Gather> that listens for speech or keys."""
    response = VoiceResponse()
    options: dict = {
        "input": "speech dtmf",
        "language": LISTEN_LANGUAGE,
        "hints": hints,
        "action": action,
        "method": "POST",
        "action_on_empty_result": True,
        "speech_timeout": "auto",
        "timeout": timeout,
        "finish_on_key": "#",
    }
    if num_digits:
        options["num_digits"] = num_digits
    gather = Gather(**options)
    _say_all(gather, texts)
    response.append(gather)
    return str(response)


def final_reply(texts: list[str], *, dial: str | None = None) -> str:
    """The last words of a call: say them, then connect to a person or hang up."""
    response = VoiceResponse()
    _say_all(response, texts, pause_between=False)
    if dial:
        response.dial(dial, timeout=30)
    if not any("再见" in text for text in texts):
        _say(response, "再见。")
    response.hangup()
    return str(response)


def record_reply(prompt: str, *, action: str, max_seconds: int = 120) -> str:
    """Voicemail: the caller speaks after the beep; the recording's URL goes on a case."""
    response = VoiceResponse()
    _say_all(response, [prompt])
    response.record(
        action=action, method="POST", max_length=max_seconds, play_beep=True, finish_on_key="#"
    )
    return str(response)


# -- SMS -------------------------------------------------------------------------------------
_SMS_WORDING = (
    (re.compile(r"请直接说"), "请直接回复"),
    (re.compile(r"请说"), "请回复"),
    (re.compile(r"可以说(?=[“\"「])"), "可以回复"),
    (re.compile(r"(?<![听再])说(?=[“\"「])"), "回复"),
    (re.compile(r"[，,]?说完(?:稍等一下|等一下)?(?=[。！？!?]|$)"), ""),
)


def sms_wording(text: str) -> str:
    """A safety net for texts written for the voice: "请说" → "请回复", 说“X” → 回复“X”."""
    for pattern, replacement in _SMS_WORDING:
        text = pattern.sub(replacement, text)
    return text


def sms_segments(text: str, limit: int = SMS_SEGMENT) -> list[str]:
    """Split a reply into as few SMS as possible, breaking between sentences where it can,
    else between clauses, else between words: never inside a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return [text] if text else []
    return _pack(short_pieces(text, limit), limit)


def _fine_pieces(text: str) -> list[str]:
    """Sentences, clauses and (inside a long clause) words: the places a text may be cut."""
    pieces: list[str] = []
    for sentence in sentences(text) or [text]:
        for clause in (c for c in _CLAUSE_END.split(sentence) if c):
            pieces.extend([clause] if len(clause) <= 12 else _words(clause))
    return pieces


def sms_fit(text: str, segments: int = SMS_MAX_SEGMENTS) -> tuple[str, str | None]:
    """(what to send now, the rest or None): a reply longer than ``segments`` segments is cut
    at a clause or word boundary, with "回复1看全文" so the resident can ask for the rest."""
    text = " ".join(text.split())
    if len(sms_segments(text)) <= segments:
        return text, None
    pieces = _fine_pieces(text)
    shown = ""
    for piece in pieces:
        candidate = shown + piece
        ending = "" if candidate[-1] in "。！？!?；;" else "…"
        if len(sms_segments(candidate.rstrip("，,、：: ") + ending + MORE_HINT)) > segments:
            break
        shown = candidate
    if not shown:  # nothing fits (one giant word): cut it
        shown = text[: SMS_SEGMENT * segments - len(MORE_HINT) - 1]
    rest = text[len(shown) :].lstrip("，,、：: ")
    ending = "" if shown[-1] in "。！？!?；;" else "…"
    return f"{shown.rstrip('，,、：: ')}{ending}{MORE_HINT}", rest or None


def compact_digits(text: str) -> str:
    """'3 1 4 1 5 9 2 6' (read aloud one by one) → '31415926' (typed back by SMS)."""
    return re.sub(r"\d(?: \d){6,}", lambda m: m[0].replace(" ", ""), text)


def sms_text(texts: list[str]) -> str:
    """The bot's messages as one text, worded for SMS."""
    return sms_wording(compact_digits("".join(t.strip() for t in texts if t.strip())))


def sms_reply(texts: list[str]) -> str:
    """A messaging reply: one <Message> per segment; none (an empty <Response/>) for no text."""
    response = MessagingResponse()
    for segment in sms_segments(sms_text(texts)):
        response.message(segment)
    return str(response)
