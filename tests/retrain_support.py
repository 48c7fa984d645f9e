"""Complaints about five county programmes the corpus never mentions, and the items this county's
office files them under; the retraining tests correct them through the API and check that the
new model learned them.

Each programme's texts are built from complaint sentences ("cores") with the programme's local
name, an opening and a closing. The held-back paraphrases use cores, openings and closings the
corrected cases never use, so the model can only get them right by learning the programme, not
by remembering the corrected texts.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Programme:
    code: str  # the item the office files it under
    names: tuple[str, str]  # two local names for it
    cores: tuple[str, ...]  # used in corrected cases
    held_back: tuple[str, ...]  # used only in paraphrases


PROGRAMMES = (
    Programme(
        "S11",
        ("防贫保", "防贫保险"),
        (
            "{t}的理赔款被村会计压着不给",
            "我家去年因病差点返贫，报了{t}，村里说名额满了",
            "{t}赔下来的钱村干部说要先交两百块手续费",
            "村主任把{t}的赔付名额给了自己亲戚",
            "{t}理赔单交上去三个月了，村里一直说没批下来",
            "{t}的钱到了村里账上，就是不发给我们",
        ),
        (
            "申请{t}的时候村里让我们写假材料，赔的钱还被扣了一截",
            "俺家老头子住院花了好几万，{t}的理赔到现在一分没见",
        ),
    ),
    Programme(
        "S05",
        ("孝善基金", "孝善养老金"),
        (
            "村里{t}说是每月给八十岁以上老人发钱，我娘一直没领到",
            "{t}的钱被村里拿去吃喝了，老人们一分没见",
            "我爷爷九十了，{t}今年只发了两个月",
            "{t}发放名单里有早就去世的人，钱让谁领了",
            "儿女交的{t}，村里说好加上补贴一起发给老人，结果没发",
            "村支书他爹才七十岁就领上了{t}",
        ),
        (
            "{t}到底怎么发的，俺家老太太八十五了，问了村里好几回没人理",
            "隔壁九十岁的老汉说{t}被村会计扣了一半",
        ),
    ),
    Programme(
        "S24",
        ("以工代赈", "以工代赈项目"),
        (
            "{t}干活的工钱村里拖了半年不给",
            "{t}的劳务报酬被包工头和村干部克扣了",
            "{t}说好招本村贫困户干活，结果用的都是外地人",
            "村里{t}修的水渠，花名册上好多人根本没干过活",
            "{t}的钱发到村里，村长只给我们发了一半",
            "我在{t}上干了四十天，一分钱工钱没拿到",
        ),
        (
            "俺们几个老汉在{t}工地上搬了一个月石头，村里说钱还没下来",
            "{t}的用工名单是假的，村干部的亲戚挂名领钱",
        ),
    ),
    Programme(
        "S17",
        ("秸秆禁烧补助", "秸秆禁烧补贴"),
        (
            "{t}没发到农户手里",
            "今年的{t}村里说没有了，别的村都发了",
            "{t}按亩发，村里少给我家算了三亩",
            "村干部把{t}给了自家亲戚，我们种地的没有",
            "{t}的名单在村里没公示就报上去了",
            "交了秸秆也没烧，{t}却被村里扣着",
        ),
        (
            "俺家二十亩麦茬一根没烧，{t}到现在没见着",
            "听说{t}镇里早拨下来了，村会计一直压着",
        ),
    ),
    Programme(
        "S22",
        ("积分超市", "爱心积分超市"),
        (
            "{t}的东西都被村干部亲戚换走了",
            "{t}的积分怎么算的不公开，我家一分都没有",
            "村里{t}的货是用集体的钱买的，被村主任拉回家了",
            "我攒的{t}积分去换东西，说货没了",
            "{t}年底评积分，全是村干部说了算",
            "{t}的米面油过期了还拿来给我们换",
        ),
        (
            "{t}里的东西俺们老百姓换不着，村干部家里倒是堆满了",
            "村里{t}的积分账对不上，问会计也不说",
        ),
    ),
)
OPENINGS = ("", "我想反映一下，", "你好，", "我是本村村民，", "俺要举报，")
CLOSINGS = ("", "请领导调查一下。", "希望尽快处理。", "大家意见很大。")
HELD_BACK_OPENINGS = ("麻烦你们管管，", "喂，我说个事，")
HELD_BACK_CLOSINGS = ("麻烦给个说法。", "这事拖了好久了。")


def _compose(opening: str, core: str, name: str, closing: str) -> str:
    text = opening + core.format(t=name)
    return text + ("，" + closing if closing else "")


def corrections(per_programme: int = 20, seed: int = 7) -> list[tuple[str, str]]:
    """(text, item) for the cases staff correct: 100 by default, every core used."""
    rng = random.Random(seed)
    out = []
    for prog in PROGRAMMES:
        combos = list(itertools.product(prog.cores, prog.names, OPENINGS, CLOSINGS))
        rng.shuffle(combos)
        # Every core first, then whatever else the shuffle gives.
        chosen = [next(c for c in combos if c[0] == core) for core in prog.cores]
        chosen += [c for c in combos if c not in chosen][: per_programme - len(chosen)]
        out += [(_compose(o, core, n, c), prog.code) for core, n, o, c in chosen]
    return out


def paraphrases() -> list[tuple[str, str]]:
    """(text, item) never filed: held-back sentences about the same programmes."""
    out = []
    for prog in PROGRAMMES:
        for i, (core, name) in enumerate(itertools.product(prog.held_back, prog.names)):
            opening = HELD_BACK_OPENINGS[i % 2]
            closing = HELD_BACK_CLOSINGS[(i // 2) % 2]
            out.append((_compose(opening, core, name, closing), prog.code))
    return out
