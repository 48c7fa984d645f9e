"""The workbench's reply templates (config/replies.yml), its CSV files and its login redirects,
without a running service."""

from __future__ import annotations

import pytest

from api.workbench.replies import (
    REPLIES_FILE,
    RepliesError,
    Template,
    case_values,
    fill,
    load_replies,
    parse,
)
from api.workbench.session import safe_next
from api.workbench.stats import to_csv


def test_the_shipped_templates_load_and_fill_every_placeholder(taxonomy):
    replies = load_replies(REPLIES_FILE)
    values = case_values("12345674", "最低生活保障", "城关镇民政办", "河湾村", "城关镇", None)
    for code in taxonomy.codes:
        for state in ("办理中", "已办结", "清单外转办"):
            for template in replies.for_case(code, taxonomy, state):
                text = fill(template, {**values, "due": "2026年12月1日"})
                assert "{" not in text and "}" not in text, (code, state, template.title)


def test_specific_templates_come_before_general_ones(taxonomy):
    replies = load_replies(REPLIES_FILE)
    titles = [t.title for t in replies.for_case("S01", taxonomy, "已办结")]
    assert titles[0] == "低保已重新评定"  # the item's own
    assert titles[1] == "资格已重新评议"  # its group's (social assistance)
    assert "属实，已整改" in titles[2:]  # then the general ones
    assert "低保已重新评定" not in [t.title for t in replies.for_case("S02", taxonomy, "已办结")]


def test_a_placeholder_without_a_value_is_left_for_the_writer():
    text = fill(Template("t", "由{unit}办理，期限{due}"), {"unit": "农经站", "due": None})
    assert text == "由农经站办理，期限{due}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"defaults": {"已归档": []}}, "unknown state"),
        ({"defaults": {"已办结": [{"title": "x", "text": "您好{name}"}]}}, "unknown placeholder"),
        ({"defaults": {"已办结": [{"title": "x"}]}}, "needs a title and a text"),
        (
            {"groups": {"projects": {"已办结": [{"title": "x", "text": "坏的{"}]}}},
            "groups.projects",
        ),
    ],
)
def test_a_malformed_template_file_is_refused_saying_where(data, message):
    with pytest.raises(RepliesError, match=message):
        parse(data)


def test_csv_cells_cannot_become_spreadsheet_formulas():
    text = to_csv(["乡镇", "摘要"], [['=HYPERLINK("http://x")', "+1"], ["城关镇", "正常"]])
    assert text.startswith("\ufeff乡镇,摘要\r\n")
    assert "'=HYPERLINK" in text and ",'+1" in text and "城关镇,正常" in text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/workbench/cases/12345674", "/workbench/cases/12345674"),
        ("https://evil.example/workbench/", "/workbench/"),
        ("//evil.example/workbench/", "/workbench/"),
        ("/workbench/..//evil.example", "/workbench/"),
        ("/api/v1/cases", "/workbench/"),
        (None, "/workbench/"),
    ],
)
def test_login_only_returns_inside_the_workbench(target, expected):
    assert safe_next(target) == expected


def test_staff_text_is_never_run_through_python_formatting():
    """A reply written by hand (bulk replies are filled per case) is plain text: only the named
    placeholders are replaced; attribute lookups, indexes and stray braces stay as written."""
    text = "案件{number}{number.__class__.__mro__}{0}{unit!r}{ {due}"
    filled = fill(Template("", text), {"number": "12345678", "unit": "农经站", "due": None})
    assert filled == "案件12345678{number.__class__.__mro__}{0}{unit!r}{ {due}"
