import pytest

from classifiers.normalize import convert_numerals, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３，低保", "abc123,低保"),  # full-width to half-width, lower-case
        ("我們村幹部貪污低保錢", "我们村干部贪污低保钱"),  # traditional to simplified
        ("二〇二三年三月低保金两百元没发", "2023年3月低保金200元没发"),
        ("第三村民组", "第3村民组"),
        ("电话幺三八幺二三四五六七八", "电话13812345678"),
        ("一千二百块", "1200块"),
        ("五亩地", "5亩地"),
        ("低保\u200b  不\t公平 ", "低保 不 公平"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "idiom", ["我十分不满", "千万不要告诉他", "一事一议", "四议两公开", "万一村里不管", "五保户"]
)
def test_numerals_in_words_and_idioms_are_left_alone(idiom):
    assert convert_numerals(idiom) == idiom
