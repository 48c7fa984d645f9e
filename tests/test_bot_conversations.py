"""Whole conversations with the real bot: the Rasa server, the action server and the case service
run as processes (the same ones `hotline up` starts), and the tests talk to the bot's web channel
over HTTP, then check what the case service stored."""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest

from api.case_numbers import new_case_number
from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack


@pytest.fixture(scope="module")
def stack(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("bot-stack")
    running = Stack(home, service_env(home, model_path, None), train_bot()).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def staff(stack) -> httpx.Client:
    """The first supervisor account the service created, to check what was stored."""
    password = re.search(r"password: (\S+)", (stack.home / "initial-admin.txt").read_text())[1]
    token = httpx.post(
        f"{stack.api_url}/api/v1/auth/token", json={"username": "admin", "password": password}
    ).json()["access_token"]
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


class Resident:
    """One person chatting: every message goes to the web channel under one sender id."""

    def __init__(self, stack: Stack) -> None:
        self.url = f"{stack.rasa_url}/webhooks/hotline_web/webhook"
        self.sender = f"test-{secrets.token_hex(6)}"
        self.phone = "139" + "".join(secrets.choice("0123456789") for _ in range(8))

    def say(self, message: str) -> str:
        r = httpx.post(self.url, json={"sender": self.sender, "message": message}, timeout=60)
        r.raise_for_status()
        return "\n".join(m.get("text", "") for m in r.json())


def case_number_in(reply: str) -> str:
    digits = re.search(r"(?:案件号是?|登记号是?|案件)[：:\s]*((?:\d ?){8})", reply)
    assert digits, reply
    return digits[1].replace(" ", "")


def status(stack: Stack, number: str, phone: str) -> httpx.Response:
    return httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": phone})


def test_filing_asks_only_what_is_missing(stack, staff):
    r = Resident(stack)
    reply = r.say("我是李庄村的，村里的低保都给了村主任的亲戚，真正困难的人家没评上，我要匿名反映")
    assert "电话" in reply and "哪个村" not in reply and "匿名" not in reply
    reply = r.say(r.phone)  # nothing else missing: filed, then what was stored read back
    assert "最低生活保障" in reply and "城关镇李庄村" in reply and "匿名" in reply
    assert " ".join(r.phone) in reply
    number = case_number_in(reply)
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert stored["village"] == "李庄村" and stored["township"] == "城关镇"
    assert stored["anonymous"] is True
    assert stored["category"] == "S01"
    assert stored["channel"] == "web"
    assert "村主任的亲戚" in stored["text"]
    assert status(stack, number, r.phone).status_code == 200


def test_plain_rest_channel_is_not_offered(stack):
    """Rasa's ``rest`` channel trusts the body's input_channel: a caller could pass as the SMS
    channel with a phone number as sender. Only the fixed-name web channel answers."""
    body = {"sender": "13912345678", "message": "查案件", "input_channel": "hotline_sms"}
    r = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    assert r.status_code == 404


def test_a_spoken_phone_number_is_no_part_of_the_complaint(stack, staff):
    r = Resident(stack)
    r.say("俺是张家湾村的，书记他侄子家盖了楼还吃低保，俺家老头子瘫了申请不上")
    r.say("留名，俺叫王秀英")
    digits = "零幺二三四五六七八九"
    reply = r.say(
        " ".join(
            "".join(digits[int(d)] for d in part)
            for part in (r.phone[:3], r.phone[3:7], r.phone[7:])
        )
    )
    # Filed at once; the record read back after the case number holds the phone.
    assert " ".join(r.phone) in reply and "我记的是" in reply
    number = case_number_in(reply)
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert "〔电话〕" not in stored["text"] and "吃低保" in stored["text"]


def test_several_short_messages_make_one_complaint(stack, staff):
    r = Resident(stack)
    assert "什么事" in r.say("我要举报")
    assert "哪个村" in r.say("修路的事")
    reply = r.say("村里说修水泥路，钱拨下来两年了路还是烂泥巴")
    assert "哪个村" in reply
    assert "匿名" in r.say("王家湾")
    assert "名字" in r.say("可以留名")
    assert "电话" in r.say("王建国")
    reply = r.say("不留")
    number = case_number_in(reply)
    assert "没留电话" in reply
    assert "就按这个办" in r.say("是的")  # 对 after the record: nothing changes
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert "修路的事" in stored["text"] and "烂泥巴" in stored["text"]
    assert stored["village"] == "王家湾村" and stored["township"] == "万佛湖镇"
    assert stored["anonymous"] is False
    assert staff.get(f"/api/v1/cases/{number}/contact").json()["name"] == "王建国"


def test_correction_after_the_record_amends_the_filed_case(stack, staff):
    r = Resident(stack)
    r.say("俺是红旗村的，村里低保评得不公平，都是干部说了算")
    r.say("匿名")
    reply = r.say(r.phone)
    assert "最低生活保障" in reply
    number = case_number_in(reply)
    reply = r.say("不是，是五保的事")
    assert "改好了" in reply and "特困人员救助供养" in reply
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert stored["category"] == "S02" and stored["needs_review"] is True
    amended = [h for h in stored["history"] if h["action"] == "amended"]
    assert len(amended) == 1 and "事项" in amended[0]["note"]


def test_deny_then_correct_the_village(stack, staff):
    r = Resident(stack)
    r.say("村里的账目三年没公开过，问了也不给看")
    r.say("东风村")
    r.say("匿名")
    number = case_number_in(r.say(r.phone))
    assert "哪里不对" in r.say("不对")
    reply = r.say("是西风村")
    assert "西风村" in reply and "东风村" not in reply
    assert staff.get(f"/api/v1/cases/{number}").json()["village"] == "西风村"


def test_switching_to_anonymous_after_the_record_removes_the_name(stack, staff):
    r = Resident(stack)
    r.say("村主任把集体的鱼塘包给他小舅子，一年才收五百块")
    r.say("柳树村")
    r.say("留名，我叫孙德海")
    number = case_number_in(r.say(r.phone))
    assert staff.get(f"/api/v1/cases/{number}/contact").json()["name"] == "孙德海"
    reply = r.say("算了，名字别写了，怕他们报复")
    assert "匿名" in reply and "孙德海" not in reply
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert stored["anonymous"] is True
    assert staff.get(f"/api/v1/cases/{number}/contact").json()["name"] is None
    assert all("孙德海" not in (h.get("note") or "") for h in stored["history"])


def test_same_event_again_is_joined_to_the_open_case(stack, staff):
    r = Resident(stack)
    text = "张庄村的危房改造补助被村会计扣了一半，我家房子到现在还漏雨"
    for say in (text, "匿名"):
        r.say(say)
    first = case_number_in(r.say(r.phone))
    # Told again in other words: added to the case just filed, with nothing asked again.
    reply = r.say("还是危房改造补助的事，会计扣了我家一半的钱，房子还在漏雨")
    assert "补到" in reply and " ".join(first) in reply
    assert "还在漏雨" in staff.get(f"/api/v1/cases/{first}").json()["text"]
    # Later, after other talk, the same matter again: a repeat joined to the open case.
    r.say("好的")
    reply = r.say("我再说一遍，张庄村危房改造补助被会计扣了一半，房子一直漏雨没人管")
    assert "并到" in reply and " ".join(first) in reply  # who and where are not asked again


def test_status_lookup_right_and_wrong(stack):
    r = Resident(stack)
    for say in ("我们村的高龄津贴半年没发了，八十多岁的老人都等着用钱", "李庄村", "匿名"):
        r.say(say)
    number = case_number_in(r.say(r.phone))

    other = Resident(stack)
    spoken = "".join("洞幺两三四五六拐八九"[int(d)] for d in number)
    reply = other.say(f"查一下我的案子，案件号{spoken}")
    assert "电话" in reply
    reply = other.say(r.phone)
    assert "高龄津贴" in reply and "前办完" in reply

    wrong_digit = number[:-1] + str((int(number[-1]) + 1) % 10)
    stranger = Resident(stack)
    assert "对不上" in stranger.say(f"我想查进度 {wrong_digit}")  # the check digit fails
    unknown = new_case_number()
    reply = stranger.say(f"{unknown} {r.phone}")
    assert "没查到" in reply and "转给工作人员" in reply  # two failures: a person is offered
    late = Resident(stack)
    reply = late.say(f"查询 {number} {late.phone}")  # right number, wrong phone
    assert "没有查到" in reply and "高龄津贴" not in reply


def test_policy_questions_answer_from_the_item_list(stack):
    r = Resident(stack)
    reply = r.say("低保怎么申请？")
    assert "最低生活保障" in reply
    assert not re.search(r"\d", reply)
    reply = r.say("高龄津贴多少钱一个月")
    assert "高龄津贴" in reply and "元" not in reply
    reply = r.say("火星移民补贴怎么申请")
    assert "答不上来" in reply and "工作人员" in reply
    assert "电话" in r.say("好")  # yes to a person: the handoff asks for a phone
    # A programme described, not named, after "想问下": answered by the item it is about.
    asker = Resident(stack)
    assert "您请说" in asker.say("想问下")
    reply = asker.say("今年水稻被水淹了好多 听讲交了保险的可以赔 那个保险是咋个赔法 要找谁报啊")
    assert "农业保险" in reply and "答不上来" not in reply


def test_out_of_list_is_referred_and_still_recorded(stack, staff):
    r = Resident(stack)
    r.say("我要反映，隔壁邻居家的狗天天半夜叫，吵得一家人睡不着觉")
    r.say("柳树村")
    reply = r.say("匿名")
    reply = r.say(r.phone)
    assert "12348" in reply and "我记的是" in reply  # read back like any filing, with the referral
    number = case_number_in(reply)
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert stored["category"] == "OUT"
    # A machine named in a quarrel is no 农机购置补贴 when the model is sure it is none.
    other = Resident(stack)
    other.say("我隔壁那家天天把拖拉机停在我家门口 说了几回还骂人 前天两家还差点打起来 能不能管管")
    other.say("柳树村")
    other.say("匿名")
    reply = other.say(other.phone)
    assert "12348" in reply and "农机" not in reply


def test_a_person_on_request_is_recorded(stack, staff):
    r = Resident(stack)
    assert "什么事" in r.say("我要转人工")  # one question first, for whoever calls back
    assert "匿名还是留名" in r.say("河湾村修路的钱被村长挪走了")
    assert "名字" in r.say("留名")
    assert "电话" in r.say("我叫周长林")
    reply = r.say(r.phone)
    assert "转给工作人员" in reply
    number = case_number_in(reply.replace("登记号", "登记号是"))
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert "请求人工服务" in stored["text"] and "修路的钱" in stored["text"]
    assert (stored["village"], stored["township"]) == ("河湾村", "城关镇")
    assert stored["anonymous"] is False
    # Told without a village: asked once, before the phone, so the callback knows where.
    other = Resident(stack)
    other.say("我要转人工")
    assert "哪个村" in other.say("村里修路的钱被村长挪走了")
    assert "匿名还是留名" in other.say("柳树村")
    assert "电话" in other.say("匿名，别让村里知道")
    reply = other.say(other.phone)
    told = case_number_in(reply.replace("登记号", "登记号是"))
    assert staff.get(f"/api/v1/cases/{told}").json()["village"] == "柳树村"
    assert staff.get(f"/api/v1/cases/{told}").json()["anonymous"] is True
    # A story that says "谁也不知道" is no refusal to say: it was dropped from the handoff.
    seller = Resident(stack)
    seller.say("我要找你们领导当面说，这个事电话里说不清")
    seller.say("就是我们村的老小学，村里偷偷卖给一个老板了，卖了多少钱谁也不知道")
    assert "匿名还是留名" in seller.say("柳树村")
    assert "电话" in seller.say("匿名")
    sold = case_number_in(seller.say(seller.phone).replace("登记号", "登记号是"))
    assert "老小学" in staff.get(f"/api/v1/cases/{sold}").json()["text"]
    # "跟你们说个事" is about to tell, not a request; who the caller is stays in the handoff.
    assert "转人工" not in Resident(stack).say("跟你们说个事")
    farmer = Resident(stack)
    assert "什么事" in farmer.say("我是开养鸡场的 找你们领导当面说")
    farmer.say("村里一个干部 每年要我交一万块管理费 不交就找人来查环保")
    assert "电话" in farmer.say("不说")  # no village: 匿名, and only the phone is left
    reply = farmer.say(farmer.phone)
    told = case_number_in(reply.replace("登记号", "登记号是"))
    assert "养鸡场" in staff.get(f"/api/v1/cases/{told}").json()["text"]
    history = staff.get(f"/api/v1/cases/{number}/history")
    actions = [h["action"] for h in history.json()] if history.status_code == 200 else []
    assert not actions or "handoff" in actions


def test_the_story_after_a_storyless_request_for_a_person_goes_into_that_case(stack, staff):
    """ "别问了，让人打我电话" hands over with nothing told; the story said next is added to
    that case (classified again on it), not filed as a second case."""
    r = Resident(stack)
    r.say("我要转人工")
    assert "电话" in r.say("别问了，直接让人打我电话")
    number = case_number_in(r.say(r.phone).replace("登记号", "登记号是"))
    before = staff.get("/api/v1/cases", params={"limit": 1}).json()["total"]
    reply = r.say("俺们柳树村的低保，村长把他小舅子弄上了，俺家老头子瘫在床上反倒没评上")
    assert number in reply.replace(" ", "")
    assert staff.get("/api/v1/cases", params={"limit": 1}).json()["total"] == before
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = staff.get(f"/api/v1/cases/{number}").json()
        if stored["category"] == "S01":
            break
        time.sleep(0.3)
    assert "小舅子" in stored["text"] and stored["category"] == "S01"
    assert (stored["village"], stored["anonymous"]) == ("柳树村", True)


def test_say_it_again_repeats_the_open_question_and_changes_nothing(stack, staff):
    r = Resident(stack)
    asked = r.say("村里修路的钱被村长挪走了，路修了一半就停了")
    assert "哪个村" in asked
    assert r.say("你说慢一点 我没听清 再说一遍").strip() == asked.strip()
    assert "匿名还是留名" in r.say("柳树村")  # the village question is still the open one


def test_a_request_for_a_person_with_the_story_keeps_it_and_its_village(stack, staff):
    r = Resident(stack)
    reply = r.say(
        "俺跟机器说不清，给俺找个活人。俺是光明村的，就是那个扶贫的小额贷款，"
        "前年村主任说帮俺贷，贷下来的钱他拿去用了"
    )
    assert "匿名还是留名" in reply  # what about and where were said: only who is asked
    assert "电话" in r.say("匿名")
    number = case_number_in(r.say(r.phone).replace("登记号", "登记号是"))
    stored = staff.get(f"/api/v1/cases/{number}").json()
    assert stored["village"] == "光明村" and "小额贷款" in stored["text"]
    assert stored["anonymous"] is True


def test_two_misunderstandings_bring_a_person(stack):
    r = Resident(stack)
    first = r.say("qwerty asdf zxcv")
    assert "没听明白" in first
    second = r.say("lkjh poiu mnbv")
    assert "转给工作人员" in second
    assert "电话" in r.say("好的")


def test_resident_goes_silent_and_comes_back(stack, staff):
    r = Resident(stack)
    r.say("我要反映村里的事")
    assert "哪个村" in r.say("村干部把集体的鱼塘偷偷包给了自己小舅子，价钱低得很")
    time.sleep(3)  # the resident puts the phone down for a while
    assert "接着" in r.say("喂，你好")
    assert "哪个村" in r.say("嗯")
    assert "匿名" in r.say("柳树村")
    r.say("再见")  # leaves before finishing
    reply = r.say("你好")
    assert "还没登记完" in reply
    assert "匿名" in r.say("对")
    r.say("匿名")
    reply = r.say(r.phone)
    assert "柳树村" in reply
    number = case_number_in(reply)
    assert "鱼塘" in staff.get(f"/api/v1/cases/{number}").json()["text"]


def test_rasa_conversation_tests(stack, tmp_path):
    """`rasa test core` on bot/tests, with this stack's action server and case service."""
    from hotline.bot_commands import run_story_tests

    result = run_story_tests(train_bot(), stack.home / "endpoints.yml", tmp_path)
    failed = tmp_path / "failed_test_stories.yml"
    assert result.returncode == 0, failed.read_text() if failed.exists() else result


def test_rating_a_finished_case_by_message(stack, staff):
    r = Resident(stack)
    for say in ("村里五保户的供养金被扣了一部分，问村会计也不说清楚", "桃园村", "匿名"):
        r.say(say)
    number = case_number_in(r.say(r.phone))
    unit = staff.post("/api/v1/units", json={"name": f"民政办{number}", "kind": "civil_affairs"})
    assert staff.post(
        f"/api/v1/cases/{number}/assign", json={"unit_id": unit.json()["id"]}
    ).is_success
    staff.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"})
    done = staff.post(
        f"/api/v1/cases/{number}/transition",
        json={"to": "已办结", "reply": "经核查，扣下的供养金已经补发到户。"},
    )
    assert done.status_code == 200, done.text
    assert "谢谢您的评价：不满意" in r.say("不太满意，钱还没到账")  # the bot knows the case
    assert staff.get(f"/api/v1/cases/{number}").json()["state"] == "重新办理"
    stranger = Resident(stack)
    assert "案件号" in stranger.say("满意")
    assert "电话" in stranger.say(number)
    assert "没有查到" in stranger.say(stranger.phone)  # a rating needs the filing phone


def test_an_angry_rating_with_its_reasons_after_the_status_is_a_rating(stack, staff):
    r = Resident(stack)
    for say in ("村里光伏的收益说好年底分，三年了一分没见到", "梨园村", "匿名"):
        r.say(say)
    number = case_number_in(r.say(r.phone))
    unit = staff.post("/api/v1/units", json={"name": f"农经站{number}", "kind": "rural_economy"})
    staff.post(f"/api/v1/cases/{number}/assign", json={"unit_id": unit.json()["id"]})
    staff.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"})
    staff.post(
        f"/api/v1/cases/{number}/transition",
        json={"to": "已办结", "reply": "经核查，光伏收益已用于村级公益事业，账目已公示。"},
    )
    later = Resident(stack)
    later.phone = r.phone
    assert "已办结" in later.say(f"{number}这个案子你们回复的什么玩意！ {r.phone}")
    # Longer than a bare rating, with the reasons first: still the rating invited, not a new
    # complaint about the same money.
    assert "谢谢您的评价：不满意" in later.say("糊弄鬼呢，一分钱没分到，不满意！！")
    assert staff.get(f"/api/v1/cases/{number}").json()["state"] == "重新办理"


def test_a_phone_given_with_a_worry_about_it_is_kept(stack, staff):
    """ "电话真不给村里看吧？那好 1825…": the worry is answered and the phone is taken, not
    asked for again (it was asked three times, then filed with no phone)."""
    r = Resident(stack)
    assert "匿名还是留名" in r.say("柳树村的低保给了村主任他侄子 他家开着小卖部")
    assert "电话" in r.say("匿名")
    reply = r.say(f"电话真不给村里看吧？那好 {r.phone}")
    assert "村里不会知道" in reply and "我记的是" in reply
    number = case_number_in(reply)
    contact = staff.get(f"/api/v1/cases/{number}/contact").json()
    assert contact["phone"] == r.phone and contact["anonymous"] is True
