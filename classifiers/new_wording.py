"""New wording: how much of a complaint's vocabulary the training data never used.

The drift watch (``api.workbench.drift``) notices a week whose item mix has moved; this is the
same question asked of one text, early: a complaint whose words are mostly new to the model is
one it has not learnt to read, and a label on it teaches it most (the labelling queue,
``api.label_queue``). Pure functions plus one cached read of the training split."""

from __future__ import annotations

from functools import lru_cache

from classifiers.corpus import CORPUS_DIR, load_split
from classifiers.segment import segment
from classifiers.taxonomy import load_taxonomy

# Measured on hand-written examples: an ordinary complaint scores 0-0.2, one about things the
# corpus never mentions (区块链积分, 数字藏品) 0.4 and above.
NEW_WORDS_BOUND = 0.3


def content_words(words: list[str]) -> list[str]:
    """Words of two or more characters with a Chinese character (no particles, digits)."""
    return [w for w in words if len(w) >= 2 and any("\u4e00" <= c <= "\u9fff" for c in w)]


def new_words_share(words: list[str], known: frozenset[str]) -> float | None:
    """The share of a text's content words the training data never used; None for none."""
    content = content_words(words)
    if not content:
        return None
    return sum(w not in known for w in content) / len(content)


def text_novelty(text: str, known: frozenset[str]) -> float | None:
    return new_words_share(segment(text), known)


@lru_cache(maxsize=1)
def training_words() -> frozenset[str]:
    """Every content word of the training split (the vocabulary the model learnt from)."""
    words: set[str] = set()
    for example in load_split(CORPUS_DIR / "train", load_taxonomy()):
        words.update(content_words(segment(example.text)))
    return frozenset(words)
