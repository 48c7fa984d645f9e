"""Service settings from the environment, with defaults that just work on one machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.paths import PROJECT_ROOT, model_override, var_dir


def _secret_key() -> str:
    """``HOTLINE_SECRET``, or on SQLite a random key kept in var/ so tokens survive a restart.
    On PostgreSQL it is left empty here: the service reads the deployment's key from the
    database (``api.shared_state.deployment_secret``), so every host signs with the same one."""
    env = os.environ.get("HOTLINE_SECRET")
    if env:
        return env
    if _database_url().startswith("postgresql"):
        return ""
    path = var_dir() / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{var_dir() / 'hotline.db'}"
    if url.startswith("postgres://"):  # the form many hosts hand out
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _status_url() -> str | None:
    public = _env("HOTLINE_PUBLIC_URL")
    fallback = public.rstrip("/") + "/webhooks/twilio/sms-status" if public else None
    return _env("HOTLINE_SMS_STATUS_URL") or fallback


# Minutes without a successful run after which the 运行状态 panel shows a background job red.
# The loops run every second or so; 日盘点 (hotline daily-review) once a day, from cron.
JOB_STALE_MINUTES = {"triage": 10, "clustering": 10, "sms": 10, "daily_review": 26 * 60}


def _job_stale_minutes() -> dict[str, int]:
    """``HOTLINE_JOB_STALE_MINUTES="triage=5,daily_review=1500"`` overrides the defaults."""
    out = dict(JOB_STALE_MINUTES)
    for part in (os.environ.get("HOTLINE_JOB_STALE_MINUTES") or "").split(","):
        name, _, minutes = part.partition("=")
        if name.strip() and minutes.strip().isdigit():
            out[name.strip()] = int(minutes)
    return out


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_database_url)
    secret_key: str = field(default_factory=_secret_key)
    token_minutes: int = int(os.environ.get("HOTLINE_TOKEN_MINUTES", "480"))
    # HOTLINE_MODEL pins one model file; unset, the service follows the registry's active model.
    model_path: Path | None = field(default_factory=model_override)
    rules_path: Path = Path(os.environ.get("HOTLINE_RULES", PROJECT_ROOT / "config" / "rules.yml"))
    # Classification is retried with backoff; a case waits as 待分类 meanwhile.
    triage_poll_seconds: float = float(os.environ.get("HOTLINE_TRIAGE_POLL", "0.5"))
    max_body_bytes: int = 64 * 1024
    # Text messages to residents go out through Twilio when all three are set; otherwise they
    # are only recorded in the outbox (see api/outbox.py).
    twilio_account_sid: str | None = field(default_factory=lambda: _env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str | None = field(default_factory=lambda: _env("TWILIO_AUTH_TOKEN"))
    twilio_from_number: str | None = field(default_factory=lambda: _env("TWILIO_FROM_NUMBER"))
    # Another address for Twilio's REST API (a relay, or a test double); default: Twilio's own.
    twilio_api_url: str | None = field(default_factory=lambda: _env("HOTLINE_TWILIO_API_URL"))
    # Where the SMS provider posts delivery status (StatusCallback): HOTLINE_SMS_STATUS_URL, else
    # HOTLINE_PUBLIC_URL + /webhooks/twilio/sms-status; unset, no callbacks are asked for.
    sms_status_url: str | None = field(default_factory=lambda: _status_url())
    sms_poll_seconds: float = field(
        default_factory=lambda: float(os.environ.get("HOTLINE_SMS_POLL", "1.0"))
    )
    # Shared with the bot's action server (``hotline up`` generates it): a request carrying it
    # may name the resident it speaks for, so lockouts count per conversation, not per address.
    internal_token: str | None = field(default_factory=lambda: _env("HOTLINE_INTERNAL_TOKEN"))
    # /metrics answers this machine (loopback, no proxy headers) and whoever sends
    # "Authorization: Bearer <HOTLINE_METRICS_TOKEN>" (a Prometheus on another host).
    metrics_token: str | None = field(default_factory=lambda: _env("HOTLINE_METRICS_TOKEN"))
    job_stale_minutes: dict[str, int] = field(default_factory=_job_stale_minutes)
    # The Rasa server the chat page (/chat) talks to through this service; `hotline up` sets it.
    rasa_url: str = field(
        default_factory=lambda: _env("HOTLINE_RASA_URL") or "http://127.0.0.1:5005"
    )

    @property
    def sms_live(self) -> bool:
        """Whether messages are really sent (else only recorded)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)
