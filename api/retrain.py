"""Retraining from staff labels, comparing versions, promotion and rollback (issue 8).

What `hotline train [--from-db]`, `hotline models …` and the workbench's 模型 page call, so the
command line and the browser apply the same data rules and the same gate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from api.labels import current_labels, recent_corrections
from api.model_report import load_comparison, write_report
from classifiers.compare import CheckSet, Comparison, compare
from classifiers.corpus import CORPUS_DIR, Example, load_split
from classifiers.model import TrainParams, TriageModel, train_model
from classifiers.registry import Registry, RegistryError, now_iso
from classifiers.taxonomy import Taxonomy
from classifiers.training_set import Labelled, TrainingSet, assemble, data_hash

DEFAULT_HOLDOUT = 0.2
DEFAULT_RECENT = 200


class PromotionRefused(RegistryError):
    """The candidate fails the gate; ``reasons`` say where it is worse."""

    def __init__(self, version: str, reasons: list[str]) -> None:
        super().__init__(f"{version} 未通过升级检查：" + "；".join(reasons))
        self.reasons = reasons


@dataclass
class TrainResult:
    version: str
    training: TrainingSet
    model: TriageModel
    activated: bool
    comparison: Comparison | None


def _labelled(examples: list[Example]) -> list[Labelled]:
    return [Labelled(e.text, e.label, f"corpus:{e.source}") for e in examples]


def frozen_check(taxonomy: Taxonomy, data_dir: Path = CORPUS_DIR) -> CheckSet:
    examples = load_split(Path(data_dir) / "test", taxonomy)
    return CheckSet(
        "frozen",
        "冻结测试集",
        [e.text for e in examples],
        [e.label for e in examples],
        [e.source for e in examples],
        [e.style for e in examples],
        note="nlu_data/complaints/test，从不参与训练；升级检查只看这一组",
    )


def _frozen_texts(taxonomy: Taxonomy, data_dir: Path) -> list[str]:
    texts = []
    for split in ("test", "blind"):
        if (Path(data_dir) / split).is_dir():
            texts += [e.text for e in load_split(Path(data_dir) / split, taxonomy)]
    return texts


def train_version(
    registry: Registry,
    taxonomy: Taxonomy,
    *,
    data_dir: Path = CORPUS_DIR,
    session: Session | None = None,
    params: TrainParams | None = None,
    holdout_share: float = DEFAULT_HOLDOUT,
    recent: int = DEFAULT_RECENT,
    by: str | None = None,
) -> TrainResult:
    """Train on the corpus (plus the staff labels when ``session`` is given), register the model,
    make it active if nothing is, else compare it with the active model and write the report."""
    params = params or TrainParams()
    corpus = load_split(Path(data_dir) / "train", taxonomy)
    staff = [row.labelled() for row in current_labels(session)] if session is not None else []
    known = [e for e in staff if e.label in taxonomy.by_code]  # items since removed: reported
    training = assemble(
        _labelled(corpus), known, _frozen_texts(taxonomy, data_dir), holdout_share, params.seed
    )
    training.unknown_items = len(staff) - len(known)
    model = train_model(
        training.texts,
        training.labels,
        taxonomy,
        params,
        metadata={
            "data_hash": data_hash((e.label, e.text) for e in training.train),
            "data": str(data_dir),
            "from_db": session is not None,
        },
    )
    version = registry.register(
        model, {"from_db": session is not None, "data": training.summary(), "by": by}
    )
    _write_training_files(registry.dir_of(version), training)
    activated = registry.activate_if_none(version, by=by)
    comparison = None
    if not activated:
        comparison = compare_with_active(
            registry,
            version,
            taxonomy,
            data_dir=data_dir,
            session=session,
            recent=recent,
            candidate=model,
        )
    return TrainResult(version, training, model, activated, comparison)


def _write_training_files(folder: Path, training: TrainingSet) -> None:
    """What a later comparison needs: the held-out staff labels, and which cases were trained
    on; plus the conflicts, for the analyst to settle."""
    with open(folder / "holdout.jsonl", "w", encoding="utf-8") as out:
        for e in training.holdout:
            out.write(
                json.dumps(
                    {"text": e.text, "label": e.label, "source": e.source}, ensure_ascii=False
                )
                + "\n"
            )
    cases = {
        "trained": sorted(e.source for e in training.train if e.kind != "corpus"),
        "held_out": sorted(e.source for e in training.holdout),
    }
    (folder / "db_cases.json").write_text(json.dumps(cases), encoding="utf-8")
    conflicts = [{"text": c.text, "labels": c.labels} for c in training.conflicts]
    (folder / "conflicts.json").write_text(
        json.dumps(conflicts, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _trained_cases(registry: Registry, version: str | None) -> set[str]:
    if version is None:
        return set()
    path = registry.dir_of(version) / "db_cases.json"
    return set(json.loads(path.read_text())["trained"]) if path.exists() else set()


def holdout_check(registry: Registry, version: str) -> CheckSet:
    path = registry.dir_of(version) / "holdout.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    rows = [json.loads(line) for line in lines]
    return CheckSet(
        "holdout",
        "留出的人工标注",
        [r["text"] for r in rows],
        [r["label"] for r in rows],
        [r["source"] for r in rows],
        note="随机留出约两成人工确认/更正的案件，候选模型没有用它们训练",
    )


def recent_check(
    registry: Registry, session: Session, n: int, candidate: str, active: str | None
) -> CheckSet:
    rows = recent_corrections(session, n)
    sources = [f"case:{r.case_number}" for r in rows]
    trained_by_candidate = _trained_cases(registry, candidate)
    trained_by_active = _trained_cases(registry, active)
    in_candidate = sum(s in trained_by_candidate for s in sources)
    in_active = sum(s in trained_by_active for s in sources)
    note = f"最近 {len(rows)} 件人工更正"
    if in_candidate:
        note += f"；其中 {in_candidate} 件参与了候选模型的训练，对它不是独立检验"
    if in_active:
        note += f"；{in_active} 件参与了在用模型的训练"
    return CheckSet(
        "recent",
        "最近的人工更正",
        [r.text for r in rows],
        [r.label for r in rows],
        sources,
        note=note,
    )


def compare_with_active(
    registry: Registry,
    version: str,
    taxonomy: Taxonomy,
    *,
    data_dir: Path = CORPUS_DIR,
    session: Session | None = None,
    recent: int = DEFAULT_RECENT,
    candidate: TriageModel | None = None,
    active_model: TriageModel | None = None,
) -> Comparison:
    """Score ``version`` and the active model on the same sets; write the report files into the
    version's folder and the summary into its meta.json."""
    active = registry.active()
    if active == version:
        raise RegistryError(f"{version} 就是在用模型，没有可比较的对象")
    candidate = candidate or registry.load(version)
    if active is not None and active_model is None:
        active_model = registry.load(active)
    frozen = frozen_check(taxonomy, data_dir)
    checks = [frozen, holdout_check(registry, version)]
    if session is not None:
        checks.append(recent_check(registry, session, recent, version, active))
    names = {item.code: item.name for item in taxonomy.items}
    comparison = compare(
        candidate,
        active_model,
        checks,
        taxonomy.codes,
        names,
        candidate_version=version,
        active_version=active,
        created_at=now_iso(),
    )
    comparison.frozen_hash = data_hash(zip(frozen.labels, frozen.texts, strict=True))
    write_report(comparison, registry.dir_of(version), names)
    registry.update_meta(version, evaluation=comparison.summary())
    return comparison


def current_comparison(
    registry: Registry, version: str, taxonomy: Taxonomy, data_dir: Path = CORPUS_DIR
) -> Comparison | None:
    """The stored report of ``version`` if it was made against today's active model and frozen
    split; None when it is missing or out of date."""
    found = load_comparison(registry.dir_of(version))
    if found is None or found.active != registry.active():
        return None
    frozen = frozen_check(taxonomy, data_dir)
    if found.frozen_hash != data_hash(zip(frozen.labels, frozen.texts, strict=True)):
        return None
    return found


def promote(
    registry: Registry,
    version: str,
    taxonomy: Taxonomy,
    *,
    session: Session | None = None,
    force: bool = False,
    reason: str | None = None,
    by: str | None = None,
    data_dir: Path = CORPUS_DIR,
    recent: int = DEFAULT_RECENT,
    active_model: TriageModel | None = None,
) -> Comparison | None:
    """Make ``version`` active if it passes the gate against the active model (or is forced,
    with a reason, which is kept). Raises PromotionRefused or RegistryError."""
    reason = (reason or "").strip() or None
    registry.dir_of(version)  # unknown version: RegistryError
    if registry.active() == version:
        raise RegistryError(f"{version} 已经是在用模型")
    if force and not reason:
        raise RegistryError("强制推广必须写明原因（--reason）")
    comparison = None
    if registry.active() is not None:
        comparison = current_comparison(registry, version, taxonomy, data_dir)
        if comparison is None:
            comparison = compare_with_active(
                registry,
                version,
                taxonomy,
                data_dir=data_dir,
                session=session,
                recent=recent,
                active_model=active_model,
            )
        if not comparison.gate_ok and not force:
            raise PromotionRefused(version, comparison.gate_reasons)
    forced = comparison is not None and not comparison.gate_ok
    registry.activate(
        version, action="promote", reason=reason or "通过升级检查", by=by, forced=forced
    )
    return comparison


def rollback(registry: Registry, *, reason: str | None = None, by: str | None = None) -> str:
    """Go back to the version that was active before the current one. Returns it."""
    target = registry.rollback_target()
    if target is None:
        raise RegistryError("没有可以回退到的上一个模型")
    registry.activate(target, action="rollback", reason=(reason or "").strip() or "回退", by=by)
    return target
