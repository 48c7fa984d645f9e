"""Event-clustering benchmark: insert synthetic complaints one by one, in arrival order, and
report how insert time grows (10k, 50k, 200k), p99, total time and peak memory.
Targets (issue 7): p99 insert < 20 ms, 200,000 complaints in < 5 minutes, < 2 GB resident.

The synthetic area (about a prefecture: 125 townships, 5,000 villages, each with its cadres)
receives complaints over two years; about a third of them are reports of multi-complaint events
(2-7 reports over a few weeks), the rest stand alone. Texts mix registers (plain, short, dialect,
phone transcript, formal) so entity extraction costs what it costs on real input. Categories are
given: the triage model has its own benchmark. Texts are template-made, so this measures speed
and memory, not clustering quality.
"""

from __future__ import annotations

import gc
import random
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from classifiers.cluster_engine import ClusterConfig, Complaint, EventClusterer
from classifiers.taxonomy import load_taxonomy

CHECKPOINTS = (10_000, 50_000, 200_000)
SEED = 7

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡余杜叶程"
_GIVEN = "德福贵长海广才建军立新家旺为民卫国志强明华春秋玉兰桂英金山水平安庆丰有顺"
_TAILS = "庄营圩郢集寨湾岗店楼"
_WORDS = [
    "东风",
    "红旗",
    "和平",
    "光明",
    "胜利",
    "幸福",
    "团结",
    "新华",
    "前进",
    "长林",
    "桃园",
    "白马",
    "石桥",
    "沙河",
    "枣林",
    "清水",
    "龙塘",
    "双河",
    "柳集",
    "马店",
    "黄泥",
    "大兴",
    "高岗",
    "青山",
    "杨树",
    "南湖",
    "北坡",
    "西岭",
    "东湖",
    "金桥",
    "银河",
    "花园",
    "上河",
]
_TOWNSHIP_HEADS = "石门清水龙塘马店双河柳集青岗白沙黄集高塘三河新店古城南庄北山东岭"

# Per item: (what is wrong, objects or programmes it may name).
_ITEM_TEXT = {
    "S01": ("把低保给了自家亲戚", ["低保户", "低保金"]),
    "S02": ("五保老人的供养金被代领", ["供养金", "敬老院"]),
    "S03": ("临时救助款被扣了一半", ["着火", "重病"]),
    "S04": ("残疾人补贴被冒领", ["护理补贴", "生活补贴"]),
    "S05": ("高龄津贴半年没发", ["高龄津贴"]),
    "S06": ("收了医保钱没给交", ["医保", "医疗救助"]),
    "S07": ("养老保险多收钱", ["养老保险", "养老金"]),
    "S11": ("监测户认定不公平", ["监测户", "小额信贷"]),
    "S12": ("公益岗位吃空饷", ["保洁员", "护林员"]),
    "S13": ("地力补贴面积少报", ["小麦", "玉米"]),
    "S15": ("保险理赔款没到账", ["冰雹", "旱灾"]),
    "S16": ("危房改造名额给了关系户", ["危房", "土坯房"]),
    "S19": ("村账招待费太多", ["白条", "油费"]),
    "S21": ("集体资源低价发包", ["鱼塘", "山林", "水库"]),
    "S22": ("集体收益没分", ["光伏电站", "合作社"]),
    "S23": ("征地补偿款被截留", ["高速", "工业园"]),
    "S24": ("工程偷工减料", ["水泥路", "桥", "水渠"]),
    "S26": ("设施坏了没人修", ["路灯", "自来水"]),
    "S28": ("宅基地审批要好处费", ["宅基地"]),
    "S29": ("流转费拖欠不给", ["合作社"]),
    "S32": ("换届拉票贿选", ["选举"]),
    "S33": ("干部上班打麻将", ["打麻将", "喝酒"]),
}
_TITLES = ["书记", "主任", "会计", "组长", "文书"]


@dataclass(frozen=True)
class _Village:
    name: str
    township: str
    cadres: tuple[tuple[str, str], ...]  # (full name, title)


def _universe(rng: random.Random, n_villages: int = 5000) -> list[_Village]:
    """About a prefecture: 125 townships of 40 villages, each with its cadres."""
    heads = [_TOWNSHIP_HEADS[i : i + 2] for i in range(0, len(_TOWNSHIP_HEADS), 2)]
    townships = sorted(
        {
            rng.choice([*heads, rng.choice(_SURNAMES) + rng.choice("集店桥湖")])
            + rng.choice("镇乡")
            if i < 20
            else rng.choice(_SURNAMES) + rng.choice(_WORDS)[0] + rng.choice("镇乡")
            for i in range(400)
        }
    )[:125]
    names: set[str] = set()
    while len(names) < n_villages:
        roll = rng.random()
        if roll < 0.3:
            names.add(rng.choice(_SURNAMES) + rng.choice(_TAILS))
        elif roll < 0.5:
            names.add(rng.choice(_WORDS)[0] + rng.choice(_WORDS)[1])
        else:
            names.add(rng.choice(_SURNAMES) + rng.choice(_WORDS)[0] + rng.choice(_TAILS))
    villages = []
    for i, name in enumerate(sorted(names)):
        cadres = tuple(
            (rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2)))), title)
            for title in _TITLES[:3]
        )
        villages.append(_Village(name, townships[i % len(townships)], cadres))
    return villages


def _text(rng: random.Random, village: _Village, item: str, detail: dict) -> str:
    """One complaint about an event: the same facts, told in one of several registers."""
    wrong = _ITEM_TEXT[item][0]
    name, title = detail["cadre"]
    who = rng.choice([name[0] + title, name, title + name, "姓" + name[0] + "的" + title])
    where = rng.choice(
        [
            village.name + "村",
            village.name + "村",
            village.township + village.name + "村",
            "俺们" + village.name + "那个",
            "",
        ]
    )
    obj = detail["object"]
    amount = rng.choice(["", f"{detail['amount']}元", f"每户{detail['amount']}块"])
    style = rng.random()
    if style < 0.25:
        text = f"{where}{who}{wrong}，{obj}的事{amount}到现在没人管。"
    elif style < 0.45:
        text = f"喂你好我要反映{where}的事情{who}{wrong}{obj}{amount}老百姓意见很大"
    elif style < 0.6:
        text = f"俺是{village.name}的，{who}{wrong}，{obj}那个事恁们管不管？{amount}"
    elif style < 0.75:
        text = (
            f"尊敬的领导：本人系{village.township}{village.name}村村民，现实名反映{who}"
            f"在{obj}一事中{wrong}的问题，涉及金额{amount or '若干'}，请予核查。"
        )
    elif style < 0.85:
        text = f"{where}{obj}{wrong}"
    else:
        text = (
            f"我家在{village.name}村{rng.randint(1, 9)}组，{detail['year']}年{obj}的事情，"
            f"{who}{wrong}。我们问了好几次，村里说等上面的钱下来，{amount}一直拖着。"
            f"希望上级派人来查一查，给老百姓一个说法。"
        )
    return text


def synthetic_complaints(n: int, seed: int = SEED) -> tuple[list[Complaint], dict[str, str]]:
    """``n`` complaints in arrival order over about two years, and the true event of each."""
    rng = random.Random(seed)
    villages = _universe(rng)
    items = list(_ITEM_TEXT)
    start = datetime(2023, 1, 1)
    span_days = 730
    rows: list[tuple[float, str, str, str, str]] = []
    event_no = 0
    while len(rows) < n:
        event_no += 1
        size = 1 if rng.random() < 0.7 else rng.randint(2, 7)
        size = min(size, n - len(rows))
        village = rng.choice(villages)
        item = rng.choice(items)
        detail = {
            "cadre": rng.choice(village.cadres),
            "object": rng.choice(_ITEM_TEXT[item][1]),
            "amount": rng.choice([50, 200, 300, 500, 600, 800, 1000, 2000, 3000, 5000, 20000]),
            "year": 2022 + rng.randint(0, 2),
        }
        first = rng.uniform(0, span_days)
        for _ in range(size):
            moment = first + rng.uniform(0, 30)
            rows.append(
                (
                    moment,
                    f"ev{event_no}",
                    item,
                    _text(rng, village, item, detail),
                    f"r{rng.randint(1, 10**7)}",
                )
            )
    rows.sort(key=lambda r: r[0])
    complaints, truth = [], {}
    for i, (moment, event, item, text, reporter) in enumerate(rows):
        case_id = f"c{i:07d}"
        complaints.append(Complaint(case_id, text, item, reporter, start + timedelta(days=moment)))
        truth[case_id] = event
    return complaints, truth


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n_complaints: int = 200_000, seed: int = SEED) -> dict:
    taxonomy = load_taxonomy()
    t0 = time.perf_counter()
    complaints, _truth = synthetic_complaints(n_complaints, seed)
    generate_s = time.perf_counter() - t0
    # The whole input sits in memory only here (a service receives it one by one): keep it out
    # of the garbage collector's full passes so they measure the clusterer's own objects.
    gc.freeze()
    # Load the dictionaries and tables once, in a clusterer of its own.
    EventClusterer(taxonomy, ClusterConfig()).add(
        Complaint("warm-up", "河湾村刘主任把低保给了儿媳妇", "S01", None, complaints[0].received_at)
    )
    clusterer = EventClusterer(taxonomy, ClusterConfig())
    latencies = np.zeros(len(complaints))
    # CPU time of each insert too: on a shared machine the wall clock also counts the time other
    # processes held the core, which is not the clusterer's cost.
    cpu = np.zeros(len(complaints))
    cpu_clock = time.thread_time
    checkpoints = [c for c in CHECKPOINTS if c <= len(complaints)] or [len(complaints)]
    report_rows = []
    started = time.perf_counter()
    clock = time.perf_counter
    for i, complaint in enumerate(complaints):
        t, c = clock(), cpu_clock()
        clusterer.add(complaint)
        latencies[i] = clock() - t
        cpu[i] = cpu_clock() - c
        if i + 1 in checkpoints:
            window = latencies[max(0, i + 1 - 2000) : i + 1] * 1000
            report_rows.append(
                (
                    i + 1,
                    float(window.mean()),
                    float(np.percentile(window, 50)),
                    float(np.percentile(window, 99)),
                    clock() - started,
                    _rss_mb(),
                )
            )
    total_s = time.perf_counter() - started
    ms = latencies * 1000
    results = {
        "complaints": len(complaints),
        "generate_s": round(generate_s, 1),
        "insert_total_s": round(total_s, 1),
        "insert_mean_ms": round(float(ms.mean()), 3),
        "insert_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "insert_p99_ms": round(float(np.percentile(ms, 99)), 3),
        "insert_max_ms": round(float(ms.max()), 1),
        "insert_cpu_p50_ms": round(float(np.percentile(cpu * 1000, 50)), 3),
        "insert_cpu_p99_ms": round(float(np.percentile(cpu * 1000, 99)), 3),
        "candidates_per_insert": round(clusterer.stats["scored"] / max(1, len(clusterer)), 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }
    print(f"event clustering benchmark ({len(complaints)} synthetic complaints, one process)")
    print(
        f"  {'inserted':>9} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'elapsed s':>10} "
        f"{'peak RSS MB':>12}   (latency over the last 2,000 inserts)"
    )
    for count, mean, p50, p99, elapsed, rss in report_rows:
        print(f"  {count:>9,} {mean:8.3f} {p50:8.3f} {p99:8.3f} {elapsed:10.1f} {rss:12.1f}")
    for key, value in results.items():
        print(f"  {key:<24} {value}")
    return results
