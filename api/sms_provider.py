"""The SMS provider behind the case service, in one place: sending a text (REST), checking the
signature of its callbacks, and reading a delivery-status callback.

``SmsProvider`` is what the outbox sender and the status webhook use; ``TwilioSms`` is Twilio's.
A domestic provider (阿里云短信, 腾讯云短信, a carrier's gateway) is another class with the same
methods; the outbox, its retries and the workbench stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from api.settings import Settings

STATUS_PATH = "/webhooks/twilio/sms-status"
# The provider's final word on a text; anything else (queued, sending, sent) is on its way.
FINAL_DELIVERY = {"delivered", "failed", "undelivered"}


class SendRefused(Exception):
    """The provider will not take this message (retrying cannot help)."""


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery-status callback."""

    message_id: str
    status: str  # queued, sent, delivered, failed, undelivered …
    error_code: str | None = None


class SmsProvider(Protocol):
    name: str
    signature_header: str

    def send(self, to: str, body: str) -> str:
        """Hand one text to the provider; returns its message id. Raises ``SendRefused`` when
        the provider refuses it for good, anything else when a retry may help."""
        ...

    def is_valid(self, url: str, params: dict[str, str], signature: str) -> bool: ...

    def report(self, params: dict[str, str]) -> DeliveryReport | None: ...


class TwilioSms:
    """Twilio's REST API (``messages.create`` with a ``StatusCallback``) and its webhooks."""

    name = "twilio"
    signature_header = "X-Twilio-Signature"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.from_number = settings.twilio_from_number
        self.status_callback = settings.sms_status_url
        self._client = None

    @property
    def client(self):
        """Built on first send: the status webhook needs no REST client (nor an account SID)."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            self._client = Client(
                self.settings.twilio_account_sid,
                self.settings.twilio_auth_token,
                http_client=TwilioHttpClient(timeout=15),
            )
            if self.settings.twilio_api_url:
                self._client.api.base_url = self.settings.twilio_api_url.rstrip("/")
        return self._client

    def send(self, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioRestException, TwilioServiceException

        options = {"to": to, "from_": self.from_number, "body": body}
        if self.status_callback:
            options["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**options)
        except (TwilioRestException, TwilioServiceException) as exc:
            said = getattr(exc, "msg", None) or getattr(exc, "detail", None) or exc.title
            text = f"Twilio HTTP {exc.status} (code {exc.code}): {said}"
            if 400 <= exc.status < 500 and exc.status not in (408, 429):
                raise SendRefused(text) from exc
            raise RuntimeError(text) from exc
        return message.sid

    __call__ = send  # the outbox sender calls it as send(to, body)

    def is_valid(self, url: str, params: dict[str, str], signature: str) -> bool:
        from twilio.request_validator import RequestValidator

        token = self.settings.twilio_auth_token
        if not token or not signature:
            return False
        return RequestValidator(token).validate(url, params, signature)

    def report(self, params: dict[str, str]) -> DeliveryReport | None:
        sid = params.get("MessageSid") or params.get("SmsSid")
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        if not sid or not status:
            return None
        code = (params.get("ErrorCode") or "").strip() or None
        return DeliveryReport(sid[:64], status[:20], code[:10] if code else None)


def provider_for(settings: Settings) -> SmsProvider:
    return TwilioSms(settings)
