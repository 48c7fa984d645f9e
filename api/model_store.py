"""The model registry in PostgreSQL, so every host sees the same versions and the same active
model (issue 15): a promotion or rollback on one host is followed by every other within the
service's model check (about a second).

Same interface as ``classifiers.registry.Registry``; what it keeps where:

- ``model_versions``: each version's metadata, the model file (``blob``) and its small report
  files (``files``: report.html/json, confusion.png, holdout.jsonl …, saved whenever the
  metadata is updated, which ``api.retrain`` does right after writing them);
- ``model_activations``: every promotion and rollback in order; the active model is the last;
- ``var/models/registry/<version>/``: a local cache, filled from the database when a version is
  first read on this host.

Registry changes are serialised by a transaction-level advisory lock, not a lock file.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.clock import now
from api.db import make_engine
from api.jobs import advisory_key
from api.shared_state import ModelActivation, ModelVersionRow
from classifiers.model import TriageModel
from classifiers.paths import VERSION_RE
from classifiers.registry import _FROM_MODEL, Registry, RegistryError, now_iso

# Small files written next to a model (reports, training lists) that every host should see.
SHARED_FILES = (
    "report.html",
    "report.json",
    "confusion.png",
    "holdout.jsonl",
    "db_cases.json",
    "conflicts.json",
)
LOCK = advisory_key("model-registry")


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return make_engine(url)


@dataclass(frozen=True)
class DbRegistry(Registry):
    engine: Engine = field(default=None, compare=False)  # type: ignore[assignment]

    @classmethod
    def for_url(cls, url: str, root: Path) -> DbRegistry:
        return cls(root, _engine(url))

    def _session(self) -> Session:
        return sessionmaker(self.engine, expire_on_commit=False)()

    def _locked_tx(self, session: Session) -> None:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})

    # -- reading ---------------------------------------------------------------------------------
    def _row(self, session: Session, version: str) -> ModelVersionRow:
        if not VERSION_RE.match(version or ""):
            raise RegistryError(f"“{version}”不是模型版本号（形如 v3）")
        row = session.scalar(select(ModelVersionRow).where(ModelVersionRow.version == version))
        if row is None:
            raise RegistryError(f"没有模型版本 {version}")
        return row

    def dir_of(self, version: str) -> Path:
        """The local copy of ``version`` (metadata, model file, reports), made from the database
        where missing."""
        with self._session() as session:
            row = self._row(session, version)
            path = self.root / "registry" / version
            path.mkdir(parents=True, exist_ok=True)
            (path / "meta.json").write_text(
                json.dumps(row.meta, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            for name, data in (row.files or {}).items():
                target = path / name
                if name in SHARED_FILES and not target.exists():
                    target.write_bytes(base64.b64decode(data))
            model = path / "model.joblib"
            if not model.exists() and row.blob is not None:
                tmp = path / ".model.joblib.tmp"
                tmp.write_bytes(row.blob)
                tmp.replace(model)
        return path

    def meta(self, version: str) -> dict:
        with self._session() as session:
            return dict(self._row(session, version).meta)

    def versions(self) -> list[dict]:
        with self._session() as session:
            rows = session.scalars(select(ModelVersionRow.meta).order_by(ModelVersionRow.number))
            return [dict(meta) for meta in rows]

    def active(self) -> str | None:
        with self._session() as session:
            return session.scalar(
                select(ModelActivation.version).order_by(ModelActivation.id.desc()).limit(1)
            )

    def history(self) -> list[dict]:
        with self._session() as session:
            rows = session.scalars(select(ModelActivation.entry).order_by(ModelActivation.id))
            return [dict(entry) for entry in rows]

    # -- writing ---------------------------------------------------------------------------------
    def register(self, model: TriageModel, extra: dict | None = None) -> str:
        with self._session() as session, session.begin():
            self._locked_tx(session)
            number = (session.scalar(select(func.max(ModelVersionRow.number))) or 0) + 1
            version = f"v{number}"
            path = self.root / "registry" / version
            path.mkdir(parents=True, exist_ok=True)
            model.save(path / "model.joblib")
            meta = {
                "version": version,
                "created_at": now_iso(),
                **{key: model.metadata.get(key) for key in _FROM_MODEL},
                "out_threshold": model.out_threshold,
                "review_threshold": model.review_threshold,
                "out_review_threshold": model.out_review_threshold,
                "parent": self._active_in(session),
                "evaluation": {},
                "promoted_at": None,
                "promotion_reason": None,
                "promoted_by": None,
                "forced": False,
                "activations": [],
                **(extra or {}),
            }
            session.add(
                ModelVersionRow(
                    number=number,
                    version=version,
                    meta=meta,
                    blob=(path / "model.joblib").read_bytes(),
                    files={},
                    created_at=now(),
                )
            )
        (path / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
        return version

    def _active_in(self, session: Session) -> str | None:
        return session.scalar(
            select(ModelActivation.version).order_by(ModelActivation.id.desc()).limit(1)
        )

    def update_meta(self, version: str, **fields) -> dict:
        """Change metadata, and store the report files now next to the local copy."""
        path = self.root / "registry" / version
        files = {
            name: base64.b64encode((path / name).read_bytes()).decode("ascii")
            for name in SHARED_FILES
            if (path / name).exists()
        }
        with self._session() as session, session.begin():
            self._locked_tx(session)
            row = self._row(session, version)
            meta = {**row.meta, **fields}
            values: dict = {"meta": meta}
            if files:
                values["files"] = files
            session.execute(
                update(ModelVersionRow).where(ModelVersionRow.version == version).values(**values)
            )
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
        with self._session() as session, session.begin():
            self._locked_tx(session)
            row = self._row(session, version)
            previous = self._active_in(session)
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
            meta = {**row.meta, "activations": [*row.meta.get("activations", []), entry]}
            if action != "rollback":
                meta.update(promoted_at=at, promotion_reason=reason, promoted_by=by, forced=forced)
            session.execute(
                update(ModelVersionRow).where(ModelVersionRow.version == version).values(meta=meta)
            )
            session.add(ModelActivation(entry=entry, version=version))
        if action == "promote":
            self.prune()
        return previous

    def prune(self, keep_last: int | None = None) -> list[str]:
        from classifiers.registry import default_keep

        keep = self.keep_set(default_keep() if keep_last is None else keep_last)
        removed = []
        with self._session() as session, session.begin():
            self._locked_tx(session)
            for version in session.scalars(
                select(ModelVersionRow.version).order_by(ModelVersionRow.number)
            ).all():
                if version not in keep:
                    session.execute(
                        delete(ModelVersionRow).where(ModelVersionRow.version == version)
                    )
                    removed.append(version)
        for version in removed:
            self._remove(version)
        return removed

    def active_model_file(self) -> Path:
        """What the service loads: one query a check; the file is fetched only when new here."""
        version = self.active()
        if version is None:
            return self.root / "triage.joblib"
        path = self.root / "registry" / version / "model.joblib"
        return path if path.exists() else self.dir_of(version) / "model.joblib"


def service_registry(engine: Engine, root: Path) -> DbRegistry | None:
    """The registry a service process follows: the database's on PostgreSQL, else None (the
    files under var/models)."""
    return DbRegistry(root, engine) if engine.dialect.name == "postgresql" else None
