"""The corpus is the heart of the triage: these tests hold it to the data card's promises."""

from collections import Counter

import pytest

from classifiers.corpus import CORPUS_DIR, STYLES, CorpusError, load_split, near_duplicate_pairs
from classifiers.taxonomy import OUT_CODE


def test_every_item_has_enough_training_examples(train_examples, taxonomy):
    counts = Counter(e.label for e in train_examples)
    for code in taxonomy.codes:
        minimum = 250 if code == OUT_CODE else 60
        assert counts[code] >= minimum, f"{code} has {counts[code]} examples, needs {minimum}"


def test_every_item_is_written_in_many_styles(train_examples, taxonomy):
    styles = {code: set() for code in taxonomy.codes}
    for e in train_examples:
        styles[e.label].add(e.style)
    for code, seen in styles.items():
        assert {"short", "long", "asr", "dialect"} <= seen, f"{code} lacks styles: {seen}"
        assert len(seen) >= 6, f"{code} uses only {sorted(seen)}"


def test_asr_examples_are_unpunctuated(train_examples):
    asr = [e for e in train_examples if e.style == "asr"]
    assert len(asr) >= 200
    punctuated = [e.source for e in asr if any(p in e.text for p in "，。！？；,.!?")]
    assert len(punctuated) <= len(asr) * 0.05, punctuated[:10]


def test_test_split_covers_every_code(test_examples, taxonomy):
    counts = Counter(e.label for e in test_examples)
    assert set(counts) == set(taxonomy.codes)
    assert min(counts.values()) >= 10


@pytest.mark.parametrize("split", ["train", "test"])
def test_no_near_duplicates_within_a_split(split, train_examples, test_examples):
    examples = train_examples if split == "train" else test_examples
    pairs = near_duplicate_pairs([e.text for e in examples])
    shown = [(examples[i].source, examples[j].source, round(s, 2)) for i, j, s in pairs[:10]]
    assert not pairs, f"{len(pairs)} near-duplicate pairs, e.g. {shown}"


def test_no_test_example_leaks_from_training(train_examples, test_examples):
    texts = [e.text for e in train_examples] + [e.text for e in test_examples]
    n = len(train_examples)
    leaks = [(i, j) for i, j, _ in near_duplicate_pairs(texts, threshold=0.35) if i < n <= j]
    assert not leaks, [(texts[i], texts[j]) for i, j in leaks[:5]]


@pytest.mark.parametrize("split", ["blind", "hard"])
def test_no_held_out_example_leaks_from_training(split, train_examples, taxonomy):
    """Blind and hard are held out too; a leak is named by file and line only (the hard split
    is never read, even in a failure message)."""
    folder = CORPUS_DIR / split
    if not folder.is_dir():
        pytest.skip(f"no {split} split yet")
    held = load_split(folder, taxonomy)
    # hard was written at the same time as training batch 3 and is checked against that batch
    # and every later one; five short pairs with older batches (independent writers, same
    # everyday wording) are known.
    later = (".b3.", ".b4.")
    train = [e for e in train_examples if split != "hard" or any(b in e.source for b in later)]
    texts = [e.text for e in train] + [e.text for e in held]
    n = len(train)
    leaks = [(i, j) for i, j, _ in near_duplicate_pairs(texts, threshold=0.35) if i < n <= j]
    assert not leaks, [(train[i].source, held[j - n].source) for i, j in leaks[:5]]


def test_near_duplicate_detector_finds_templated_data():
    texts = [
        "张庄村的低保给了村书记的亲戚",
        "李庄村的低保给了村书记的亲戚",
        "镇上的路灯坏了三个月没人修",
    ]
    pairs = near_duplicate_pairs(texts)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]


def test_malformed_corpus_files_are_reported_with_file_and_line(tmp_path, taxonomy):
    (tmp_path / "S01.jsonl").write_text(
        '{"text": "低保不公", "style": "short"}\n{"text": ""}\n', encoding="utf-8"
    )
    with pytest.raises(CorpusError, match=r"S01.jsonl:2: missing or empty text"):
        load_split(tmp_path, taxonomy)
    (tmp_path / "S01.jsonl").write_text('{"text": "低保不公", "style": "poem"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="unknown style"):
        load_split(tmp_path, taxonomy)
    (tmp_path / "S01.jsonl").unlink()
    (tmp_path / "Z99.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="Z99 is not an item code"):
        load_split(tmp_path, taxonomy)


def test_styles_are_the_documented_ones():
    assert set(STYLES) == {
        "short",
        "plain",
        "long",
        "elderly",
        "dialect",
        "formal",
        "asr",
        "distractor",
        "fragments",
    }
