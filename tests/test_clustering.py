"""Event clustering: one event for many reporters, apart for look-alikes, staff decisions kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from classifiers.cluster_engine import ClusterConfig, Complaint, EventClusterer
from classifiers.cluster_eval import (
    bcubed_scores,
    evaluate_clustering,
    load_event_set,
    pairwise_scores,
)
from classifiers.paths import PROJECT_ROOT

T0 = datetime(2024, 3, 1, 9, 0)
CONFIG = ClusterConfig(use_background=False)  # word rarity from the stream only: self-contained

LOW_INCOME = [
    ("a1", "河湾村刘主任把低保给了自家儿媳妇，人家在县城开服装店", "u1", 0),
    ("a2", "我们河湾村今年评低保，村主任刘长贵把他小舅子报上去了，他小舅子家里跑货车", "u2", 2),
    ("a3", "喂你好我要反映一下我们和湾村的滴保问题那个流主任把他家亲戚都弄成低保户了", "u3", 5),
]


def complaint(case_id, text, reporter=None, days=0.0, category="S01") -> Complaint:
    return Complaint(case_id, text, category, reporter, T0 + timedelta(days=days))


def feed(clusterer, rows, category="S01"):
    return [clusterer.add(complaint(i, t, r, d, category)) for i, t, r, d in rows]


@pytest.fixture
def clusterer(taxonomy):
    return EventClusterer(taxonomy, CONFIG)


def test_reports_of_one_event_share_an_event_and_flag_joint_review(clusterer):
    out = feed(clusterer, LOW_INCOME)
    assert out[0].matched == () and out[0].as_output()["cluster"] is None
    assert len({a.event_id for a in out}) == 1
    assert out[2].matched == ("a1", "a2")
    assert [a.reporters for a in out] == [1, 2, 3]
    assert [a.joint_review for a in out] == [False, False, True]
    assert "河湾" in out[1].why and "刘" in out[1].why
    view = clusterer.event_of("a3")
    assert view.reporters == 3 and view.joint_review and view.members == ("a1", "a2", "a3")


def test_the_same_reporter_twice_is_one_reporter(clusterer):
    out = feed(clusterer, [(i, t, "u1", d) for i, t, _, d in LOW_INCOME])
    assert out[-1].matched and out[-1].reporters == 1 and not out[-1].joint_review


def test_joint_review_threshold_is_configurable(taxonomy):
    clusterer = EventClusterer(
        taxonomy, ClusterConfig(use_background=False, joint_review_reporters=2)
    )
    out = feed(clusterer, LOW_INCOME[:2])
    assert out[1].joint_review


@pytest.mark.parametrize(
    ("text", "category", "days"),
    [
        ("李庄村王书记搞低保不公平，有车有房的都评上了", "S01", 3),  # same item, another village
        ("河湾村东头那口大塘，周书记私下包给他侄子了", "S21", 3),  # same village, another matter
        ("刘长贵2021年就把他闺女弄成过低保户", "S01", 3),  # same cadre, another year
        ("河湾村刘主任把低保给了自家亲戚", "S01", 220),  # after the event closed (window)
    ],
)
def test_look_alikes_stay_apart(clusterer, text, category, days):
    feed(clusterer, LOW_INCOME)
    other = clusterer.add(complaint("x", text, "u9", days, category))
    assert other.matched == ()


def test_time_window_is_configurable(taxonomy):
    late = ("b", "河湾村刘主任把低保给了自家亲戚，刘长贵的小舅子", "u9", 40)
    short = EventClusterer(taxonomy, ClusterConfig(use_background=False, window_days=30))
    long = EventClusterer(taxonomy, ClusterConfig(use_background=False, window_days=180))
    assert feed(short, [*LOW_INCOME, late])[-1].matched == ()
    assert feed(long, [*LOW_INCOME, late])[-1].matched


def _probe_cost(clusterer, n_villages: int) -> int:
    """Events scored for one new complaint after ``n_villages`` x 4 unrelated ones."""
    villages = [f"{a}{b}" for a in "东西南北上下前后中" for b in "湾岗圩集店楼营寨"][:n_villages]
    rows = [
        (f"n{i}", f"{v}村{s}主任把低保给了亲戚", f"r{i}", i * 0.05)
        for i, (v, s) in enumerate((v, s) for v in villages for s in "王李张赵")
    ]
    feed(clusterer, rows)
    before = clusterer.stats["scored"]
    clusterer.add(complaint("probe", "东湾村王主任把低保给了亲戚", "p", 20))
    return clusterer.stats["scored"] - before


def test_candidates_come_from_the_index_not_from_every_case(taxonomy):
    small = _probe_cost(EventClusterer(taxonomy, CONFIG), 18)
    large = _probe_cost(EventClusterer(taxonomy, CONFIG), 72)
    assert 0 < small <= large <= CONFIG.max_candidates
    assert large < 72 * 4 / 3  # far fewer than the cases there are


def test_split_makes_an_event_of_its_own_and_later_runs_respect_it(taxonomy, clusterer):
    feed(clusterer, LOW_INCOME)
    new_id = clusterer.split("a3", note="不是同一件事")
    assert clusterer.event_of("a3").members == ("a3",) and clusterer.event_of("a3").id == new_id
    assert clusterer.event_of("a1").members == ("a1", "a2")
    assert clusterer.event_of("a1").reporters == 2 and not clusterer.event_of("a1").joint_review
    replay = EventClusterer(taxonomy, CONFIG, decisions=clusterer.decisions)
    feed(replay, LOW_INCOME)
    assert replay.event_of("a3").members == ("a3",)
    assert replay.event_of("a1").members == ("a1", "a2")


def test_merge_joins_events_and_later_runs_respect_it(taxonomy, clusterer):
    other = ("b1", "河湾村的路灯坏了半年没人修", "u7", 1)
    feed(clusterer, LOW_INCOME[:2])
    feed(clusterer, [other], category="S26")
    assert clusterer.event_of("b1").id != clusterer.event_of("a1").id
    kept = clusterer.merge("a1", "b1")
    assert clusterer.event_of("b1").id == clusterer.event_of("a2").id == kept
    assert clusterer.event(kept).members == ("a1", "b1", "a2")
    replay = EventClusterer(taxonomy, CONFIG, decisions=clusterer.decisions)
    feed(replay, LOW_INCOME[:2])
    feed(replay, [other], category="S26")
    assert replay.event_of("b1").id == replay.event_of("a1").id


def test_state_round_trip_continues_like_the_original(taxonomy, clusterer, tmp_path):
    feed(clusterer, LOW_INCOME[:2])
    clusterer.split("a2")
    path = tmp_path / "state.json.gz"
    clusterer.save(path)
    restored = EventClusterer.load(path, taxonomy)
    assert restored.clusters() == clusterer.clusters()
    assert restored.decisions == clusterer.decisions
    more = (LOW_INCOME[2], ("a4", "李庄村王书记搞低保不公平", "u4", 6))
    assert [a.as_output() for a in feed(restored, more)] == [
        a.as_output() for a in feed(clusterer, more)
    ]


def test_requests_with_no_matter_join_nothing_and_nothing_joins_them(taxonomy, clusterer):
    """Bare requests for a person ("（无）") are alike word for word: as one event they were a
    false 多人反映同一问题 of unrelated people."""
    bare = [
        Complaint(f"h{k}", "（无）", "OUT", f"p{k}", T0 + timedelta(days=k), alone=True)
        for k in range(3)
    ]
    out = [clusterer.add(c) for c in bare]
    assert len({a.event_id for a in out}) == 3 and all(a.reporters == 1 for a in out)
    assert "人工" in out[0].why
    same = clusterer.add(Complaint("h9", "（无）", "OUT", "p9", T0 + timedelta(days=4)))
    assert same.event_id not in {a.event_id for a in out}  # a lone case is found by nothing
    restored = EventClusterer.from_state(clusterer.to_state(), taxonomy, CONFIG)
    again = restored.add(Complaint("h10", "（无）", "OUT", "p10", T0 + timedelta(days=4)))
    assert again.event_id not in {restored.event_of(f"h{k}").id for k in range(3)}


def test_a_case_told_again_moves_to_the_event_it_now_belongs_to(taxonomy, clusterer):
    """A request for a person with its story added later, or a corrected item: withdrawn and
    added again as it reads now; staff decisions about it still bind it."""
    feed(clusterer, LOW_INCOME[:2])
    clusterer.add(Complaint("h1", "（无）", "OUT", "u3", T0 + timedelta(days=5), alone=True))
    lone = clusterer.event_of("h1").id
    assert clusterer.withdraw("h1") is None and "h1" not in clusterer
    told = clusterer.add(complaint("h1", LOW_INCOME[2][1], "u3", 5))
    assert told.event_id == clusterer.event_of("a1").id != lone and told.reporters == 3
    clusterer.split("h1")
    left = clusterer.withdraw("h1")
    assert left is None  # its own event after the split: nothing stays
    assert clusterer.add(complaint("h1", LOW_INCOME[2][1], "u3", 5)).event_id != (
        clusterer.event_of("a1").id
    )
    assert clusterer.withdraw("a2") == clusterer.event_of("a1").id
    assert clusterer.event_of("a1").members == ("a1",) and clusterer.event_of("a1").reporters == 1


def test_unknown_category_future_time_and_duplicate_id_are_refused(clusterer):
    with pytest.raises(ValueError):
        clusterer.add(complaint("z", "河湾村低保", category="NOPE"))
    future = Complaint("f", "河湾村低保", "S01", None, datetime.now() + timedelta(days=30))
    with pytest.raises(ValueError):
        clusterer.add(future)
    clusterer.add(complaint("z", "河湾村低保"))
    with pytest.raises(ValueError):
        clusterer.add(complaint("z", "河湾村低保"))


def test_pairwise_and_bcubed_on_hand_worked_examples():
    gold = {"a": "E1", "b": "E1", "c": "E1", "d": None}
    assert pairwise_scores(gold, gold) == (1.0, 1.0, 1.0)
    assert bcubed_scores(gold, gold) == (1.0, 1.0, 1.0)
    # {a,b} found, c kept apart: 1 of 3 true pairs, no false pair.
    p, r, f = pairwise_scores(gold, {"a": "X", "b": "X", "c": "Y", "d": "Z"})
    assert (p, r) == (1.0, pytest.approx(1 / 3)) and f == pytest.approx(0.5)
    # Everything in one event: 3 true pairs of 6.
    p, r, _ = pairwise_scores(gold, dict.fromkeys(gold, "X"))
    assert (p, r) == (0.5, 1.0)
    bp, br, _ = bcubed_scores(gold, dict.fromkeys(gold, "X"))
    assert bp == pytest.approx((3 * 3 / 4 + 1 / 4) / 4) and br == 1.0


def test_labelled_sets_are_well_formed(taxonomy):
    for name in ("dev", "test"):
        records = load_event_set(PROJECT_ROOT / "nlu_data" / "events" / f"{name}.jsonl", taxonomy)
        events = {}
        for r in records:
            if r.event:
                events.setdefault(r.event, []).append(r)
        assert len(events) >= 20
        assert all(2 <= len(v) <= 7 for v in events.values())
        assert sum(r.event is None for r in records) >= 40
        times = [r.complaint.received_at for r in records]
        assert times == sorted(times)  # arrival order


def test_dev_set_quality_does_not_regress(taxonomy):
    records = load_event_set(PROJECT_ROOT / "nlu_data" / "events" / "dev.jsonl", taxonomy)
    evaluation, _ = evaluate_clustering(records, taxonomy)
    assert evaluation.pairwise[2] >= 0.88
    assert evaluation.bcubed[2] >= 0.93


# -- issue 16: unsure items, organisations, the matter, years told the other way round ----------


def test_unsure_prediction_is_compared_under_its_top_three_items():
    from classifiers.cluster_items import alternatives

    top = [("OUT", 0.41), ("S01", 0.35), ("S03", 0.12), ("S05", 0.08)]
    assert alternatives("OUT", top, unsure=True) == ("S01", "S03")
    assert alternatives("OUT", top, unsure=False) == ()
    assert alternatives("S01", [("S01", 0.5), ("OUT", 0.3), ("S02", 0.05)], True) == ("OUT",)


def test_a_report_put_in_out_of_list_with_the_item_as_runner_up_joins_the_event(clusterer):
    first = clusterer.add(
        Complaint(
            "r1",
            "我替我妈打的电话，河湾村刘主任说她的低保名额给了他小舅子，她八十多了",
            "OUT",
            "u1",
            T0,
            alternatives=("S01",),
        )
    )
    same_matter = "河湾村低保名额让刘主任给了他小舅子，八十多岁的老人反倒评不上"
    later = clusterer.add(complaint("r2", same_matter, "u2", 2))
    assert later.event_id == first.event_id
    # …and the other way round: the item guessed first, the unsure 清单外 report later
    alone = EventClusterer(clusterer.taxonomy, CONFIG)
    a = alone.add(complaint("s1", LOW_INCOME[1][1], "u2"))
    b = alone.add(Complaint("s2", LOW_INCOME[0][1], "OUT", "u1", T0 + timedelta(days=1), ("S01",)))
    assert a.event_id == b.event_id
    # A confident 清单外 is never compared with an item's events.
    sure = EventClusterer(clusterer.taxonomy, CONFIG)
    c = sure.add(complaint("t1", LOW_INCOME[1][1], "u2"))
    assert sure.add(Complaint("t2", LOW_INCOME[0][1], "OUT", "u1", T0)).event_id != c.event_id


def test_an_organisation_named_without_a_village_finds_its_event(clusterer):
    rows = [
        ("o1", "罗湾村的地流转给绿源茶叶合作社，每亩600，去年的钱到现在没给", "u1", 0),
        ("o2", "那个绿源合作社欠俺们一年的地钱了，一亩六百，找村里村里推", "u2", 3),
        ("o3", "丰收农机合作社欠俺们流转费", "u3", 4),
    ]
    out = feed(clusterer, rows, category="S21")
    assert out[1].event_id == out[0].event_id
    assert "同一单位" in out[1].why
    assert out[2].event_id != out[0].event_id


def test_an_event_dated_years_back_is_not_the_one_told_now(clusterer):
    old = clusterer.add(
        complaint("y1", "2021年那次选举，柏林村有人送烟送酒拉票，当时告了没人管", "u1", 0, "S32")
    )
    now = clusterer.add(complaint("y2", "柏林村换届有人送钱拉票，一户200", "u2", 3, "S32"))
    assert old.event_id != now.event_id


def test_the_matter_is_in_the_explanation(clusterer):
    retold = ("a9", "河湾村刘主任的儿媳妇在县城开服装店，还吃着低保", "u9", 1)
    out = feed(clusterer, [LOW_INCOME[0], retold])
    assert out[1].event_id == out[0].event_id and "所说之事相近" in out[1].why
    # Reports that share the village and the cadre but say little alike get no matter evidence.
    other = EventClusterer(clusterer.taxonomy, CONFIG)
    assert "所说之事相近" not in feed(other, LOW_INCOME[:2])[1].why


# -- issue 16: quiet reporters found, look-alikes of one village kept apart ---------------------


def test_one_village_and_item_alone_do_not_make_one_event(clusterer):
    first = clusterer.add(complaint("v1", "柳塘村的低保评得不公平，有车有房的都评上了", "u1", 0))
    other = clusterer.add(complaint("v2", "柳塘村低保金这个月晚发了十天", "u2", 3))
    assert other.event_id != first.event_id


def test_a_grievance_of_ones_own_stays_apart_from_a_cadres_favour(clusterer):
    rows = [
        ("h1", "黄庄村会计赵长安把危房改造补助给了他小舅子，人家是新盖的两层楼", "u1", 0),
        ("h2", "赵会计小舅子住着新楼还拿了危房改造的钱", "u2", 3),
        ("h3", "黄庄村我家老房子漏雨，申请危房改造两年了没批", "u3", 6),
    ]
    out = feed(clusterer, rows, category="S16")
    assert out[1].event_id == out[0].event_id
    assert out[2].event_id != out[0].event_id


def test_what_every_complaint_of_an_item_names_is_no_evidence(clusterer):
    rows = [
        ("g1", "杨湾村高龄津贴今年三个月没发，说是银行系统升级", "u1", 0),
        ("g2", "杨湾村好几个老人的高龄津贴停了，问就说系统升级", "u2", 2),
        ("g3", "杨湾村我奶奶的高龄津贴因为户口迁移被停了", "u3", 5),
    ]
    out = feed(clusterer, rows, category="S05")
    assert out[1].event_id == out[0].event_id
    assert out[2].event_id != out[0].event_id
    assert "同一项目" not in out[1].why  # 高龄津贴 is what S05 is


def test_a_report_naming_only_a_sum_is_found_by_the_gap_between_two(clusterer):
    rows = [
        ("z1", "河口村修水库征地，说好每亩3万8，发下来只有2万9，村里说留着统筹", "u1", 0),
        ("z2", "征地补偿一亩被扣了九千块", "u2", 5),
    ]
    out = feed(clusterer, rows, category="S23")
    assert out[1].event_id == out[0].event_id and "金额相近" in out[1].why


def test_a_report_naming_only_the_object_is_found_by_a_later_one(clusterer):
    rows = [
        ("w1", "那台抽水泵坏了两个月没人修", "u1", 0),
        ("w2", "石塘村3组吃水的水泵坏了两个月，村里不管", "u2", 4),
    ]
    out = feed(clusterer, rows, category="S26")
    assert out[1].event_id == out[0].event_id and "同一对象" in out[1].why


def test_a_full_name_and_the_surname_with_the_title_are_one_cadre(clusterer):
    rows = [
        ("q1", "新塘村支书曹国庆把低保给了自己侄女，她开着小轿车", "u1", 0),
        ("q2", "曹书记侄女开着小轿车吃低保", "u2", 4),
    ]
    out = feed(clusterer, rows)
    assert out[1].event_id == out[0].event_id and "曹" in out[1].why


def test_weights_are_learned_from_labelled_examples():
    from classifiers.cluster_config import Weights
    from classifiers.cluster_fit import HAND_SET, Example, fit_weights

    same = [Example({"same_item": 1.0, "surname": 1.0, "per_month": 0.0}, True)] * 30
    apart = [
        Example({"same_item": 1.0, "village": 1.0, "per_month": float(i % 5)}, False)
        for i in range(60)
    ]
    weights = fit_weights(same + apart, HAND_SET)
    assert isinstance(weights, Weights) and weights.threshold == 3.0
    assert weights.same_item + weights.surname >= 3.0  # what told them apart now joins
    assert weights.same_item + weights.village < 3.0
    assert weights.per_month >= -0.5  # never steeper than real follow-ups allow


def test_pair_examples_compare_each_complaint_with_the_earlier_events(tmp_path, taxonomy):
    from classifiers.cluster_fit import pair_examples

    rows = [
        {"id": "p1", "text": LOW_INCOME[0][1], "event": "E1"},
        {"id": "p2", "text": LOW_INCOME[1][1], "event": "E1"},
        {"id": "p3", "text": "李庄村王书记搞低保不公平，有车有房的都评上了", "event": None},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({**r, "category": "S01", "received_at": f"2024-03-0{i + 1}"})
            for i, r in enumerate(rows)
        ),
        encoding="utf-8",
    )
    examples = pair_examples(load_event_set(path, taxonomy), taxonomy)
    # p2 against E1; p3 (another village) against nothing
    assert [e.same_event for e in examples] == [True]
    assert examples[0].features["village"] == 1.0 and "matter" in examples[0].features


def test_restored_events_are_kept_and_the_running_code_s_weights_used(taxonomy, clusterer):
    """An upgrade brings new weights: saved events keep their ids, new complaints are compared
    with the weights of the code now running."""
    from classifiers.cluster_config import with_weights

    feed(clusterer, LOW_INCOME[:2])
    state = clusterer.to_state()
    newer = with_weights(CONFIG, threshold=CONFIG.weights.threshold + 1.0)
    restored = EventClusterer.from_state(state, taxonomy, newer)
    assert restored.clusters() == clusterer.clusters()
    assert restored.config.weights.threshold == newer.weights.threshold
    assert EventClusterer.from_state(state, taxonomy).config == clusterer.config
