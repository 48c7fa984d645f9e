"""Training data for a retrain: the corpus plus the labels staff confirmed or corrected.

A staff label is the truth for its text, whatever the model guessed. Where two labels disagree
about the same text (two cases with the same words labelled differently, or a case against the
corpus) nothing is guessed: the text is left out and the conflict reported for an analyst to
settle. Texts of the frozen test split are never trained on. A random but fixed share of the
staff labels (chosen by a hash of the text, so a text stays on its side from one retrain to the
next) is held out, to check the new model on corrections it has not seen.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from classifiers.normalize import normalize_text

_NOISE = re.compile(r"[\s，。！？、,.!?；;：:“”\"'（）()…~～]+")


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str
    source: str  # "corpus:S01.jsonl:3" or "case:12345678"
    kind: str = "corpus"  # corpus / confirm / correct


@dataclass(frozen=True)
class Conflict:
    """One text with more than one label, and where each label came from."""

    text: str
    labels: dict[str, list[str]]  # label -> sources


@dataclass
class TrainingSet:
    train: list[Labelled]
    holdout: list[Labelled] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    frozen_overlap: list[Labelled] = field(default_factory=list)  # staff labels on test texts
    n_corpus: int = 0
    n_db: int = 0
    unknown_items: int = 0  # staff labels naming an item the taxonomy no longer has

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.train]

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.train]

    def summary(self) -> dict:
        return {
            "corpus": self.n_corpus,
            "db_labels": self.n_db,
            "db_trained": sum(1 for e in self.train if e.kind != "corpus"),
            "db_held_out": len(self.holdout),
            "conflicts": len(self.conflicts),
            "excluded_frozen_overlap": len(self.frozen_overlap),
            "excluded_unknown_items": self.unknown_items,
            "train_examples": len(self.train),
        }


def text_key(text: str) -> str:
    """Two texts that differ only in spacing, punctuation, width or script are the same text."""
    return _NOISE.sub("", normalize_text(text))


def data_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """A stable hash of (label, text) pairs; equal to ``corpus.snapshot_hash`` on the corpus."""
    digest = hashlib.sha256()
    for label, text in sorted(pairs):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def held_out(key: str, share: float, seed: int) -> bool:
    bucket = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big")
    return bucket / 2**64 < share


def assemble(
    corpus: Sequence[Labelled],
    staff: Sequence[Labelled],
    frozen_texts: Iterable[str],
    holdout_share: float = 0.2,
    seed: int = 13,
) -> TrainingSet:
    """Corpus plus staff labels, minus conflicts and frozen-split texts, minus the held-out
    share of the staff labels."""
    frozen = {text_key(t) for t in frozen_texts}
    by_key: dict[str, list[Labelled]] = defaultdict(list)
    for example in [*corpus, *staff]:
        by_key[text_key(example.text)].append(example)
    conflicts: list[Conflict] = []
    conflicted: set[str] = set()
    for key, group in by_key.items():
        labels = {e.label for e in group}
        if len(labels) > 1 and any(e.kind != "corpus" for e in group):
            sources: dict[str, list[str]] = defaultdict(list)
            for e in group:
                sources[e.label].append(e.source)
            conflicts.append(Conflict(group[0].text, dict(sorted(sources.items()))))
            conflicted.add(key)
    out = TrainingSet(train=[], conflicts=conflicts, n_corpus=len(corpus), n_db=len(staff))
    for example in corpus:
        if text_key(example.text) not in conflicted:
            out.train.append(example)
    for example in staff:
        key = text_key(example.text)
        if key in conflicted:
            continue
        if key in frozen:
            out.frozen_overlap.append(example)
        elif held_out(key, holdout_share, seed):
            out.holdout.append(example)
        else:
            out.train.append(example)
    return out
