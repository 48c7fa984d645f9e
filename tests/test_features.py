from classifiers.features import analyze, display_term, pinyin_feature, spell_pinyin
from classifiers.normalize import normalize_text
from classifiers.segment import segment


def test_domain_words_are_single_tokens():
    words = segment("一事一议的钱没公示，四议两公开也没搞，雨露计划补贴没到")
    for term in ("一事一议", "四议两公开", "雨露计划"):
        assert term in words


def test_homophone_errors_share_pinyin_features():
    right = set(analyze(normalize_text("村里的低保给了书记亲戚")))
    misheard = set(analyze(normalize_text("村里的滴保给了书记亲戚")))
    dibao = pinyin_feature("di bao")
    assert dibao in right and dibao in misheard
    assert "c:低保" in right and "c:低保" not in misheard
    wubao = set(analyze(normalize_text("五包户的钱")))
    assert pinyin_feature("wu bao") in wubao
    assert spell_pinyin(pinyin_feature("wu bao hu")) == "p:wu bao hu"


def test_pinyin_features_display_as_the_texts_own_characters():
    text = normalize_text("俺家滴保被取消了")
    assert display_term(pinyin_feature("di bao"), text) == "滴保"
    assert display_term(pinyin_feature("bei qu xiao"), text) == "被取消"
    assert display_term("c:低保名", text) == "低保名"
    assert display_term("w:书记", text) == "书记"


def test_numbers_are_folded():
    features = analyze(normalize_text("发了三百元，又扣了150元"))
    assert "w:<num>" in features
    assert not any(f.startswith("w:") and f[2:].isdigit() for f in features)


def test_pinyin_ngrams_skip_non_han_characters_and_stop_at_punctuation():
    features = analyze(normalize_text("低保abc户，五保"))
    assert pinyin_feature("di bao hu") in features  # letters inside a run are skipped
    assert pinyin_feature("hu wu") not in features  # never across a comma


def test_segment_gives_jiebas_tokens():
    from classifiers.segment import tokenizer

    text = normalize_text("俺们村的低保评得不公平，村书记把名额给了他小舅子，一事一议的钱也没公示")
    plain = [w for w in tokenizer().lcut(text, HMM=False) if not w.isspace()]
    assert segment(text) == plain


def test_the_reduced_dictionary_is_built_safely_by_many_at_once(tmp_path, monkeypatch):
    """On a fresh machine the triage worker and the first request build it together: every
    builder gets the whole file, none fails (a shared temporary name once gave a 500)."""
    from concurrent.futures import ThreadPoolExecutor

    from classifiers.segment import _core_dictionary

    monkeypatch.setenv("HOTLINE_VAR", str(tmp_path))
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(lambda _: _core_dictionary(), range(16)))
    assert len(set(paths)) == 1 and paths[0].parent == tmp_path / "cache"
    assert paths[0].stat().st_size > 100_000
    assert not list((tmp_path / "cache").glob("*.tmp"))
