"""What a resident's message already says, for the bot: the item it is about, the place (matched
against the county's gazetteer with pinyin folding), the resident's own name and phone.

The bot asks only for what is missing, so this runs on every message of a filing. The place
matching and the classifier need the service's environment (jieba, pypinyin, the model); the
bot's action server has neither, so it asks here over HTTP."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.access import Ctx
from api.problems import problem
from classifiers.cluster_vocab import SURNAMES
from classifiers.model import MAX_TEXT_CHARS
from classifiers.places import Place, find_place, load_gazetteer
from classifiers.redact import redact
from common.digits import find_phone

router = APIRouter(prefix="/api/v1", tags=["triage"])
# A petition that says it is signed ("实名反映：…村村民吴春生，电话…"): the name after the
# resident's own description. Used only for the bot's name question (a 留名 filing, read back).
_CONTACT = re.compile(r"联系人[:：]?\s*([\u4e00-\u9fa5]{2,4}?)(?=[\s，,。、(（]|电话|手机|联系|$)")
_SIGNED = re.compile(
    r"(?:实名|署名|留名).{0,30}?(?:村民|居民|反映人|举报人|本人)[:：]?\s*"
    rf"([{''.join(sorted(SURNAMES))}][\u4e00-\u9fa5]{{1,2}})(?=[，,。、\s电（(]|$)"
)


class UnderstandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    # True when the message answers "哪个村？": a bare or misheard name on its own then counts.
    answers_place: bool = False
    classify: bool = True


class PlaceOut(BaseModel):
    township: str | None
    village: str | None
    group: str | None
    known: bool
    said: str


class UnderstandOut(BaseModel):
    category: str | None
    name_of_item: str | None
    confidence: float | None
    top: list[tuple[str, float]]
    needs_review: bool
    place: PlaceOut | None
    name: str | None  # the resident's own name, where they gave it (我叫…)
    phone: str | None
    redacted: str  # the text with the resident's identity masked, for read-backs


def _place_out(place: Place | None) -> PlaceOut | None:
    if place is None:
        return None
    return PlaceOut(
        township=place.township,
        village=place.village,
        group=place.group,
        known=place.known,
        said=place.said,
    )


@router.post("/understand", response_model=UnderstandOut)
def understand(body: UnderstandIn, ctx: Ctx):
    """The item, place, name and phone one message gives (nothing is stored)."""
    if not body.text.strip():
        return problem(422, "内容为空")
    redacted = redact(body.text)
    names = [found.original for found in redacted.found if found.kind == "name"]
    if not names and (signed := _SIGNED.search(body.text)):
        names = [signed.group(1)]
    # Several signers ("反映人：余顺发、余秀兰、程大海 联系人：程大海"): the contact is the one
    # who is called back, so theirs is the name.
    contact = _CONTACT.search(body.text)
    if contact and contact.group(1) in names:
        names = [contact.group(1)]
    category = name_of_item = confidence = None
    top: list[tuple[str, float]] = []
    needs_review = True
    if body.classify:
        try:
            pred = ctx.model.get().predict_one(body.text)
        except FileNotFoundError:
            return problem(503, "分类模型尚未训练，请先运行 hotline train")
        category, confidence, needs_review = pred.category, pred.confidence, pred.needs_review
        top = [(code, round(p, 4)) for code, p in pred.top]
        item = ctx.taxonomy.by_code.get(category)
        name_of_item = item.name if item else None
    return UnderstandOut(
        category=category,
        name_of_item=name_of_item,
        confidence=confidence,
        top=top,
        needs_review=needs_review,
        place=_place_out(find_place(body.text, load_gazetteer(), answer=body.answers_place)),
        name=names[0] if names else None,
        phone=find_phone(body.text),
        redacted=redacted.text,
    )
