"""The labelled complaint corpus under ``nlu_data/complaints/<split>/<CODE>[.<part>].jsonl``.

Each line is ``{"text": ..., "style": ...}``; the file name up to its first dot is the label, so
several writers' batches of one item (S01.jsonl, S01.b2.jsonl) sit side by side. The test and
blind splits are written apart from the training split and are never used for tuning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from classifiers.paths import PROJECT_ROOT
from classifiers.taxonomy import Taxonomy

CORPUS_DIR = PROJECT_ROOT / "nlu_data" / "complaints"
SPLITS = ("train", "test", "blind", "hard")
# Held-out splits: written apart from train, never tuned on. ``hard`` (issue 16) holds indirect
# complaints and out-of-list look-alikes by a writer who saw no code; it may not exist yet.
HELD_OUT_SPLITS = ("test", "blind", "hard")
STYLES = (
    "short",
    "plain",
    "long",
    "elderly",
    "dialect",
    "formal",
    "asr",
    "distractor",
    "fragments",
)


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    style: str
    source: str  # "file:line", for error messages and reports


def load_split(split_dir: Path, taxonomy: Taxonomy, any_style: bool | None = None) -> list[Example]:
    """Load every ``<CODE>.jsonl`` of one split, checking codes against the taxonomy. Styles
    must be the documented ones, except in the ``hard`` split (``any_style``), whose writer saw
    no code and names its own kinds (e.g. ``indirect``); they are reported as written."""
    if any_style is None:
        any_style = split_dir.name == "hard"
    if not split_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {split_dir}")
    examples: list[Example] = []
    for path in sorted(split_dir.glob("*.jsonl")):
        code = path.name.split(".", 1)[0]
        if code not in taxonomy.by_code:
            raise CorpusError(f"{path}: {code} is not an item code of the taxonomy")
        examples.extend(_read_file(path, code, any_style))
    return examples


def _read_file(path: Path, code: str, any_style: bool = False) -> Iterable[Example]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: not JSON ({exc.msg})") from exc
        text = record.get("text") if isinstance(record, dict) else None
        style = record.get("style", "plain") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where}: missing or empty text")
        own_style = any_style and isinstance(style, str) and bool(style.strip())
        if not own_style and style not in STYLES:
            raise CorpusError(f"{where}: unknown style {style!r} (one of {', '.join(STYLES)})")
        yield Example(text=text.strip(), label=code, style=style, source=where)


def snapshot_hash(examples: Sequence[Example]) -> str:
    """A stable hash of the labelled data, to tie a model to exactly what it learned from."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: (e.label, e.text)):
        digest.update(f"{ex.label}\t{ex.text}\n".encode())
    return digest.hexdigest()[:16]


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = 0.6, chunk: int = 512
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) whose character-3-gram sets overlap by at least ``threshold``.

    Templated data shows up as many such pairs; sparse products keep this fast for thousands."""
    vec = CountVectorizer(analyzer="char", ngram_range=(3, 3), binary=True, lowercase=False)
    padded = [f"^{t}$" for t in texts]  # so very short texts still have 3-grams
    grams = vec.fit_transform(padded).tocsr().astype(np.float32)
    sizes = np.asarray(grams.sum(axis=1)).ravel()
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, grams.shape[0], chunk):
        block = (grams[start : start + chunk] @ grams.T).toarray()
        for offset, row in enumerate(block):
            i = start + offset
            union = sizes[i] + sizes - row
            jaccard = np.divide(row, union, out=np.zeros_like(row), where=union > 0)
            for j in np.nonzero(jaccard >= threshold)[0]:
                if j > i:
                    pairs.append((i, int(j), float(jaccard[j])))
    return pairs
