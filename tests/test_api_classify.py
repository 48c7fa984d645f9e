"""The classifier over real HTTP, as the case service and other tools will call it."""

import httpx


def test_classify_over_http(classifier_server):
    r = httpx.post(
        classifier_server + "/api/v1/classify",
        json={"text": "村里新修的水泥路是村长亲戚包的工程，招标走过场，路面半年就开裂了"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["category"] == "S24"
    assert body["name"] == "村级工程项目"
    assert len(body["top"]) == 3 and body["terms"]


def test_bad_requests_are_problem_details_in_chinese(classifier_server):
    url = classifier_server + "/api/v1/classify"
    cases = [
        {"text": ""},
        {"text": "x" * 4001},
        {"text": 5},
        {"text": "低保", "role": "admin"},
        {},
    ]
    for body in cases:
        r = httpx.post(url, json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 422 and problem["title"] == "内容不符合要求"
        assert "请求内容不符合要求" in problem["detail"]
    r = httpx.post(url, content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "UTF-8" in r.json()["detail"]
    r = httpx.post(url, json={"text": "   "})
    assert r.status_code == 422 and r.json()["detail"] == "投诉内容为空"
    r = httpx.get(classifier_server + "/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["title"] == "没有找到"


def test_understand_names_the_contact_of_a_petition_with_several_signers(classifier_server):
    petition = (
        "关于庐镇村村务财务长期不公开的反映\n村务公开栏自去年九月以来未再更新。\n"
        "反映人：余顺发、余秀兰、程大海\n联系人：程大海  联系电话：13505649921"
    )
    r = httpx.post(classifier_server + "/api/v1/understand", json={"text": petition})
    assert r.status_code == 200
    assert r.json()["name"] == "程大海" and r.json()["phone"] == "13505649921"
