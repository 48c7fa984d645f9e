"""``hotline cluster`` and ``hotline evaluate-clusters``: group complaints about the same event.

``hotline cluster`` answers with each complaint's final event: a later report that joins an
earlier one changes the earlier one's answer too, so the output is written once all input is read.
``--stream`` answers each line as it arrives (where it went at that moment), for a pipe that is
never closed.

``register(sub)`` adds both subcommands to the CLI; ``run_cluster_bench(args)`` runs the
clustering benchmark for ``hotline bench cluster``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.cluster_config import ClusterConfig, with_weights
from classifiers.cluster_items import alternatives
from hotline.jsonl_stream import Record

if TYPE_CHECKING:  # the clustering code loads the language tools: imported when a command runs
    from classifiers.cluster_engine import EventClusterer


def _config(args: argparse.Namespace) -> ClusterConfig:
    config = ClusterConfig(window_days=args.window_days, joint_review_reporters=args.min_reporters)
    if args.threshold is not None:
        config = with_weights(config, threshold=args.threshold)
    return config


def _taxonomy(args: argparse.Namespace):
    from classifiers.taxonomy import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(args.taxonomy)
    except TaxonomyError as exc:
        sys.exit(f"hotline: {exc}")


class CategoryPredictor:
    """Predicts the item of complaints that come without one; loads the model on first use."""

    def __init__(self, model_path: str | None) -> None:
        self.model_path = model_path
        self._model = None

    def __call__(self, texts: list[str]) -> list[tuple[str, tuple[str, ...]]]:
        if self._model is None:
            from classifiers.model import TriageModel
            from classifiers.paths import default_model_path

            path = Path(self.model_path) if self.model_path else default_model_path()
            self._model = TriageModel.load(path)
        # An unsure prediction is also compared under the rest of its top three (清单外 too).
        return [
            (p.category, alternatives(p.category, p.top, p.needs_review))
            for p in self._model.predict(texts)
        ]


def cluster_records(
    clusterer: EventClusterer,
    records: list[Record],
    predict: CategoryPredictor,
    originals: dict[str, object] | None = None,
) -> list[Record]:
    """One output per record, in order: where it went, or an ``error`` for that record alone.
    ``originals`` (kept across batches by the caller) maps case ids back to the ids as given, so
    ``matched`` echoes 1 for a complaint sent as ``"id": 1``."""
    from classifiers.cluster_engine import Complaint, parse_time
    from classifiers.model import MAX_TEXT_CHARS

    prepared: list = []  # Complaint, or the error record
    need_category: list[int] = []
    for i, record in enumerate(records):
        ident = record.get("id")
        try:
            if ident is None or isinstance(ident, (dict, list, bool)):
                raise ValueError("缺少id字段（应为字符串或数字）")
            if len(record["text"]) > MAX_TEXT_CHARS:
                raise ValueError(
                    f"内容过长：{len(record['text'])}字，超过{MAX_TEXT_CHARS}字上限，请分段提交"
                )
            category = record.get("category")
            if category is not None and category not in clusterer.taxonomy.by_code:
                raise ValueError(f"未知事项编码：{category}")
            reporter = record.get("reporter")
            complaint = Complaint(
                id=str(ident),
                text=record["text"],
                category=category or "",
                reporter=None if reporter in (None, "") else str(reporter),
                received_at=parse_time(record.get("received_at")),
            )
        except ValueError as exc:
            prepared.append({"id": ident, "error": str(exc)})
            continue
        if category is None:
            need_category.append(i)
        prepared.append(complaint)
    if need_category:
        try:
            guesses = predict([records[i]["text"] for i in need_category])
        except Exception as exc:  # one failed prediction must not end the run
            for i in need_category:
                prepared[i] = {"id": records[i].get("id"), "error": f"事项预测失败：{exc}"}
        else:
            for i, (category, alternatives) in zip(need_category, guesses, strict=True):
                c = prepared[i]
                assert isinstance(c, Complaint)
                prepared[i] = Complaint(
                    c.id, c.text, category, c.reporter, c.received_at, alternatives
                )
    originals = {} if originals is None else originals
    originals.update(
        (c.id, records[i].get("id")) for i, c in enumerate(prepared) if not isinstance(c, dict)
    )
    records_by_id = {str(r.get("id")): r for r in records}
    out: list[Record] = []
    for item in prepared:
        if isinstance(item, dict):
            out.append(item)
            continue
        try:
            assignment = clusterer.add(item)
        except ValueError as exc:
            out.append({"id": originals.get(item.id, item.id), "error": str(exc)})
            continue
        result = assignment.as_output()
        result["id"] = originals.get(item.id, item.id)
        result["matched"] = [originals.get(m, m) for m in result["matched"]]
        if records_by_id.get(item.id, {}).get("category") is None:
            result["category"] = clusterer.case_category(item.id)  # predicted here
        out.append(result)
    return out


def final_assignment(
    clusterer: EventClusterer, arrival: Record, originals: dict[str, object]
) -> Record:
    """The arrival-time answer for one complaint, brought up to date with the event it is in once
    everything was clustered: its final event id, the other cases in it now, its reporters. The
    reason stays the one given when it arrived, unless it arrived alone and was joined later."""
    from classifiers.cluster_engine import MATCHED_SHOWN

    case_id = str(arrival["id"])
    view = clusterer.event_of(case_id)
    others = [m for m in view.members if m != case_id][-MATCHED_SHOWN:]
    out = dict(arrival)
    out["cluster"] = view.id if others else None
    out["matched"] = [originals.get(m, m) for m in others]
    out["reporters"] = view.reporters
    out["joint_review"] = view.joint_review
    if others and not arrival.get("matched"):
        later = "、".join(str(originals.get(m, m)) for m in others[:3])
        out["why"] = f"后来的反映（{later}）与之同属一事"
    return out


def cmd_cluster(args: argparse.Namespace) -> int:
    from classifiers.cluster_engine import EventClusterer
    from hotline.jsonl_stream import run_jsonl

    taxonomy = _taxonomy(args)
    state = Path(args.state) if args.state else None
    if state and state.exists():
        try:
            clusterer = EventClusterer.load(state, taxonomy)
        except (ValueError, KeyError, OSError) as exc:
            sys.exit(f"hotline: 无法读取聚类状态 {state}：{exc}")
    else:
        clusterer = EventClusterer(taxonomy, _config(args))
    predict = CategoryPredictor(args.model)
    originals: dict[str, object] = {}
    sink = sys.stdout if args.stream else io.StringIO()
    try:
        ok, errors = run_jsonl(
            sys.stdin.buffer,
            sink,
            lambda recs: cluster_records(clusterer, recs, predict, originals),
        )
    finally:
        if state:
            clusterer.save(state)
    if not args.stream:
        assert isinstance(sink, io.StringIO)
        for line in sink.getvalue().splitlines():
            record = json.loads(line)
            if "error" not in record:
                record = final_assignment(clusterer, record, originals)
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    events = [e for e in clusterer.events() if len(e.members) > 1]
    flagged = sum(e.joint_review for e in events)
    print(
        f"clustered {ok}, errors {errors}; events with several complaints {len(events)}, "
        f"flagged for joint review {flagged}",
        file=sys.stderr,
    )
    return 0


def cmd_evaluate_clusters(args: argparse.Namespace) -> int:
    from classifiers.cluster_eval import (
        EventSetError,
        evaluate_clustering,
        format_cluster_report,
        load_event_set,
    )

    taxonomy = _taxonomy(args)
    try:
        records = load_event_set(Path(args.file), taxonomy, CategoryPredictor(args.model))
    except (EventSetError, OSError) as exc:
        sys.exit(f"hotline: {exc}")
    evaluation, clusterer = evaluate_clustering(records, taxonomy, _config(args))
    print(format_cluster_report(evaluation))
    if args.errors:
        text = {r.complaint.id: r.complaint.text for r in records}
        gold = {r.complaint.id: r.event for r in records}
        predicted = clusterer.clusters()
        for title, pairs in (
            ("put together, different events", evaluation.wrong),
            ("kept apart, same event", evaluation.missed),
        ):
            print(f"\n{title}:")
            for a, b in pairs:
                print(f"  {a} [{gold[a] or '-'}→{predicted[a]}] {text[a][:50]}")
                print(f"  {b} [{gold[b] or '-'}→{predicted[b]}] {text[b][:50]}\n")
    if args.json:
        Path(args.json).write_text(
            json.dumps(evaluation.summary(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    defaults = ClusterConfig()
    p.add_argument("--taxonomy", default=None, help="taxonomy YAML (default: project's)")
    p.add_argument("--model", default=None, help="triage model for complaints without category")
    p.add_argument(
        "--window-days",
        type=float,
        default=defaults.window_days,
        help="an event stays open this many days after its last complaint",
    )
    p.add_argument(
        "--min-reporters",
        type=int,
        default=defaults.joint_review_reporters,
        help="distinct reporters that flag an event for joint review",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"evidence needed to join an event (default {defaults.weights.threshold})",
    )


def register(sub) -> None:
    """Add ``cluster`` and ``evaluate-clusters`` to the CLI's subparsers."""
    p = sub.add_parser("cluster", help="group JSON Lines complaints from stdin into events")
    _common(p)
    p.add_argument(
        "--state",
        default=None,
        help="JSON state file: loaded if present, saved at the end (.gz compresses)",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="answer each line as it arrives (the event at that moment), not the final events",
    )
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("evaluate-clusters", help="score event clustering on a labelled set")
    p.add_argument("file", help="labelled JSON Lines (id, text, category, received_at, event …)")
    _common(p)
    p.add_argument("--errors", action="store_true", help="list the wrongly joined/split pairs")
    p.add_argument("--json", default=None, help="also write the summary as JSON here")
    p.set_defaults(func=cmd_evaluate_clusters)


def run_cluster_bench(args: argparse.Namespace) -> int:
    """``hotline bench cluster``: insert synthetic complaints and report latency and memory."""
    from benchmarks.cluster import run

    n = getattr(args, "n", None) or 200_000
    run(n_complaints=n)
    return 0
