"""``hotline cluster`` and ``hotline evaluate-clusters`` end to end, in a subprocess."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from classifiers.paths import PROJECT_ROOT
from hotline.cluster_commands import register

# The two subcommands on a parser of their own, so these tests do not depend on how cli.py
# wires them in.
HARNESS = """
import argparse, sys
from hotline.cluster_commands import register
parser = argparse.ArgumentParser(prog="hotline")
register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
raise SystemExit(args.func(args))
"""

EVENT = [
    {
        "id": 1,
        "text": "河湾村刘主任把低保给了自家儿媳妇，人家在县城开服装店",
        "category": "S01",
        "reporter": "u1",
        "received_at": "2024-03-01T09:00:00+08:00",
    },
    {
        "id": 2,
        "text": "我们河湾村今年评低保，村主任刘长贵把他小舅子报上去了",
        "category": "S01",
        "reporter": "u2",
        "received_at": "2024-03-03T09:00:00+08:00",
    },
    {
        "id": 3,
        "text": "喂你好我反映我们和湾村的滴保问题那个流主任把他家亲戚都弄成低保户了",
        "category": "S01",
        "reporter": "u3",
        "received_at": "2024-03-06T09:00:00+08:00",
    },
]
OTHER = {
    "id": "x",
    "text": "李庄村王书记搞低保不公平，有车有房的都评上了",
    "category": "S01",
    "reporter": "u9",
    "received_at": "2024-03-07T09:00:00+08:00",
}


def run(args: list[str], lines: list[str] | str = "", env: dict | None = None):
    stdin = lines if isinstance(lines, str) else "".join(line + "\n" for line in lines)
    return subprocess.run(
        [sys.executable, "-c", HARNESS, *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def outputs(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def test_one_line_per_input_bad_lines_get_an_error_and_the_run_goes_on():
    lines = [
        dumps(EVENT[0]),
        "{not json",
        dumps({"id": 7}),
        dumps(EVENT[1]),
        dumps({**OTHER, "id": "bad", "category": "NOPE"}),
        dumps({**OTHER, "id": "late", "received_at": "yesterday"}),
        dumps(EVENT[2]),
        dumps(OTHER),
    ]
    out = outputs(run(["cluster", "--stream"], lines))
    assert len(out) == len(lines)
    assert [o["id"] for o in out] == [1, None, 7, 2, "bad", "late", 3, "x"]
    assert all("error" in out[i] for i in (1, 2, 4, 5))
    first, second, third, other = out[0], out[3], out[6], out[7]
    # --stream: where each went when it arrived
    assert first["cluster"] is None and first["matched"] == []
    assert second["cluster"] and second["cluster"] == third["cluster"]
    assert second["matched"] == [1] and third["matched"] == [1, 2]  # ids as given
    assert third["reporters"] == 3 and third["joint_review"] is True
    assert "河湾" in third["why"]
    assert other["cluster"] is None


def test_without_stream_every_complaint_gets_its_final_event():
    lines = [dumps(EVENT[0]), "{not json", dumps(EVENT[1]), dumps(OTHER), dumps(EVENT[2])]
    out = outputs(run(["cluster"], lines))
    assert [o["id"] for o in out] == [1, None, 2, "x", 3]
    assert "error" in out[1]
    first, second, other, third = out[0], out[2], out[3], out[4]
    # The first report was alone when it arrived; later ones joined it, so its answer changes.
    assert first["cluster"] is not None
    assert first["cluster"] == second["cluster"] == third["cluster"]
    assert first["matched"] == [2, 3] and second["matched"] == [1, 3]
    assert first["reporters"] == 3 and first["joint_review"] is True
    assert "后来的反映" in first["why"] and "河湾" in second["why"]
    assert other["cluster"] is None and other["matched"] == []


def test_category_is_predicted_when_absent(model_path):
    lines = [dumps({k: v for k, v in r.items() if k != "category"}) for r in EVENT]
    out = outputs(run(["cluster"], lines, env={"HOTLINE_MODEL": str(model_path)}))
    assert all("error" not in o for o in out)
    assert all(o["category"] == "S01" for o in out)
    assert out[2]["cluster"] == out[1]["cluster"] is not None


def test_state_file_carries_events_and_settings_across_runs(tmp_path):
    state = tmp_path / "events.json.gz"
    first = outputs(
        run(
            ["cluster", "--state", str(state), "--min-reporters", "2"],
            [dumps(r) for r in EVENT[:2]],
        )
    )
    assert state.exists() and first[1]["joint_review"] is True
    second = outputs(run(["cluster", "--state", str(state)], [dumps(EVENT[2])]))
    assert second[0]["matched"] == ["1", "2"] and second[0]["cluster"] == first[1]["cluster"]


def test_window_option_keeps_late_reports_apart():
    late = {**EVENT[2], "received_at": "2024-05-20T09:00:00+08:00"}
    lines = [dumps(EVENT[0]), dumps(EVENT[1]), dumps(late)]
    assert outputs(run(["cluster", "--window-days", "30"], lines))[2]["cluster"] is None
    assert outputs(run(["cluster"], lines))[2]["cluster"] is not None


def test_evaluate_clusters_scores_a_labelled_file(tmp_path):
    labelled = tmp_path / "events.jsonl"
    rows = [{**r, "event": "E"} for r in EVENT] + [{**OTHER, "event": None}]
    labelled.write_text("\n".join(dumps(r) for r in rows) + "\n", encoding="utf-8")
    summary = tmp_path / "summary.json"
    proc = run(["evaluate-clusters", str(labelled), "--json", str(summary), "--errors"])
    assert proc.returncode == 0, proc.stderr.decode()
    report = proc.stdout.decode("utf-8")
    assert "pairwise" in report and "B-cubed" in report
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["complaints"] == 4 and data["gold_events"] == 2
    for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1"):
        assert 0.0 <= data[key] <= 1.0


def test_evaluate_clusters_names_the_bad_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(dumps({**EVENT[0], "event": "E"}) + "\n{oops\n", encoding="utf-8")
    proc = run(["evaluate-clusters", str(bad)])
    assert proc.returncode != 0 and "bad.jsonl:2" in proc.stderr.decode("utf-8")


def test_register_adds_both_commands_with_the_documented_defaults():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cluster"])
    assert (args.window_days, args.min_reporters) == (180.0, 3)
    args = parser.parse_args(["evaluate-clusters", "f.jsonl", "--window-days", "90"])
    assert args.file == "f.jsonl" and args.window_days == 90.0
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate-clusters"])
