"""Service settings from the environment, with defaults that just work on one machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.paths import PROJECT_ROOT, default_model_path, var_dir


def _secret_key() -> str:
    """``HOTLINE_SECRET`` or a random key kept in var/ so tokens survive a restart."""
    env = os.environ.get("HOTLINE_SECRET")
    if env:
        return env
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


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_database_url)
    secret_key: str = field(default_factory=_secret_key)
    token_minutes: int = int(os.environ.get("HOTLINE_TOKEN_MINUTES", "480"))
    model_path: Path = field(default_factory=default_model_path)
    rules_path: Path = Path(os.environ.get("HOTLINE_RULES", PROJECT_ROOT / "config" / "rules.yml"))
    # Classification is retried with backoff; a case waits as 待分类 meanwhile.
    triage_poll_seconds: float = float(os.environ.get("HOTLINE_TRIAGE_POLL", "0.5"))
    max_body_bytes: int = 64 * 1024
