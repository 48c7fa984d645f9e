"""TwiML for callers and texters: slow, short Mandarin sentences; digits read one by one; SMS
replies packed into as few 70-character segments as possible. Pure functions."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

VOICE = "Polly.Zhiyu"  # Amazon Polly's Mandarin voice, served by Twilio
SAY_LANGUAGE = "cmn-CN"
LISTEN_LANGUAGE = "cmn-Hans-CN"
RATE = "85%"  # slower than normal speech: many callers are old
SMS_SEGMENT = 70  # characters in one Chinese (UCS-2) SMS

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_CASE_NUMBER = re.compile(r"((?:案件号|登记号)[是为：:]*)((?:\d ){7}\d)")
# The verbs and nouns Twilio's TwiML knows (voice and messaging); tests check replies use no other.
TWILIO_ELEMENTS = {
    "Response", "Say", "Play", "Gather", "Record", "Dial", "Number", "Hangup", "Pause",
    "Redirect", "Reject", "Enqueue", "Leave", "Message", "Body", "Media", "prosody", "break",
    "say-as", "emphasis", "p", "s", "sub", "w", "lang", "phoneme",
}  # fmt: skip


def sentences(text: str) -> list[str]:
    """'短句一。短句二？' → ['短句一。', '短句二？']: one <Say> each, with a pause between."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def repeat_case_numbers(text: str) -> str:
    """A case number said on the phone is said twice."""
    return _CASE_NUMBER.sub(lambda m: f"{m[1]}{m[2]}，我再说一遍，{m[2]}", text)


def _say(parent, text: str) -> None:
    say = parent.say(voice=VOICE, language=SAY_LANGUAGE)
    say.prosody(text, rate=RATE)


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
    for i, text in enumerate(texts):
        if i:
            gather.pause(length=1)
        for sentence in sentences(repeat_case_numbers(text)):
            _say(gather, sentence)
    response.append(gather)
    return str(response)


def final_reply(texts: list[str], *, dial: str | None = None) -> str:
    """The last words of a call: say them, then connect to a person or hang up."""
    response = VoiceResponse()
    for text in texts:
        for sentence in sentences(repeat_case_numbers(text)):
            _say(response, sentence)
    if dial:
        response.dial(dial, timeout=30)
    if not any("再见" in text for text in texts):
        _say(response, "再见。")
    response.hangup()
    return str(response)


def record_reply(prompt: str, *, action: str, max_seconds: int = 120) -> str:
    """Voicemail: the caller speaks after the beep; the recording's URL goes on a case."""
    response = VoiceResponse()
    for sentence in sentences(prompt):
        _say(response, sentence)
    response.record(
        action=action, method="POST", max_length=max_seconds, play_beep=True, finish_on_key="#"
    )
    return str(response)


def sms_segments(text: str, limit: int = SMS_SEGMENT) -> list[str]:
    """Split a reply into as few SMS as possible, breaking between sentences where it can and
    inside a sentence only when one sentence is longer than a segment."""
    parts: list[str] = []
    for sentence in sentences(" ".join(text.split())) or [text]:
        while len(sentence) > limit:
            parts.append(sentence[:limit])
            sentence = sentence[limit:]
        parts.append(sentence)
    segments: list[str] = []
    for part in parts:
        if segments and len(segments[-1]) + len(part) <= limit:
            segments[-1] += part
        else:
            segments.append(part)
    return segments


def compact_digits(text: str) -> str:
    """'3 1 4 1 5 9 2 6' (read aloud one by one) → '31415926' (typed back by SMS)."""
    return re.sub(r"\d(?: \d){6,}", lambda m: m[0].replace(" ", ""), text)


def sms_reply(texts: list[str]) -> str:
    response = MessagingResponse()
    joined = compact_digits("".join(t.strip() for t in texts if t.strip()))
    for segment in sms_segments(joined):
        response.message(segment)
    return str(response)
