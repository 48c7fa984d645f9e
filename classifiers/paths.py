"""Where the project's data and run-time state live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """Run-time state (models, databases): ``HOTLINE_VAR`` or ``<project>/var``."""
    path = Path(os.environ.get("HOTLINE_VAR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_model_path() -> Path:
    """The trained triage model used unless a path is given: ``HOTLINE_MODEL`` or var/models."""
    env = os.environ.get("HOTLINE_MODEL")
    return Path(env) if env else var_dir() / "models" / "triage.joblib"
