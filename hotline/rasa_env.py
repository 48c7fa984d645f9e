"""Where the Rasa side lives and how its processes are started.

Rasa 3.6 pins old libraries (pydantic 1, SQLAlchemy 1.4, TensorFlow 2.12) and needs Python 3.10,
so it runs from its own virtual environment (`.venv-rasa`, built by `make rasa-setup` from
`bot/requirements.lock`) as separate processes: the Rasa server and the action server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from classifiers.paths import PROJECT_ROOT, var_dir

RASA_VENV = Path(os.environ.get("HOTLINE_RASA_VENV", PROJECT_ROOT / ".venv-rasa"))
RASA = RASA_VENV / "bin" / "rasa"
RASA_PYTHON = RASA_VENV / "bin" / "python"
CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
STORIES_AND_RULES = PROJECT_ROOT / "bot" / "data"
CREDENTIALS = PROJECT_ROOT / "bot" / "credentials.yml"
NLU_TRAIN = PROJECT_ROOT / "nlu_data" / "bot" / "train"
NLU_TEST = PROJECT_ROOT / "nlu_data" / "bot" / "test"
NLU_BLIND = PROJECT_ROOT / "nlu_data" / "bot" / "blind"
CONVERSATION_TESTS = PROJECT_ROOT / "bot" / "tests"
DICTIONARY = PROJECT_ROOT / "classifiers" / "resources"
COMPONENTS = PROJECT_ROOT / "bot" / "components"


def rasa_dir() -> Path:
    path = var_dir() / "rasa"
    path.mkdir(parents=True, exist_ok=True)
    return path


def training_inputs() -> list[Path]:
    files = [CONFIG, DOMAIN]
    for folder in (STORIES_AND_RULES, NLU_TRAIN, DICTIONARY, COMPONENTS):
        found = (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        files += sorted(found)
    return files


def inputs_hash() -> str:
    """Changes whenever anything the bot model is trained from changes."""
    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(digest: str | None = None) -> Path:
    return rasa_dir() / "models" / f"bot-{digest or inputs_hash()}.tar.gz"


def rasa_env(api_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(rasa_dir() / "cache"),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "MPLCONFIGDIR": str(rasa_dir() / "mpl"),
    }
    env.pop("VIRTUAL_ENV", None)
    if api_url:
        env["HOTLINE_API_URL"] = api_url
    return env


def tracker_store(database_url: str | None, sqlite_path: Path) -> dict:
    """Conversations are kept in the case service's PostgreSQL database when it has one (Rasa's
    own `events` table), else in an SQLite file beside the case database."""
    if database_url and database_url.startswith("postgresql"):
        parts = urlsplit(database_url)
        store = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "db": parts.path.lstrip("/"),
        }
        if parts.username:
            store["username"] = unquote(parts.username)
        if parts.password:
            store["password"] = unquote(parts.password)
        return store
    return {"type": "SQL", "dialect": "sqlite", "db": str(sqlite_path)}


def write_endpoints(
    path: Path,
    *,
    actions_url: str,
    database_url: str | None,
    sqlite_path: Path,
    rasa_processes: int = 1,
    redis_url: str | None = None,
) -> Path:
    """endpoints.yml for one deployment: the action server, the tracker store, and a Redis lock
    store when more than one Rasa process shares the conversations (one message per
    conversation at a time across all of them)."""
    endpoints: dict = {
        "action_endpoint": {"url": f"{actions_url}/webhook"},
        "tracker_store": tracker_store(database_url, sqlite_path),
    }
    if rasa_processes > 1:
        redis = urlsplit(redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"))
        endpoints["lock_store"] = {
            "type": "redis",
            "url": redis.hostname or "127.0.0.1",
            "port": redis.port or 6379,
            "db": int((redis.path or "/1").lstrip("/") or 1),
            "key_prefix": "hotline",
        }
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False))
    return path
