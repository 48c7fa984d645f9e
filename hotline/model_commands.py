"""Analysts' model jobs on the command line: `hotline train [--from-db]`, `hotline models
list/report/promote/rollback` and `hotline export-labels` (issue 8)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from classifiers.paths import PROJECT_ROOT, corpus_model_path, model_override

CORPUS_DIR = PROJECT_ROOT / "nlu_data" / "complaints"


@contextmanager
def _db_session() -> Iterator:
    """A session on the case service's database (``DATABASE_URL``, default var/hotline.db)."""
    from api.db import make_engine, migrate, session_factory
    from api.settings import Settings

    engine = make_engine(Settings().database_url)
    migrate(engine)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _taxonomy(args: argparse.Namespace):
    from classifiers.taxonomy import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(args.taxonomy)
    except TaxonomyError as exc:
        sys.exit(f"hotline: {exc}")


def _who(args: argparse.Namespace) -> str:
    return getattr(args, "by", None) or os.environ.get("USER") or getpass.getuser()


def describe(comparison) -> list[str]:
    """A comparison in a few lines for the terminal."""
    lines = []
    for s in comparison.sets:
        if not s.n:
            lines.append(f"  {s.title}：没有数据")
            continue
        cand = s.candidate
        if s.active:
            act = s.active
            lines.append(
                f"  {s.title} {s.n} 条：准确率 {act['accuracy']:.3f} → {cand['accuracy']:.3f}，"
                f"macro-F1 {act['macro_f1']:.3f} → {cand['macro_f1']:.3f}"
            )
        else:
            lines.append(
                f"  {s.title} {s.n} 条：准确率 {cand['accuracy']:.3f}，"
                f"macro-F1 {cand['macro_f1']:.3f}"
            )
        if s.note:
            lines.append(f"    （{s.note}）")
    lines.append(f"  变好 {comparison.n_improved} 条，变差 {comparison.n_worsened} 条")
    if comparison.gate_ok:
        lines.append("升级检查：通过")
    else:
        lines.append("升级检查：未通过")
        lines += [f"  - {r}" for r in comparison.gate_reasons]
    return lines


# -- training -------------------------------------------------------------------------------------
def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from-db",
        action="store_true",
        help="also learn from the labels staff confirmed or corrected in the case database",
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=None,
        help="share of staff labels kept out of training as a check (--from-db; default 0.2)",
    )
    p.add_argument(
        "--recent",
        type=int,
        default=None,
        help="recent corrections both models are scored on (--from-db; default 200)",
    )


def _train_to_file(args: argparse.Namespace, out: Path) -> int:
    """An explicit output file: train on the corpus alone and write just that file."""
    from classifiers.corpus import CorpusError, load_split, snapshot_hash
    from classifiers.model import TrainParams, train_model

    taxonomy = _taxonomy(args)
    try:
        examples = load_split(Path(args.data) / "train", taxonomy)
    except CorpusError as exc:
        sys.exit(f"hotline: {exc}")
    model = train_model(
        [e.text for e in examples],
        [e.label for e in examples],
        taxonomy,
        TrainParams(C=args.C),
        metadata={"data_hash": snapshot_hash(examples), "data": str(args.data)},
    )
    model.save(out)
    _print_training(model)
    print(f"saved to {out}")
    return 0


def _print_training(model) -> None:
    meta = model.metadata
    print(
        f"trained on {meta['n_examples']} examples, {meta['n_features']} features in "
        f"{meta['train_seconds']} s; cross-validated accuracy {meta['cv_accuracy']:.3f}, "
        f"macro-F1 {meta['cv_macro_f1']:.3f}; review below {model.review_threshold} "
        f"(清单外 below {model.out_review_threshold}) "
        f"(cross-validated: {meta.get('cv_review_share', 0):.1%} to review, accepted "
        f"{meta.get('cv_auto_accept_precision') or 0:.3f} precise)"
    )


def _link(source: Path, target: Path) -> None:
    """Keep var/models/triage.joblib (the Makefile's target) as the newest corpus model: a hard
    link to the registered file, or a copy where links are impossible."""
    import shutil

    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def cmd_train(args: argparse.Namespace) -> int:
    from api.retrain import DEFAULT_HOLDOUT, DEFAULT_RECENT, train_version
    from classifiers.corpus import CorpusError
    from classifiers.model import TrainParams
    from classifiers.registry import Registry

    out = Path(args.out) if args.out else (None if args.from_db else model_override())
    if out is not None:
        if args.from_db:
            sys.exit("hotline: --from-db 的模型登记在模型库中，不能与 --out 同用")
        return _train_to_file(args, out)
    holdout = DEFAULT_HOLDOUT if args.holdout is None else args.holdout
    if not 0 <= holdout < 1:
        sys.exit("hotline: --holdout 须在 0 和 1 之间")
    taxonomy = _taxonomy(args)
    registry = Registry.default()
    kwargs = dict(
        data_dir=Path(args.data),
        params=TrainParams(C=args.C),
        holdout_share=holdout,
        recent=DEFAULT_RECENT if args.recent is None else args.recent,
        by=_who(args),
    )
    try:
        if args.from_db:
            with _db_session() as session:
                result = train_version(registry, taxonomy, session=session, **kwargs)
        else:
            result = train_version(registry, taxonomy, **kwargs)
    except CorpusError as exc:
        sys.exit(f"hotline: {exc}")
    folder = registry.dir_of(result.version)
    if not args.from_db:
        _link(folder / "model.joblib", corpus_model_path())
    data = result.training.summary()
    if args.from_db:
        print(
            f"训练数据：语料 {data['corpus']} 条，数据库人工标注 {data['db_labels']} 条"
            f"（参与训练 {data['db_trained']}，留出检验 {data['db_held_out']}，"
            f"冲突 {data['conflicts']} 组已排除，与冻结测试集相同 {data['excluded_frozen_overlap']}"
            " 条已排除）"
        )
        if data["excluded_unknown_items"]:
            print(f"  {data['excluded_unknown_items']} 条标注的事项已不在事项清单中，未参与训练")
        for conflict in result.training.conflicts:
            where = "；".join(
                f"{label}：{'、'.join(src)}" for label, src in conflict.labels.items()
            )
            print(f"  标注冲突：“{conflict.text[:40]}” {where}")
    _print_training(result.model)
    print(f"已登记为 {result.version}（{folder}）")
    if result.activated:
        print(f"{result.version} 已设为在用模型（此前没有在用模型）")
    elif result.comparison is not None:
        print(f"与在用模型 {result.comparison.active} 比较：")
        print("\n".join(describe(result.comparison)))
        print(f"报告：{folder / 'report.html'}")
        print(f"启用：hotline models promote {result.version}")
    if model_override() is not None:
        print("注意：设置了 HOTLINE_MODEL，服务使用该文件，不跟随模型库的在用模型")
    return 0


# -- the registry -----------------------------------------------------------------------------
def _cell(text: str, width: int, right: bool = False) -> str:
    """Pad for the terminal, counting a Chinese character as two columns."""
    import unicodedata

    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(0, width - shown)
    return fill + text if right else text + fill


def cmd_models_list(args: argparse.Namespace) -> int:
    from api.staff_words import beijing
    from classifiers.registry import Registry

    registry = Registry.default()
    active = registry.active()
    versions = registry.versions()
    if not versions:
        print("模型库是空的：先运行 hotline train")
        return 0
    widths = (6, 26, 18, 9, 9, 10, 16, 8)
    header = ("版本", "训练时间", "数据hash", "训练条数", "人工标注", "冻结集F1", "对比", "检查")
    print("  " + "".join(_cell(h, w) for h, w in zip(header, widths, strict=True)) + "启用")
    for meta in versions:
        ev = meta.get("evaluation") or {}
        frozen = (ev.get("frozen") or {}).get("candidate") or {}
        delta = ev.get("delta_macro_f1")
        gate = ev.get("gate")
        promoted = beijing(meta.get("promoted_at"))
        if promoted:
            who = f"{meta['promoted_by']}：" if meta.get("promoted_by") else ""
            promoted += f" {who}{meta.get('promotion_reason') or ''}"
            if meta.get("forced"):
                promoted += "（强制）"
        cells = (
            meta["version"],
            beijing(meta.get("created_at")),
            meta.get("data_hash") or "",
            str(meta.get("n_examples") or ""),
            str((meta.get("data") or {}).get("db_trained", 0)),
            f"{frozen['macro_f1']:.4f}" if frozen else "",
            f"{delta:+.4f} vs {ev['compared_with']}" if delta is not None else "",
            "" if gate is None else ("通过" if gate["ok"] else "未通过"),
        )
        mark = "* " if meta["version"] == active else "  "
        print(mark + "".join(_cell(c, w) for c, w in zip(cells, widths, strict=True)) + promoted)
    if active is None:
        print("没有在用模型：hotline models promote <版本>")
    return 0


def _registry_call(action) -> int:
    from classifiers.registry import RegistryError

    try:
        return action()
    except RegistryError as exc:
        sys.exit(f"hotline: {exc}")


def cmd_models_report(args: argparse.Namespace) -> int:
    from api.retrain import compare_with_active
    from classifiers.registry import Registry

    registry = Registry.default()

    def run() -> int:
        with _db_session() as session:
            comparison = compare_with_active(
                registry,
                args.version,
                _taxonomy(args),
                data_dir=Path(args.data),
                session=session,
                recent=args.recent,
            )
        print(f"{args.version} 与在用模型 {comparison.active} 比较：")
        print("\n".join(describe(comparison)))
        print(f"报告：{registry.dir_of(args.version) / 'report.html'}")
        return 0

    return _registry_call(run)


def cmd_models_promote(args: argparse.Namespace) -> int:
    from api.retrain import PromotionRefused, promote
    from classifiers.registry import Registry

    registry = Registry.default()

    def run() -> int:
        previous = registry.active()
        try:
            with _db_session() as session:
                comparison = promote(
                    registry,
                    args.version,
                    _taxonomy(args),
                    session=session,
                    force=args.force,
                    reason=args.reason,
                    by=_who(args),
                    recent=args.recent,
                    data_dir=Path(args.data),
                )
        except PromotionRefused as exc:
            print(f"{args.version} 未通过升级检查，没有启用：", file=sys.stderr)
            for reason in exc.reasons:
                print(f"  - {reason}", file=sys.stderr)
            print('确需启用请加 --force --reason "原因"', file=sys.stderr)
            return 1
        if comparison is not None:
            print("\n".join(describe(comparison)))
        print(f"已启用 {args.version}（此前 {previous or '无'}）；运行中的服务约一秒内切换")
        return 0

    return _registry_call(run)


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from api.retrain import rollback
    from classifiers.registry import Registry

    registry = Registry.default()

    def run() -> int:
        current = registry.active()
        target = rollback(registry, reason=args.reason, by=_who(args))
        print(f"已从 {current} 回退到 {target}；运行中的服务约一秒内切换")
        return 0

    return _registry_call(run)


def cmd_models_prune(args: argparse.Namespace) -> int:
    from classifiers.registry import Registry, default_keep

    registry = Registry.default()
    keep_last = default_keep() if args.keep is None else args.keep

    def run() -> int:
        kept = sorted(registry.keep_set(keep_last), key=lambda v: int(v[1:]))
        removed = registry.prune(keep_last)
        print(f"保留：{'、'.join(kept) or '无'}（在用模型、上一个在用模型、最新 {keep_last} 个）")
        print(f"已删除：{'、'.join(removed)}" if removed else "没有需要删除的模型版本")
        return 0

    return _registry_call(run)


def cmd_export_labels(args: argparse.Namespace) -> int:
    from api.labels import export_chunks

    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        with _db_session() as session:
            for chunk in export_chunks(session, args.format):
                out.write(chunk)
    finally:
        if args.out:
            out.close()
    return 0


def register(sub) -> None:
    recent_help = "recent corrections both models are scored on (default 200)"

    def taxonomy_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--taxonomy", default=None, help="taxonomy YAML (default: project's)")
        p.add_argument("--data", default=str(CORPUS_DIR), help="corpus folder (its test/ split)")

    models = sub.add_parser("models", help="the model registry: list, report, promote, rollback")
    msub = models.add_subparsers(dest="models_command", required=True)
    p = msub.add_parser("list", help="every registered model; * marks the active one")
    p.set_defaults(func=cmd_models_list)
    p = msub.add_parser("report", help="compare a version with the active model (HTML + PNG)")
    p.add_argument("version")
    p.add_argument("--recent", type=int, default=200, help=recent_help)
    taxonomy_arg(p)
    p.set_defaults(func=cmd_models_report)
    p = msub.add_parser("promote", help="make a version active if it passes the gate")
    p.add_argument("version")
    p.add_argument("--force", action="store_true", help="promote although the gate refuses")
    p.add_argument("--reason", default=None, help="why (required with --force; kept)")
    p.add_argument("--by", default=None, help="who promotes (default: the login name)")
    p.add_argument("--recent", type=int, default=200, help=recent_help)
    taxonomy_arg(p)
    p.set_defaults(func=cmd_models_promote)
    p = msub.add_parser("rollback", help="go back to the previously active version")
    p.add_argument("--reason", default=None)
    p.add_argument("--by", default=None)
    p.set_defaults(func=cmd_models_rollback)
    p = msub.add_parser(
        "prune", help="remove old versions: keep the active one, its predecessor, the newest N"
    )
    p.add_argument(
        "--keep", type=int, default=None, help="newest versions to keep (HOTLINE_MODELS_KEEP, 3)"
    )
    p.set_defaults(func=cmd_models_prune)

    p = sub.add_parser("export-labels", help="staff labels as CSV or JSON Lines (no contacts)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--out", default=None, help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export_labels)
