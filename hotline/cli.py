"""``hotline``: command-line entry for the project's jobs (classify, train, evaluate, bench …)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from classifiers.paths import PROJECT_ROOT, default_model_path, var_dir
from hotline import (
    bot_commands,
    cluster_commands,
    model_commands,
    phone_commands,
    qr_commands,
    service_commands,
)


def _load_model(path: str | None):
    from classifiers.model import TriageModel

    model_path = Path(path) if path else default_model_path()
    try:
        return TriageModel.load(model_path)
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"hotline: {exc}")


def classify_records(model, records: list[dict]) -> list[dict]:
    """One output per record: the prediction, or an ``error`` for that record alone."""
    from classifiers.model import TextTooLongError, check_length

    results: list[dict | None] = [None] * len(records)
    todo = []
    for i, record in enumerate(records):
        try:
            check_length(record["text"])
            todo.append(i)
        except TextTooLongError as exc:
            results[i] = {"id": record.get("id"), "error": str(exc)}
    try:
        predictions = model.predict([records[i]["text"] for i in todo])
    except Exception as exc:
        predictions = None
        failure = f"分类失败：{type(exc).__name__}: {exc}"
    for n, i in enumerate(todo):
        if predictions is None:
            results[i] = {"id": records[i].get("id"), "error": failure}
        else:
            results[i] = {"id": records[i].get("id"), **predictions[n].as_dict()}
    return results  # type: ignore[return-value]


def cmd_classify(args: argparse.Namespace) -> int:
    from hotline.jsonl_stream import run_jsonl

    model = _load_model(args.model)
    ok, errors = run_jsonl(sys.stdin.buffer, sys.stdout, lambda recs: classify_records(model, recs))
    print(f"classified {ok}, errors {errors}", file=sys.stderr)
    return 0


def _load_corpus(args: argparse.Namespace, split: str):
    from classifiers.corpus import CorpusError, load_split
    from classifiers.taxonomy import TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(args.taxonomy)
        examples = load_split(Path(args.data) / split, taxonomy)
    except (TaxonomyError, CorpusError) as exc:
        sys.exit(f"hotline: {exc}")
    return taxonomy, examples


def _score_split(model, taxonomy, examples):
    from classifiers.evaluate import evaluate_predictions

    predictions = model.predict([e.text for e in examples])
    ev = evaluate_predictions(
        [e.label for e in examples],
        [p.category for p in predictions],
        [e.style for e in examples],
        [p.needs_review for p in predictions],
        taxonomy.codes,
    )
    return ev, predictions


def _coverage_table(args: argparse.Namespace, model, scored: dict | None = None) -> None:
    """Review share and accepted precision: train (cross-validated, from the model's training)
    and the held-out splits; ``scored`` (split -> (n, summary)) gives splits already scored,
    otherwise (``--split all``) every held-out split present is scored here."""
    from classifiers.corpus import HELD_OUT_SPLITS
    from classifiers.evaluate import COVERAGE_HEADER, COVERAGE_LEGEND, coverage_row, cv_summary

    print(
        f"coverage against precision (review below confidence {model.review_threshold}, "
        f"清单外 below {model.out_review_threshold}):"
    )
    print(COVERAGE_HEADER)
    print(coverage_row("train-cv", model.metadata.get("n_examples", 0), cv_summary(model.metadata)))
    if scored is None:
        scored = {}
        for split in HELD_OUT_SPLITS:
            if (Path(args.data) / split).is_dir():
                taxonomy, examples = _load_corpus(args, split)
                ev = _score_split(model, taxonomy, examples)[0]
                scored[split] = (len(examples), ev.summary())
    for split, (n, summary) in scored.items():
        print(coverage_row(split, n, summary))
    print(COVERAGE_LEGEND)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifiers.evaluate import format_report, plot_confusion

    model = _load_model(args.model)
    if args.split == "all":
        _coverage_table(args, model)
        return 0
    taxonomy, examples = _load_corpus(args, args.split)
    ev, predictions = _score_split(model, taxonomy, examples)
    names = {item.code: item.name for item in taxonomy.items}
    print(format_report(ev, names))
    png = Path(args.png) if args.png else var_dir() / "reports" / f"confusion-{args.split}.png"
    print(f"confusion matrix: {plot_confusion(ev, png)}")
    if args.errors:
        for e, p in zip(examples, predictions, strict=True):
            if e.label != p.category:
                print(f"{e.source}\t{e.label}->{p.category} {p.confidence:.2f}\t{e.text[:60]}")
    if args.json:
        Path(args.json).write_text(json.dumps(ev.summary(), ensure_ascii=False, indent=2))
    print()
    _coverage_table(args, model, {args.split: (len(examples), ev.summary())})
    return 0


def cmd_check_data(args: argparse.Namespace) -> int:
    from classifiers.corpus import SPLITS, near_duplicate_pairs

    failures = 0
    for split in SPLITS:
        if not (Path(args.data) / split).is_dir():
            continue
        taxonomy, examples = _load_corpus(args, split)
        counts = {code: 0 for code in taxonomy.codes}
        for e in examples:
            counts[e.label] += 1
        print(
            f"{split}: {len(examples)} examples; " + " ".join(f"{c}={n}" for c, n in counts.items())
        )
        pairs = near_duplicate_pairs([e.text for e in examples])
        for i, j, score in pairs:
            failures += 1
            print(f"  near-duplicate ({score:.2f}): {examples[i].source} ~ {examples[j].source}")
    return 1 if failures else 0


def cmd_bench(args: argparse.Namespace) -> int:
    model_path = Path(args.model) if args.model else default_model_path()
    if args.target == "classify":
        from benchmarks.classify import run as run_classify_bench

        run_classify_bench(model_path, n_batch=args.n or 20000)
        from benchmarks.classify_speed import run as run_classify_speed

        run_classify_speed(model_path, n=args.n or 20000)
    elif args.target == "service":
        from benchmarks.service import run as run_service_bench

        if args.hosts > 1:  # several hosts on one PostgreSQL database (issue 15)
            from benchmarks.service import run_multihost

            run_multihost(model_path, seconds=args.seconds)
            return 0
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        run_service_bench(model_path, backends, seconds=args.seconds)
    elif args.target == "cluster":
        return cluster_commands.run_cluster_bench(args)
    elif args.target == "bot":
        from benchmarks.bot import run_bot_bench

        run_bot_bench(rasa=args.rasa)
    elif args.target == "phone":
        from benchmarks.phone import run_phone_bench

        run_phone_bench()
    elif args.target == "retrain":
        from benchmarks.retrain import run as run_retrain_bench

        run_retrain_bench(n=args.n or 10_000)
    elif args.target == "workbench":
        from benchmarks.workbench import run as run_workbench_bench

        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        run_workbench_bench(model_path, backends, n=args.n or 50_000)
    elif args.target == "fuzz":
        from benchmarks.fuzz import run as run_fuzz_bench

        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        return 0 if run_fuzz_bench(model_path, backends, examples=args.n or 80) else 1
    elif args.target == "redact":
        from benchmarks.redact import run as run_redact_bench

        return 0 if run_redact_bench() else 1
    return 0


def default_workers(database_url: str) -> int:
    """SQLite has one writer: a second process only waits on its lock (measured: intake fell
    from 233/s to about 100/s with two). On PostgreSQL a process waits for each round trip, so
    one more process than cores overlaps those waits (2 cores: lookups 820/s with 2 processes,
    1,820/s with 3, 1,065/s with 4)."""
    import os

    if database_url.startswith("sqlite"):
        return 1
    return min(8, (os.cpu_count() or 1) + 1)


def cmd_serve(args: argparse.Namespace) -> int:

    import uvicorn

    from api.db import make_engine, migrate, session_factory
    from api.logging_setup import uvicorn_config
    from api.ops_metrics import prepare_multiprocess_metrics
    from api.settings import Settings

    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate(engine)  # once, before the worker processes start
    note = service_commands.ensure_first_supervisor(session_factory(engine))
    engine.dispose()
    if note:
        # The password itself stays in the file (mode 600): this output ends up in logs.
        print(
            f"首次启动：已创建主管账号 admin，密码保存在 {note}（仅本机账户可读），"
            "请登录后用 hotline create-user 创建正式账号。",
            flush=True,
        )
    workers = args.workers or default_workers(settings.database_url)
    if workers > 1:  # /metrics adds up every worker's counts (api/ops_metrics.py)
        prepare_multiprocess_metrics()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        access_log=args.access_log,  # off by default: a line per request costs throughput
        log_config=uvicorn_config(),  # JSON lines with the request id (api/logging_setup.py)
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data_default = str(PROJECT_ROOT / "nlu_data" / "complaints")

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", default=data_default, help="corpus folder with train/ and test/")
        p.add_argument("--taxonomy", default=None, help="taxonomy YAML (default: project's)")

    p = sub.add_parser("classify", help="classify JSON Lines from stdin")
    p.add_argument("--model", default=None)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("train", help="train the triage model and register it (issue 8)")
    data_args(p)
    p.add_argument("--out", default=None, help="only write the model to this file (no registry)")
    p.add_argument("--C", type=float, default=0.5, help="SVM regularisation")
    model_commands.add_train_args(p)
    p.set_defaults(func=model_commands.cmd_train)

    p = sub.add_parser("evaluate", help="score the model on a labelled split")
    data_args(p)
    p.add_argument(
        "--split",
        default="test",
        choices=["test", "blind", "hard", "train", "all"],
        help="the split to report on (all: only the coverage/precision table of every split)",
    )
    p.add_argument("--model", default=None)
    p.add_argument("--png", default=None, help="confusion-matrix PNG path")
    p.add_argument("--json", default=None, help="also write the summary as JSON here")
    p.add_argument("--errors", action="store_true", help="list misclassified examples")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("check-data", help="validate taxonomy and corpus, list near-duplicates")
    data_args(p)
    p.set_defaults(func=cmd_check_data)

    p = sub.add_parser("bench", help="benchmarks")
    targets = [
        "classify",
        "service",
        "cluster",
        "workbench",
        "bot",
        "phone",
        "retrain",
        "redact",
        "fuzz",
    ]
    p.add_argument("target", choices=targets)
    p.add_argument("--model", default=None)
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help="texts in the batch run (classify); cases (workbench); examples per operation (fuzz)",
    )
    p.add_argument("--seconds", type=int, default=15, help="length of each load phase (service)")
    p.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    p.add_argument(
        "--hosts", type=int, default=1, help="service: 2 = one host, then two, on PostgreSQL"
    )
    p.add_argument("--rasa", type=int, default=1, help="bot: Rasa processes (2: on PostgreSQL)")
    p.set_defaults(func=cmd_bench)

    service_commands.register(sub)
    cluster_commands.register(sub)
    bot_commands.register(sub)
    phone_commands.register(sub)
    qr_commands.register(sub)
    model_commands.register(sub)

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default: 1 on SQLite, CPUs + 1 up to 8 on PostgreSQL)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
