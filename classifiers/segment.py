"""Word segmentation: jieba with the project's domain dictionary.

The model's words come from jieba_fast_dat, jieba's algorithm (dictionary DAG, best route, no
HMM) in C++ over the same dictionary files: the same tokens as jieba, about 4x faster, which the
classifier's throughput target needs (issue 16). ``tokenizer()`` stays plain jieba for callers
that read its word frequencies (the clusterer).

jieba's full dictionary (349k words) takes ~0.6 s to load, too slow for a model that must be
ready in under a second. Words seen fewer than ``MIN_WORD_FREQ`` times in jieba's reference
corpus are dropped (136k words stay); such rare words fall back to jieba's HMM and to the
character and pinyin features, identically in training and prediction. The reduced dictionary is
derived once from the installed jieba and cached under var/cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jieba_fast_dat

from classifiers.paths import var_dir

USER_DICT_PATH = Path(__file__).resolve().parent / "resources" / "user_dict.txt"
MIN_WORD_FREQ = 5

if TYPE_CHECKING:  # plain jieba is imported only by callers of tokenizer(): it costs 0.1 s
    import jieba


def _core_dictionary() -> Path:
    """jieba's dictionary without its rarest words, written once per jieba version."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba is not installed; its dictionary is the model's vocabulary")
    source = Path(spec.origin).resolve().parent / "dict.txt"
    raw = source.read_bytes()
    digest = hashlib.sha1(raw + str(MIN_WORD_FREQ).encode()).hexdigest()[:12]
    cache = var_dir() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"jieba-core-{digest}.txt"
    if not target.exists():
        kept = [
            line
            for line in raw.decode("utf-8").splitlines()
            if len(parts := line.split()) >= 2 and int(parts[1]) >= MIN_WORD_FREQ
        ]
        # A name of this writer's own: the triage worker, a request and other processes may all
        # build it at once on a fresh machine, and a shared temporary name lets one of them
        # move the file away under another (seen: a 500 on the first /classify).
        tmp = target.with_name(f"{target.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
        tmp.replace(target)
    return target


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    """The shared jieba tokenizer with the domain dictionary loaded."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer(dictionary=str(_core_dictionary()))
    tok.tmp_dir = str(var_dir() / "cache")
    tok.initialize()
    tok.load_userdict(str(USER_DICT_PATH))
    return tok


_BUILDING = threading.Lock()
_FAST: list[jieba_fast_dat.Tokenizer] = []


def fast_tokenizer() -> jieba_fast_dat.Tokenizer:
    """jieba_fast_dat over the same reduced dictionary and domain words as ``tokenizer()``,
    built once per process however many threads ask first (the triage worker and a request)."""
    if not _FAST:
        with _BUILDING:
            if not _FAST:
                _FAST.append(_build_fast_tokenizer())
    return _FAST[0]


def _build_fast_tokenizer() -> jieba_fast_dat.Tokenizer:
    jieba_fast_dat.setLogLevel(logging.WARNING)
    tok = jieba_fast_dat.Tokenizer(dictionary=str(_core_dictionary()))
    tok.tmp_dir = str(var_dir() / "cache")
    tok.initialize()
    tok.load_userdict(str(USER_DICT_PATH))
    return tok


def segment(text: str) -> list[str]:
    """Split normalised text into words, dropping whitespace tokens. jieba's HMM guesser for
    unknown words is off: in cross-validation it was slower and no better, since character and
    pinyin features already cover names and misspellings it would glue together."""
    return [word for word in fast_tokenizer().lcut(text, HMM=False) if not word.isspace()]
