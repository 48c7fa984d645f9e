"""A case opened for a person is classified and clustered on the resident's words: the header
written for staff (【请求人工服务】…) pulled a told matter into 清单外."""

from __future__ import annotations

from api.handoff_text import HEADER, handoff_text, resident_words
from api.triage import classifiable


def test_the_header_is_for_staff_and_the_words_are_the_residents():
    said = ["我们龙潭村分那个光伏的钱 说好每家每户都有 结果好多户只发了一半", "匿名"]
    text = handoff_text("居民要求转人工", said)
    assert text.startswith(HEADER) and "居民要求转人工" in text
    assert resident_words(text) == "\n".join(said)
    assert HEADER not in classifiable(text) and "人工" not in classifiable(text)
    assert "（无）" in handoff_text("居民要求转人工", [])


def test_other_texts_are_classified_as_they_are():
    told = "【村里】低保评的都是亲戚\n居民说：\n没有"  # no handoff header: untouched
    assert resident_words(told) == told
    assert classifiable("村里修路的钱被挪用了") == "村里修路的钱被挪用了"


def test_a_handoff_told_matter_gets_its_item(model):
    """With the header the model read this as 清单外 (0.56); the resident's words are S22."""
    said = ["我们龙潭村分那个光伏的钱 说好每家每户都有 结果好多户只发了一半", "喂喂", "匿名"]
    text = handoff_text("居民要求转人工", said)
    assert model.predict([classifiable(text)])[0].category == "S22"
