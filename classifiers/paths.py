"""Where the project's data and run-time state live."""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ACTIVE_POINTER = "active"  # var/models/active: the name of the model version in use
VERSION_RE = re.compile(r"^v[0-9]{1,6}$")


def var_dir() -> Path:
    """Run-time state (models, databases): ``HOTLINE_VAR`` or ``<project>/var``."""
    path = Path(os.environ.get("HOTLINE_VAR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """The model registry's home: ``registry/<version>/`` and the ``active`` pointer."""
    return var_dir() / "models"


def corpus_model_path() -> Path:
    """The last model plain `hotline train` built from nlu_data/ alone (the Makefile's target)."""
    return models_dir() / "triage.joblib"


def read_active_version(root: Path | None = None) -> str | None:
    """The version the ``active`` pointer names, or None (no pointer, or not a version name)."""
    try:
        name = ((root or models_dir()) / ACTIVE_POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if VERSION_RE.match(name) else None


def active_model_path(root: Path | None = None) -> Path:
    """The model in use: the registry's active version, or (before any model was registered)
    the plain training output."""
    root = root or models_dir()
    version = read_active_version(root)
    if version is None:
        return root / "triage.joblib"
    return root / "registry" / version / "model.joblib"


def model_override() -> Path | None:
    """``HOTLINE_MODEL``: an explicit model file that wins over the registry."""
    env = os.environ.get("HOTLINE_MODEL")
    return Path(env) if env else None


def default_model_path() -> Path:
    """The trained triage model used unless a path is given: ``HOTLINE_MODEL``, else the
    registry's active model (``var/models/active``), else var/models/triage.joblib."""
    return model_override() or active_model_path()
