"""Retraining benchmark (issue 8): `hotline train --from-db` on 10,000 labelled complaints.
Target: under 2 minutes on this machine, from the command to the registered, compared model.

The labels: the corpus's training split plus staff labels in a scratch SQLite database, enough
that the training set reaches ``n`` after the 20% hold-out. The staff labels are training texts
with light noise (a filler word, a place, a closing), each a distinct text with its item; that
is no paraphrase, but it costs the trainer what real labels of that length would. The scratch
registry starts with the current model as the active one, so the run includes the comparison
and the report."""

from __future__ import annotations

import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from classifiers.corpus import CORPUS_DIR, load_split
from classifiers.paths import PROJECT_ROOT, default_model_path
from classifiers.taxonomy import load_taxonomy
from classifiers.training_set import text_key

HOTLINE = str(Path(sys.executable).with_name("hotline"))
FILLERS = ("那个", "就是说", "我跟你讲", "说实话", "你们给评评理", "唉", "麻烦问一下")
PLACES = ("东庄村", "李家湾", "王岗村", "新河村", "柳树村", "河湾村", "南港村", "北坡组")
CLOSINGS = ("", "请尽快处理。", "希望有个说法。", "谢谢。", "我们等着回复。")


def noisy_texts(examples, n: int, seed: int = 42) -> list[tuple[str, str]]:
    """``n`` distinct (text, label) pairs made from training examples with light noise."""
    rng = random.Random(seed)
    seen = {text_key(e.text) for e in examples}
    out: list[tuple[str, str]] = []
    while len(out) < n:
        e = rng.choice(examples)
        cut = [m.end() for m in re.finditer(r"[，。！？,]", e.text)] or [0]
        at = rng.choice(cut)
        text = f"我是{rng.choice(PLACES)}的，" + e.text[:at] + rng.choice(FILLERS) + e.text[at:]
        text += rng.choice(CLOSINGS)
        key = text_key(text)
        if key not in seen:
            seen.add(key)
            out.append((text, e.label))
    return out


def _seed_database(url: str, labelled: list[tuple[str, str]], codes: list[str]) -> None:
    from api.case_numbers import new_case_number
    from api.clock import now
    from api.db import make_engine, migrate, session_factory
    from api.lifecycle import State
    from api.models import Case, Label

    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(7)
    numbers: set[str] = set()
    while len(numbers) < len(labelled):
        numbers.add(new_case_number())
    moment = now()
    with session_factory(engine)() as session, session.begin():
        for number, (text, label) in zip(sorted(numbers), labelled, strict=True):
            previous = rng.choice([c for c in codes if c != label])
            at = moment - timedelta(minutes=rng.randrange(60 * 24 * 90))
            case = Case(
                number=number,
                text=text,
                channel="web",
                received_at=at,
                state=State.ACCEPTED,
                triage_status="done",
                category=label,
                predicted_category=previous,
                confidence=0.4,
                category_confirmed=True,
                needs_review=False,
            )
            session.add(case)
            session.flush()
            session.add(
                Label(case_id=case.id, category=label, previous=previous, kind="correct", at=at)
            )
    engine.dispose()


def run(n: int = 10_000, holdout: float = 0.2) -> dict:
    taxonomy = load_taxonomy()
    corpus = load_split(CORPUS_DIR / "train", taxonomy)
    n_db = max(0, math.ceil((n - len(corpus)) / (1 - holdout)))
    scratch = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    try:
        started = time.perf_counter()
        _seed_database(
            f"sqlite:///{scratch / 'hotline.db'}", noisy_texts(corpus, n_db), taxonomy.codes
        )
        seeded = time.perf_counter() - started
        active = default_model_path()
        if active.exists():  # the current model as the one to beat
            folder = scratch / "models" / "registry" / "v1"
            folder.mkdir(parents=True)
            shutil.copyfile(active, folder / "model.joblib")
            (folder / "meta.json").write_text('{"version": "v1", "activations": []}')
            (scratch / "models" / "active").write_text("v1\n")
        env = {**os.environ, "HOTLINE_VAR": str(scratch)}
        env.pop("DATABASE_URL", None)
        env.pop("HOTLINE_MODEL", None)
        started = time.perf_counter()
        done = subprocess.run(
            [HOTLINE, "train", "--from-db", "--holdout", str(holdout)],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        trained = re.search(r"trained on (\d+) examples, \d+ features in ([\d.]+) s", done.stdout)
        results = {
            "corpus_examples": len(corpus),
            "db_labels": n_db,
            "training_examples": int(trained.group(1)),
            "fit_seconds": float(trained.group(2)),
            "train_from_db_wall_seconds": round(wall, 1),
            "seed_database_seconds": round(seeded, 1),
            "target_seconds": 120,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"retraining benchmark: `hotline train --from-db` on {n} labelled complaints")
    for key, value in results.items():
        print(f"  {key:<28} {value}")
    print(done.stdout)
    return results
