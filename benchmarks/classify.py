"""Classifier benchmark: model load time, batch throughput on one core, single-text latency,
peak memory. Targets (issue 2): >= 2,000 texts/s, p99 < 5 ms, load < 1 s, < 300 MB."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from classifiers.corpus import CORPUS_DIR
from classifiers.model import TriageModel

_LOAD_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from classifiers.model import TriageModel
t1 = time.perf_counter()
model = TriageModel.load(sys.argv[1])
model.predict_one("村里低保不公平")
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1}))
"""


def _sample_texts() -> list[str]:
    texts = []
    for path in sorted((CORPUS_DIR / "test").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts or ["我们村的低保评得不公平，村书记把名额给了亲戚。"]


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def measure_load(model_path: Path, repeats: int = 3) -> dict[str, float]:
    """Load time in fresh processes (best of ``repeats``): imports, then model + tokenizer ready."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _LOAD_PROBE, str(model_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: min(r[key] for r in runs) for key in runs[0]}


def run(model_path: Path, n_batch: int = 20000, n_single: int = 3000) -> dict[str, float]:
    _pin_to_one_core()
    load = measure_load(model_path)
    model = TriageModel.load(model_path)
    texts = _sample_texts()
    batch = [texts[i % len(texts)] for i in range(n_batch)]
    model.predict(batch[:500])  # warm-up: tokenizer, caches

    started = time.perf_counter()
    for i in range(0, n_batch, 1000):
        model.predict(batch[i : i + 1000])
    throughput = n_batch / (time.perf_counter() - started)

    latencies = []
    for i in range(n_single):
        text = texts[i % len(texts)]
        t = time.perf_counter()
        model.predict_one(text)
        latencies.append(time.perf_counter() - t)
    lat = np.asarray(latencies) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mean_chars = sum(map(len, texts)) / len(texts)
    results = {
        "texts_mean_chars": round(mean_chars, 1),
        "batch_texts_per_s_one_core": round(throughput, 1),
        "single_p50_ms": round(float(np.percentile(lat, 50)), 3),
        "single_p99_ms": round(float(np.percentile(lat, 99)), 3),
        "import_s": round(load["import_s"], 3),
        "model_load_s": round(load["load_s"], 3),
        "peak_rss_mb": round(peak_mb, 1),
    }
    print("classifier benchmark (one core)")
    for key, value in results.items():
        print(f"  {key:<28} {value}")
    return results
