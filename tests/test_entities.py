"""Entity extraction: the variants residents and speech recognition use must meet on one key,
and common words must not be taken for places or people."""

from __future__ import annotations

from datetime import date

import pytest

from classifiers.cluster_vocab import sound_key
from classifiers.entities import Lexicon, amount_range, extract_entities, stated_years
from classifiers.places import parse_gazetteer


def keys(text: str, kind: str, **kw) -> set[str]:
    """Keys found by the general rules alone (no county gazetteer), unless one is given."""
    return extract_entities(text, **{"gazetteer": None, **kw}).keys(kind)


def test_village_written_in_full_or_misheard_has_one_key():
    full = keys("我们河湾村今年评低保不公平", "village")
    misheard = keys("喂你好我要反映一下我们和湾村的滴保问题", "village")
    assert full and full == misheard


def test_village_and_township_are_told_apart():
    ents = extract_entities("双河镇河湾村村委会主任刘长贵", gazetteer=None)
    assert ents.keys("township") == {sound_key("双河")}
    assert ents.keys("village") == {sound_key("河湾")}


@pytest.mark.parametrize(
    "text",
    [
        "俺是李庄的，村里低保不公平",
        "李庄救灾物资被干部私分",
        "我们李庄村低保不公平",
    ],
)
def test_bare_village_name_in_context(text):
    assert keys(text, "village") == {sound_key("李庄")}


@pytest.mark.parametrize(
    "text",
    [
        "本村的低保不公平",
        "全村村民都有意见",
        "并宴请村民代表",
        "走进村子一看",
        "我们乡镇干部",
        "定损的时候村干部陪着",
    ],
)
def test_common_words_are_not_places(text):
    ents = extract_entities(text)
    assert not ents.keys("village") and not ents.keys("township")


def test_learned_village_name_is_found_without_suffix():
    lexicon = Lexicon()
    lexicon.learn(extract_entities("前进村后山的林子被包出去了"))
    assert keys("俺们前进后山那片林子", "village", lexicon=lexicon) == {sound_key("前进")}
    assert not keys("俺们前进后山那片林子", "village")


def test_group_numbers_in_any_wording_share_a_key():
    assert keys("李庄村三组", "group") == keys("李庄村第三村民组", "group") == {"g3"}
    assert keys("3组到5组的路", "group") == {"g3", "g5"}


def test_official_by_surname_title_full_name_and_sound_alike():
    by_title = extract_entities("刘主任把低保给了儿媳妇").of("person")
    by_name = extract_entities("村委会主任刘长贵在低保评审中优亲厚友").of("person")
    by_sound = extract_entities("那个流主任把他家亲戚都弄成低保户了").of("person")
    asked = extract_entities("那个会计姓刘的把名额给了自己亲戚").of("person")
    assert [p.surname_key for p in by_title] == [sound_key("刘")]
    assert by_name[0].key == sound_key("刘长贵") and by_name[0].surname_key == sound_key("刘")
    assert [p.surname_key for p in by_sound] == [sound_key("刘")]
    assert [(p.surname_key, p.role) for p in asked] == [(sound_key("刘"), "accountant")]
    assert by_title[0].role == by_name[0].role == "director"


def test_words_after_a_title_are_not_names():
    persons = extract_entities("姓孙的会计张嘴就要五十").of("person")
    assert [p.text for p in persons] == ["孙"]
    assert not extract_entities("老百姓找他办事找不到").of("person")


def test_learned_full_name_is_found_alone():
    lexicon = Lexicon()
    lexicon.learn(extract_entities("组长马广才把他老婆报上去了"))
    persons = extract_entities("护林员是马广才他娘", lexicon=lexicon).keys("person")
    assert sound_key("马广才") in persons


def test_objects_match_by_sound_but_not_by_accident():
    assert "solar" in keys("桃园村光福电站的钱去年没分", "object")
    assert "pond" in keys("那个大堂没开会就承包出去了", "object")
    assert "forest" not in keys("开小轿车来领低保", "object")
    # A village named 石桥 is not a bridge.
    assert "bridge" not in keys("石桥村保洁员工资三个月没发", "object")


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("每亩补偿四万二，到手只有三万九", {42000, 39000}),
        ("招待费支出达8.6万元", {86000}),
        ("一年一万二，我家只拿到八千", {12000, 8000}),
        ("征地款每亩扣3000", {3000}),
        ("一共一千多米，厚度十公分", set()),
        ("每亩3万6，到手只有2万8", {36000, 28000}),  # a digit after 万 is thousands
        ("一户三百，挨家送", {300}),  # a sum per household is money without 元
        ("每亩12块5", {13}),
    ],
)
def test_amounts_in_yuan(text, yuan):
    assert {int(k) for k in keys(text, "amount")} == yuan


def test_relative_years_resolve_against_the_received_date_and_ages_are_not_years():
    received = date(2024, 3, 9)
    ents = extract_entities("去年的收益到现在没分，2021年也是这样", received)
    assert {int(k) for k in ents.keys("year")} == {2023, 2021}
    assert stated_years(ents) == {2021}
    assert not keys("俺今年七十六了，腿脚不好", "year", received=received)


def test_traditional_and_full_width_text_gives_the_same_entities():
    plain = extract_entities("河湾村刘主任把低保给了儿媳妇，三组的")
    variant = extract_entities("河灣村劉主任把低保給了兒媳婦，三組的")
    assert {(m.kind, m.key) for m in plain.mentions} == {(m.kind, m.key) for m in variant.mentions}


# -- the county's gazetteer (config/places.yml), people's families, organisations ---------------

GAZETTEER = parse_gazetteer(
    {
        "county": "测试县",
        "townships": [
            {
                "name": "万佛湖镇",
                "aliases": ["万佛湖"],
                "villages": [
                    {"name": "梨园村", "aliases": ["梨园"], "groups": 6},
                    {"name": "张家湾村", "aliases": ["张家湾"], "groups": 10},
                    {"name": "王家湾村", "aliases": ["王家湾"], "groups": 8},
                ],
            }
        ],
    }
)


def test_a_bare_gazetteer_name_said_as_a_place_is_the_village():
    full = keys("梨园村周书记的弟媳吃低保", "village", gazetteer=GAZETTEER)
    assert full
    assert keys("俺们梨园那边谁不晓得", "village", gazetteer=GAZETTEER) == full
    assert keys("俺是梨园的", "village", gazetteer=GAZETTEER) == full
    assert keys("他在剧团唱梨园戏", "village", gazetteer=GAZETTEER) == set()  # not as a place


def test_villages_sharing_a_tail_stay_apart_and_a_misheard_one_finds_its_own():
    zhang = keys("张家湾村后山的荒山租出去了", "village", gazetteer=GAZETTEER)
    wang = keys("王家湾那片荒山给人承包了", "village", gazetteer=GAZETTEER)
    assert zhang and wang and zhang != wang
    assert keys("你好我是张家完村的", "village", gazetteer=GAZETTEER) == zhang


def test_group_numbers_in_chinese_numerals():
    assert keys("三队的地被占了", "group") == keys("第3村民组", "group") == {"g3"}
    assert keys("组长说了算", "group") == set()


def test_a_family_named_by_its_surname_is_a_person_key():
    assert keys("老何家这回是下血本了", "person") == {sound_key("何")}
    assert keys("汪家那楼房比俺家新多了", "person") == {sound_key("汪")}
    assert keys("大家的钱被拿走了", "person") == set()
    assert keys("张家湾那边", "person", gazetteer=GAZETTEER) == set()


@pytest.mark.parametrize(
    "text",
    [
        "罗湾村的地流转给绿源茶叶合作社，钱到现在没给",
        "那个绿源合作社欠俺们一年的地钱了",
        "给了春秋绿源茶叶合作社种茶",
        "绿园合作社欠流转费一年了",  # heard wrong
    ],
)
def test_an_organisation_is_known_by_its_name_however_it_is_said(text):
    orgs = {m.key for m in extract_entities(text).of("object") if m.role == "org"}
    assert orgs == {sound_key("绿源")}


@pytest.mark.parametrize("text", ["村里的公司", "承包给了外地的一个公司", "养殖合作社分红"])
def test_a_company_not_named_is_no_anchor(text):
    assert not [m for m in extract_entities(text).of("object") if m.role == "org"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("书记儿子占良田盖楼", "secretary>son"),
        ("宋岗村书记鲍远志的儿子在县道边上盖楼", "secretary>son"),
        ("鲍书记家的小子盖的", "secretary>son"),
        ("周书记他弟媳妇搁镇上开超市", "secretary>brother_wife"),
        ("支书弟媳有超市有车", "secretary>brother_wife"),
        ("他哥是村主任，谁敢管", "director>brother"),
    ],
)
def test_a_relative_of_an_official_is_keyed_by_office_and_relation(text, key):
    relatives = {m.key for m in extract_entities(text).of("object") if m.role == "relative"}
    assert relatives == {key}


def test_a_relative_of_no_official_is_no_key():
    assert not [
        m
        for m in extract_entities("我替我妈打的电话，她儿子在外地").of("object")
        if m.role == "relative"
    ]


# -- issue 16, quiet reporters: names, places and sums as people say them ----------------------


def test_a_sum_said_roughly_stands_for_a_range():
    (key,) = keys("往年补偿都是六百多块", "amount")
    assert amount_range(int(key)) == (600, 700)
    assert amount_range(3000) == (2850, 3150)


def test_a_verb_said_twice_is_not_a_name():
    assert not keys("请上面的领导查一查这个事", "person")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("把补贴发给了刘红梅", "刘红梅"),  # jieba: 刘|红梅, a given name it knows
        ("低保给了杨德贵家，他家有楼房", "杨德贵"),  # 家 after a name is the family
    ],
)
def test_a_full_name_without_a_title_is_a_person(text, name):
    assert sound_key(name) in keys(text, "person")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我去举报村主任", "village"),
        ("想去办事村部没人", "village"),
        ("他家儿子搁镇上开饭店", "township"),
        ("俺们后山那片林子被人砍了", "village"),  # a hill, not a village called 后山
    ],
)
def test_what_a_caller_does_or_sees_is_no_place(text, kind):
    assert not keys(text, kind)


def test_a_verb_before_a_title_is_no_sound_alike_surname():
    assert not keys("我去举报村主任", "person")
    assert keys("找流主任问问", "person") == {sound_key("刘")}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("那口井坏了半年", "well"),
        ("自来水管冻裂了", "tap_water"),  # another matter than the well
        ("河边的护坡塌了", "embankment"),
        ("村里扫大路的换人了", "cleaner"),
        ("占良田盖房", "illegal_building"),
    ],
)
def test_everyday_words_for_objects(text, kind):
    assert kind in keys(text, "object")


def test_a_payment_is_not_a_cooperative_name():
    assert not [
        m for m in extract_entities("土地流转费合作社一直拖着").of("object") if m.role == "org"
    ]
