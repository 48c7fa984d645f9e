"""The telephone provider behind the voice and SMS channels, in one place.

Everything Twilio-specific the channels need — which form fields carry the caller, the speech,
the keys and the recording; how a request is signed; how a reply is written (TwiML) — is behind
``Provider``. A domestic provider (阿里云/腾讯云 voice and SMS, a carrier's gateway) is added as
another class with the same methods; the dialogue and the channels' logic stay as they are.

Also here: the local token. Without ``TWILIO_AUTH_TOKEN`` nothing from outside is accepted, but
``hotline up`` writes a random token to ``var/local-twilio-token`` so that ``hotline phone`` can
try the line from this machine: the channels accept it only from the loopback address, only
when no real token is set, and never behind a proxy."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from twilio.request_validator import RequestValidator

from bot.channels import twiml

LOCAL_TOKEN_NAME = "local-twilio-token"
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def var_folder() -> Path:
    """The run-time folder (``HOTLINE_VAR``, default var/ in the project), as the service uses."""
    configured = os.environ.get("HOTLINE_VAR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "var"


def local_token_path() -> Path:
    return var_folder() / LOCAL_TOKEN_NAME


def read_local_token() -> str | None:
    try:
        token = local_token_path().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def ensure_local_token() -> str:
    """The local token, created (mode 600) when missing. Never used when a real token is set."""
    found = read_local_token()
    if found:
        return found
    path = local_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    token = secrets.token_hex(16)
    path.write_text(token + "\n", encoding="utf-8")
    return token


@dataclass(frozen=True)
class Inbound:
    """One webhook, in the channels' terms."""

    caller: str | None  # the caller's or texter's number as the provider gives it
    call_id: str | None = None  # one call (voice)
    speech: str = ""  # what the recogniser heard
    digits: str = ""  # keys pressed
    recording_url: str | None = None
    recording_seconds: int | None = None
    message_id: str | None = None  # one text (SMS)
    body: str = ""  # the text's words
    status: str = ""  # the call's state in a status callback ("completed" when it has ended)


class Provider(Protocol):
    """What the channels need from a voice/SMS provider."""

    name: str
    signature_header: str
    content_type: str

    def inbound(self, form: dict[str, str]) -> Inbound: ...

    def is_valid(self, token: str, url: str, params: dict[str, str], signature: str) -> bool: ...

    def sign(self, token: str, url: str, params: dict[str, str]) -> str: ...

    def listen(
        self, texts: list[str], *, action: str, hints: str, num_digits: int | None
    ) -> str: ...

    def final(self, texts: list[str], *, dial: str | None = None) -> str: ...

    def record(self, prompt: str, *, action: str) -> str: ...

    def messages(self, texts: list[str]) -> str: ...


class TwilioProvider:
    """Twilio: form-encoded webhooks signed with HMAC-SHA1 (``X-Twilio-Signature``), TwiML."""

    name = "twilio"
    signature_header = "X-Twilio-Signature"
    content_type = "text/xml"

    def inbound(self, form: dict[str, str]) -> Inbound:
        seconds = form.get("RecordingDuration") or ""
        return Inbound(
            caller=form.get("From"),
            call_id=form.get("CallSid"),
            speech=(form.get("SpeechResult") or "").strip(),
            digits=(form.get("Digits") or "").strip(),
            recording_url=form.get("RecordingUrl") or None,
            recording_seconds=int(seconds) if seconds.isdigit() else None,
            message_id=form.get("MessageSid") or form.get("SmsSid"),
            body=(form.get("Body") or "").strip(),
            status=(form.get("CallStatus") or "").strip(),
        )

    def is_valid(self, token: str, url: str, params: dict[str, str], signature: str) -> bool:
        return bool(signature) and RequestValidator(token).validate(url, params, signature)

    def sign(self, token: str, url: str, params: dict[str, str]) -> str:
        return RequestValidator(token).compute_signature(url, params)

    def listen(self, texts: list[str], *, action: str, hints: str, num_digits: int | None) -> str:
        return twiml.gather_reply(texts, action=action, hints=hints, num_digits=num_digits)

    def final(self, texts: list[str], *, dial: str | None = None) -> str:
        return twiml.final_reply(texts, dial=dial)

    def record(self, prompt: str, *, action: str) -> str:
        return twiml.record_reply(prompt, action=action)

    def messages(self, texts: list[str]) -> str:
        return twiml.sms_reply(texts)


def default_provider() -> Provider:
    return TwilioProvider()
