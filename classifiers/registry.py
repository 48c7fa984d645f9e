"""The model registry on disk: every trained triage model with what it learned from and how it
scored, and a pointer naming the one in use.

``var/models/registry/<version>/`` holds ``model.joblib`` and ``meta.json`` (version, time, data
hash, parameters, evaluation, parent, promotions); ``var/models/active`` names the active version
and is replaced atomically (``os.replace``), so a reader sees the old name or the new one, never
half of either. Every promotion and rollback is appended to ``var/models/history.jsonl``; that is
how a rollback knows where to go back to. On one machine (SQLite) the registry travels with
var/; with ``DATABASE_URL`` on PostgreSQL, ``Registry.default()`` is the deployment's registry in
the database (``api.model_store.DbRegistry``), with var/models/registry/ only a local cache.

Retention: the active model, the one before it and the newest ``HOTLINE_MODELS_KEEP`` (default
3) are kept; ``prune`` removes the rest (``hotline models prune``, and after each promotion).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from classifiers.model import TriageModel
from classifiers.paths import ACTIVE_POINTER, VERSION_RE, models_dir, read_active_version

# Metadata of a trained model worth keeping next to it (the model file holds them too, but
# reading 30 MB to list versions would be silly).
_FROM_MODEL = (
    "data_hash",
    "params",
    "n_examples",
    "n_features",
    "label_counts",
    "taxonomy_version",
    "train_seconds",
    "cv_accuracy",
    "cv_macro_f1",
    "cv_auto_accept_share",
)


def default_keep() -> int:
    """How many of the newest versions retention keeps besides the active one and the one
    before it (``HOTLINE_MODELS_KEEP``, default 3)."""
    return max(0, int(os.environ.get("HOTLINE_MODELS_KEEP", "3")))


class RegistryError(ValueError):
    """An unknown version, or a registry action that cannot be done; the message says why."""


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Registry:
    root: Path

    @classmethod
    def default(cls) -> Registry:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql")):
            # Several hosts share PostgreSQL: the registry is the database's, not one var/'s.
            from api.model_store import DbRegistry

            return DbRegistry.for_url(url, models_dir())
        return cls(models_dir())

    # -- reading ---------------------------------------------------------------------------------
    def dir_of(self, version: str) -> Path:
        if not VERSION_RE.match(version or ""):
            raise RegistryError(f"“{version}”不是模型版本号（形如 v3）")
        path = self.root / "registry" / version
        if not (path / "meta.json").exists():
            raise RegistryError(f"没有模型版本 {version}")
        return path

    def model_path(self, version: str) -> Path:
        return self.dir_of(version) / "model.joblib"

    def meta(self, version: str) -> dict:
        return json.loads((self.dir_of(version) / "meta.json").read_text(encoding="utf-8"))

    def load(self, version: str) -> TriageModel:
        return TriageModel.load(self.model_path(version))

    def versions(self) -> list[dict]:
        """Every registered version's metadata, oldest first."""
        found = []
        for path in (self.root / "registry").glob("v*/meta.json"):
            if VERSION_RE.match(path.parent.name):
                found.append(json.loads(path.read_text(encoding="utf-8")))
        return sorted(found, key=lambda m: int(m["version"][1:]))

    def active(self) -> str | None:
        return read_active_version(self.root)

    def history(self) -> list[dict]:
        path = self.root / "history.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One registry change at a time, across processes (CLI and workbench)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".registry.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _new_version_dir(self) -> Path:
        base = self.root / "registry"
        base.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in base.glob("v*") if VERSION_RE.match(p.name)]
        n = max(numbers, default=0) + 1
        while True:
            path = base / f"v{n}"
            try:
                path.mkdir()  # exclusive: two trainings never get the same version
                return path
            except FileExistsError:
                n += 1

    def register(self, model: TriageModel, extra: dict | None = None) -> str:
        """Store a trained model as a new version (not active). Returns the version."""
        path = self._new_version_dir()
        version = path.name
        model.save(path / "model.joblib")
        meta = {
            "version": version,
            "created_at": now_iso(),
            **{key: model.metadata.get(key) for key in _FROM_MODEL},
            "out_threshold": model.out_threshold,
            "review_threshold": model.review_threshold,
            "out_review_threshold": model.out_review_threshold,
            "parent": self.active(),
            "evaluation": {},
            "promoted_at": None,
            "promotion_reason": None,
            "promoted_by": None,
            "forced": False,
            "activations": [],
            **(extra or {}),
        }
        _write_json(path / "meta.json", meta)
        return version

    def update_meta(self, version: str, **fields) -> dict:
        with self._locked():
            meta = self.meta(version)
            meta.update(fields)
            _write_json(self.dir_of(version) / "meta.json", meta)
        return meta

    def activate(
        self,
        version: str,
        *,
        action: str,
        reason: str | None = None,
        by: str | None = None,
        forced: bool = False,
    ) -> str | None:
        """Make ``version`` the active model (``action``: initial, promote, rollback). Returns
        the version it replaced. Services pick the change up within about a second."""
        with self._locked():
            meta = self.meta(version)
            previous = self.active()
            at = now_iso()
            entry = {
                "at": at,
                "action": action,
                "version": version,
                "previous": previous,
                "reason": reason,
                "by": by,
                "forced": forced,
            }
            meta["activations"] = [*meta.get("activations", []), entry]
            if action != "rollback":
                meta.update(promoted_at=at, promotion_reason=reason, promoted_by=by, forced=forced)
            _write_json(self.dir_of(version) / "meta.json", meta)
            pointer = self.root / ACTIVE_POINTER
            tmp = self.root / f".{ACTIVE_POINTER}.{os.getpid()}.tmp"
            tmp.write_text(version + "\n", encoding="utf-8")
            os.replace(tmp, pointer)
            with open(self.root / "history.jsonl", "a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if action == "promote":
            self.prune()
        return previous

    def activate_if_none(self, version: str, by: str | None = None) -> bool:
        """The first model of a fresh installation becomes active by itself."""
        if self.active() is not None:
            return False
        self.activate(version, action="initial", reason="首个登记的模型", by=by)
        return True

    def active_model_file(self) -> Path:
        """The file of the active model (what a service loads), or var/models/triage.joblib
        before any model is registered."""
        version = self.active()
        if version is None:
            return self.root / "triage.joblib"
        return self.model_path(version)

    # -- retention -------------------------------------------------------------------------------
    def keep_set(self, keep_last: int) -> set[str]:
        """The versions retention keeps: the active one, the one a rollback would return to,
        and the newest ``keep_last``."""
        newest = [m["version"] for m in self.versions()][-keep_last:] if keep_last > 0 else []
        return {v for v in (self.active(), self.rollback_target(), *newest) if v}

    def prune(self, keep_last: int | None = None) -> list[str]:
        """Remove every version retention does not keep; returns those removed, oldest first."""
        keep = self.keep_set(default_keep() if keep_last is None else keep_last)
        removed = []
        with self._locked():
            for meta in self.versions():
                version = meta["version"]
                if version not in keep:
                    self._remove(version)
                    removed.append(version)
        return removed

    def _remove(self, version: str) -> None:
        shutil.rmtree(self.root / "registry" / version, ignore_errors=True)

    def rollback_target(self) -> str | None:
        """The version that was active before the current one was promoted (a rollback of a
        rollback goes further back, never forth)."""
        current = self.active()
        for entry in reversed(self.history()):
            if entry["version"] == current and entry["action"] in ("promote", "initial"):
                return entry.get("previous")
        return None
