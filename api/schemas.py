"""Request and response bodies. Unknown fields are refused, so a forged ``role`` or ``state``
in a body is an error rather than silently ignored."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from api.clean import MAX_ID, clean_line, clean_tree, in_range
from api.clock import aware
from classifiers.model import MAX_TEXT_CHARS

LocalDateTime = Annotated[datetime, AfterValidator(aware)]
# A date-time from a client (a filter): within what both databases compare safely.
AwareDateTime = Annotated[datetime, AfterValidator(in_range)]
# A row id from a client: fits the INTEGER id columns.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A one-line value from a client (names, places, keys, numbers): no control characters.
Line = Annotated[str, AfterValidator(clean_line)]


def _clean_phone(value: str) -> str:
    digits = value.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not (digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 12):
        raise ValueError("电话号码应为7到12位数字")
    return digits


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("内容不能为空")
    return value.strip()


Phone = Annotated[str, AfterValidator(_clean_phone)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), AfterValidator(_not_blank)]
ShortText = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]
Place = Annotated[Line, Field(min_length=1, max_length=50)]


class Strict(BaseModel):
    """A request body: unknown fields refused, and no string in it may carry NUL, control
    characters or lone surrogates (a 422, not a database error)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value):
        return clean_tree(value)


class Channel(StrEnum):
    WEB = "web"
    SMS = "sms"
    VOICE = "voice"
    GRID_WORKER = "grid_worker"
    STAFF = "staff"


class ComplaintIn(Strict):
    text: Text
    channel: Channel = Channel.WEB
    phone: Phone | None = None
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    anonymous: bool = False
    township: Place | None = None
    village: Place | None = None
    village_group: Annotated[Line, Field(max_length=20)] | None = None
    village_flagged: bool = Field(
        False, description="村名不在本县地名表（config/places.yml）里：按所说记下，请工作人员核实"
    )
    audio_url: HttpUrl | None = None
    idempotency_key: Annotated[Line, Field(min_length=8, max_length=100)] | None = None
    resident_category: Annotated[str, Field(pattern=r"^[A-Z]\d{2}$|^OUT$")] | None = Field(
        None,
        description="事项代码：居民在机器人复述时确认或更正的事项；立即分类，并留给工作人员审核",
    )
    asked_for_person: bool = Field(
        False,
        description="居民要过人工但没留电话：记入案件经过，工作人员无法回电，居民来访时可对上",
    )
    not_read_back: bool = Field(
        False,
        description="居民没听完复述就挂断了：按已说的内容登记，记入案件经过，请工作人员核实",
    )


class HandoffIn(Strict):
    """A resident asked for a person (or the bot misunderstood twice)."""

    conversation_id: Annotated[Line, Field(min_length=1, max_length=100)]
    channel: Channel = Channel.WEB
    phone: Phone
    case_number: Annotated[Line, Field(min_length=1, max_length=20)] | None = None
    reason: ShortText
    transcript: Annotated[list[ShortText], Field(max_length=30)] = []
    # Named only when the resident chose 留名 before asking for a person; anonymous otherwise.
    anonymous: bool = True
    # The resident's own name, kept only on a named (not anonymous) request.
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    # Where, when the resident had said it before asking for a person.
    township: Place | None = None
    village: Place | None = None
    village_group: Annotated[Line, Field(max_length=20)] | None = None
    village_flagged: bool = Field(
        False, description="村名不在本县地名表（config/places.yml）里：按所说记下，请工作人员核实"
    )


class AmendIn(Strict):
    """The resident corrected the read-back of a complaint the bot has just filed. Only the
    filing's own idempotency key opens the case; fields left out stay as filed."""

    idempotency_key: Annotated[Line, Field(min_length=8, max_length=100)]
    resident_category: Annotated[str, Field(pattern=r"^[A-Z]\d{2}$|^OUT$")] | None = None
    township: Place | None = None
    village: Place | None = None
    village_group: Annotated[Line, Field(max_length=20)] | None = None
    village_flagged: bool | None = None
    anonymous: bool | None = None
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    phone: Phone | None = None
    no_phone: bool = Field(False, description="居民改为不留电话")
    addendum: ShortText | None = Field(None, description="更正时多说的内容，补在投诉正文后")
    asked_for_person: bool = Field(
        False, description="登记后居民要求转人工，但没留电话：记入办理记录，无法回电"
    )


class AmendAccepted(BaseModel):
    number: str
    changed: list[str]
    category: str | None
    message: str


class HandoffAccepted(BaseModel):
    number: str
    created: bool
    message: str
    idempotency_key: str | None = Field(
        None,
        description="只回给热线内部服务：居民接着讲的事由此补充进这个登记（/amend）",
    )


class ComplaintAccepted(BaseModel):
    number: str
    state: str
    triage_status: str
    category: str | None
    category_name: str | None
    received_at: LocalDateTime
    due_date: date | None
    joined_case: str | None = Field(None, description="案件号：与此前未办结案件为同一问题时")
    message: str


class Login(Strict):
    username: Annotated[Line, Field(min_length=1, max_length=50)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: LocalDateTime
    role: str


class HistoryOut(BaseModel):
    at: LocalDateTime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    public: bool


class UnitOut(BaseModel):
    id: int
    name: str
    kind: str
    township: str | None
    village: str | None


class CaseOut(BaseModel):
    """A case as staff see it: never the complainant's identity (see /contact for that)."""

    number: str
    text: str
    channel: str
    township: str | None
    village: str | None
    village_group: str | None = None  # 四组
    village_flagged: bool = False  # not in the county's gazetteer: staff check the name
    audio_url: str | None
    audio_seconds: int | None = None  # a voicemail's length (revision 0006)
    state: str
    triage_status: str
    category: str | None
    category_name: str | None
    predicted_category: str | None
    confidence: float | None
    top: list | None
    terms: list | None
    needs_review: bool
    category_confirmed: bool
    about_cadres: bool
    anonymous: bool
    unit: UnitOut | None
    received_at: LocalDateTime
    due_date: date | None
    overdue: bool
    closed_at: LocalDateTime | None
    escalation_level: int
    lead_case: str | None
    rating: str | None
    referral_reason: str | None
    event_id: str | None
    event_reporters: int
    joint_review: bool
    cluster_reason: str | None = None  # why the clusterer put it in its event
    model_version: str | None = None  # the registry version that classified it
    history: list[HistoryOut] | None = None


class CaseList(BaseModel):
    total: int
    items: list[CaseOut]


class ContactOut(BaseModel):
    number: str
    anonymous: bool
    name: str | None
    phone: str | None
    text_original: str | None = Field(
        None, description="反映原文（未遮盖个人信息）；原文中没有需遮盖的内容时为空"
    )


class TransitionIn(Strict):
    to: Annotated[Line, Field(min_length=1, max_length=20)]
    note: ShortText | None = None
    reply: Annotated[str, Field(min_length=1, max_length=1000)] | None = None


class AssignIn(Strict):
    unit_id: Id
    note: ShortText | None = None


class ReferIn(Strict):
    reason: ShortText


class CategoryIn(Strict):
    category: Annotated[Line, Field(min_length=2, max_length=10)]


class NoteIn(Strict):
    note: Annotated[str, Field(min_length=1, max_length=2000)]


class EscalateIn(Strict):
    reason: ShortText


class MergeIn(Strict):
    into: Annotated[Line, Field(min_length=8, max_length=20)]


class StatusQuery(Strict):
    number: Annotated[Line, Field(min_length=1, max_length=40)]
    phone: Phone


class RatingIn(Strict):
    number: Annotated[Line, Field(min_length=1, max_length=40)]
    phone: Phone
    rating: Annotated[Line, Field(min_length=1, max_length=10)]
    comment: Annotated[str, Field(max_length=500)] | None = None


class ResidentStep(BaseModel):
    at: LocalDateTime
    what: str


class ResidentStatus(BaseModel):
    number: str
    state: str
    summary: str
    handled_by: str | None
    due_date: date | None
    steps: list[ResidentStep]


class UnitIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=100)]
    kind: Annotated[Line, Field(min_length=1, max_length=40)]
    township: Place | None = None
    village: Place | None = None


class OutboxItem(BaseModel):
    """A text message to a resident, as supervisors see it (the number masked: the full number
    is contact data, read through the audited contact view)."""

    id: int
    case_number: str | None
    kind: str
    kind_name: str
    to: str
    body: str
    status: str
    status_name: str
    attempts: int
    provider_sid: str | None
    error: str | None
    created_at: LocalDateTime
    next_at: LocalDateTime | None
    sent_at: LocalDateTime | None
    # Revision 0006: the provider's delivery report, and a resend's original.
    delivery_status: str | None = None
    error_code: str | None = None
    status_at: LocalDateTime | None = None
    resend_of_id: int | None = None


class OutboxList(BaseModel):
    live: bool = Field(description="是否真实发送（未配置Twilio时只记录）")
    total: int
    counts: dict[str, int]
    items: list[OutboxItem]
