"""End-to-end classifier speed against bare jieba (issue 16).

``hotline classify`` over N texts in one fresh process pinned to one core, start-up, imports and
model load included, against a fresh process that only imports jieba and segments the same
texts (``jieba.lcut``, its default dictionary, as anyone would call it). Targets: >= 3,000
texts/s and at most 2x the bare-jieba time. The texts are the labelled corpus (all splits),
repeated to N; the classifier keeps no cache, so repeats cost what new texts cost.

    python -m benchmarks.classify_speed [--n 20000] [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifiers.corpus import CORPUS_DIR
from classifiers.paths import PROJECT_ROOT, default_model_path

_BARE_JIEBA = """
import sys
import jieba
jieba.setLogLevel(60)
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    n += len(jieba.lcut(line))
print(n)
"""


def corpus_texts(n: int) -> list[str]:
    texts = []
    for path in sorted(CORPUS_DIR.glob("*/*.jsonl")):
        if path.parent.name == "hard":
            continue  # never read the held-out hard split, not even to time it
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return [texts[i % len(texts)] for i in range(n)]


def _one_core() -> list[str]:
    if hasattr(os, "sched_getaffinity"):
        return ["taskset", "-c", str(min(os.sched_getaffinity(0)))]
    return []


def _timed(cmd: list[str], stdin_path: Path | None = None) -> tuple[float, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = time.perf_counter()
    with open(stdin_path or os.devnull, "rb") as stdin:
        out = subprocess.run(
            cmd, stdin=stdin, capture_output=True, check=True, env=env, cwd=PROJECT_ROOT
        )
    return time.perf_counter() - started, out.stdout.decode("utf-8")


def run(model_path: Path | None = None, n: int = 20000, repeats: int = 3) -> dict[str, float]:
    model_path = model_path or default_model_path()
    texts = corpus_texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "in.jsonl"
        plain = Path(tmp) / "in.txt"
        jsonl.write_text(
            "".join(
                json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                for i, t in enumerate(texts)
            ),
            encoding="utf-8",
        )
        plain.write_text("".join(t.replace("\n", " ") + "\n" for t in texts), encoding="utf-8")
        hotline = [sys.executable, "-m", "hotline.cli", "classify", "--model", str(model_path)]
        classify_runs, jieba_runs = [], []
        for _ in range(repeats):  # interleaved, best of each: the machine is shared
            seconds, out = _timed(_one_core() + hotline, jsonl)
            if out.count("\n") != n:
                raise RuntimeError(f"hotline classify gave {out.count(chr(10))} lines for {n}")
            classify_runs.append(seconds)
            jieba_runs.append(
                _timed([*_one_core(), sys.executable, "-c", _BARE_JIEBA, str(plain)])[0]
            )
    classify_s, jieba_s = min(classify_runs), min(jieba_runs)
    results = {
        "texts": n,
        "mean_chars": round(sum(map(len, texts)) / n, 1),
        "classify_seconds": round(classify_s, 2),
        "classify_texts_per_s": round(n / classify_s, 1),
        "bare_jieba_seconds": round(jieba_s, 2),
        "bare_jieba_texts_per_s": round(n / jieba_s, 1),
        "ratio_to_bare_jieba": round(classify_s / jieba_s, 2),
    }
    print(f"hotline classify end to end, one core, {n} texts (start-up and model load included)")
    for key, value in results.items():
        print(f"  {key:<24} {value}")
    print("  targets: classify_texts_per_s >= 3000, ratio_to_bare_jieba <= 2")
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--model", default=None)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    run(Path(args.model) if args.model else None, args.n, args.repeats)


if __name__ == "__main__":
    main()
