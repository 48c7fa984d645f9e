"""The `hotline` command as analysts use it: real processes, real pipes."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from classifiers.corpus import CORPUS_DIR
from classifiers.model import TriageModel
from classifiers.taxonomy import DEFAULT_TAXONOMY_PATH
from hotline.processes import HOTLINE


def _run(args, stdin: bytes = b"", env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HOTLINE, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_classify_writes_one_line_per_input_and_survives_bad_lines(model_path):
    lines = [
        json.dumps({"id": 1, "text": "村里的低保给了书记的亲戚"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": 3}),
        json.dumps({"id": 4, "text": "   "}),
        json.dumps({"id": 5, "text": 42}),
        json.dumps([1, 2]),
        json.dumps({"id": "long", "text": "低" * 4001}),
        "",
        json.dumps({"id": "last", "text": "隔壁的狗天天叫"}, ensure_ascii=False),
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b'{"id": 9, "text": "\xff\xfe"}\n'
    result = _run(["classify", "--model", str(model_path)], stdin)
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == 9  # the blank line is not an input
    good, not_json, no_text, empty, not_str, array, long, last, bad_utf8 = out
    assert good["id"] == 1 and good["category"] == "S01"
    assert set(good) == {"id", "category", "confidence", "top", "needs_review", "terms"}
    assert len(good["top"]) == 3 and good["top"][0][0] == "S01"
    assert "JSON" in not_json["error"] and not_json["id"] is None
    assert no_text == {"id": 3, "error": "缺少text字段"}
    assert empty["error"] == "text为空"
    assert "字符串" in not_str["error"]
    assert "对象" in array["error"]
    assert long["id"] == "long" and "4001" in long["error"] and "category" not in long
    assert last["id"] == "last" and "error" not in last
    assert "UTF-8" in bad_utf8["error"]


def test_classify_answers_each_line_as_it_arrives(model_path):
    proc = subprocess.Popen(
        [HOTLINE, "classify", "--model", str(model_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for n, text in enumerate(["五保老人的钱没发", "村里开证明要收钱"]):
            proc.stdin.write(
                (json.dumps({"id": n, "text": text}, ensure_ascii=False) + "\n").encode()
            )
            proc.stdin.flush()
            line = proc.stdout.readline()  # answered while stdin is still open
            assert json.loads(line)["id"] == n
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_missing_model_is_a_clear_error(tmp_path):
    result = _run(["classify", "--model", str(tmp_path / "none.joblib")], b"{}\n")
    assert result.returncode != 0
    assert b"hotline train" in result.stderr


def test_evaluate_prints_per_item_metrics_styles_and_writes_a_png(model_path, tmp_path):
    png = tmp_path / "cm.png"
    summary = tmp_path / "summary.json"
    result = _run(
        ["evaluate", "--model", str(model_path), "--png", str(png), "--json", str(summary)]
    )
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    for needle in ("S01", "B01", "OUT", "accuracy by style", "asr", "dialect", "macro_f1"):
        assert needle in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(summary.read_text())["accuracy"] > 0.5


def test_county_edits_the_taxonomy_and_retrains_without_code_changes(tmp_path):
    """Rename an item's code, drop others, retrain: the model speaks the new taxonomy."""
    taxonomy = yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))
    keep = {"S01", "S09", "S17", "OUT"}
    items = [i for i in taxonomy["items"] if i["code"] in keep]
    for item in items:
        if item["code"] == "S17":
            item.update(code="X17", name="生态补偿（县定）", deadline_days=20)
    taxonomy["items"] = items
    tax_path = tmp_path / "taxonomy.yml"
    tax_path.write_text(yaml.safe_dump(taxonomy, allow_unicode=True), encoding="utf-8")
    for split in ("train", "test"):
        (tmp_path / "data" / split).mkdir(parents=True)
        for code in keep:
            target = "X17" if code == "S17" else code
            shutil.copy(
                CORPUS_DIR / split / f"{code}.jsonl", tmp_path / "data" / split / f"{target}.jsonl"
            )
    model_file = tmp_path / "model.joblib"
    started = time.monotonic()
    result = _run(
        [
            "train",
            "--data",
            str(tmp_path / "data"),
            "--taxonomy",
            str(tax_path),
            "--out",
            str(model_file),
        ]
    )
    assert result.returncode == 0, result.stderr.decode()
    assert time.monotonic() - started < 120
    model = TriageModel.load(model_file)
    assert model.classes == ["OUT", "S01", "S09", "X17"]
    assert model.metadata["names"]["X17"] == "生态补偿（县定）"
    out = _run(
        ["classify", "--model", str(model_file)],
        json.dumps({"id": 1, "text": "公益林补偿款被村里扣了一半"}, ensure_ascii=False).encode(),
    )
    assert json.loads(out.stdout)["category"] == "X17"


def test_training_refuses_data_the_taxonomy_does_not_know(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "Q42.jsonl").write_text(
        '{"text": "什么", "style": "short"}\n', encoding="utf-8"
    )
    result = _run(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.joblib")])
    assert result.returncode != 0
    assert b"Q42 is not an item code" in result.stderr
    assert not Path(tmp_path / "m.joblib").exists()
