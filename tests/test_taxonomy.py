from pathlib import Path

import pytest
import yaml

from classifiers.taxonomy import DEFAULT_TAXONOMY_PATH, OUT_CODE, TaxonomyError, load_taxonomy


def test_default_taxonomy_has_33_plus_1_plus_1_items_and_out(taxonomy):
    codes = taxonomy.codes
    assert len(codes) == 36
    assert OUT_CODE in codes
    groups = {item.group for item in taxonomy.items}
    assert {"general", "business", "outside"} <= groups
    assert (
        sum(1 for item in taxonomy.items if item.group not in {"general", "business", "outside"})
        == 33
    )
    s01 = taxonomy.by_code["S01"]
    assert s01.name == "最低生活保障"
    assert s01.deadline_days > 0 and s01.unit in taxonomy.units


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "taxonomy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _base() -> dict:
    return yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))


def test_county_can_add_an_item_without_code_changes(tmp_path):
    data = _base()
    data["items"].insert(
        -1,
        {
            "code": "X01",
            "group": "farm_subsidy",
            "name": "秸秆禁烧补助",
            "deadline_days": 7,
            "unit": "agriculture",
            "scope": "秸秆综合利用与禁烧补助的发放",
        },
    )
    taxonomy = load_taxonomy(_write(tmp_path, data))
    assert taxonomy.by_code["X01"].deadline_days == 7
    assert len(taxonomy.codes) == 37


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["items"].append(dict(d["items"][0])), "duplicate item code S01"),
        (lambda d: d["items"][0].update(group="nowhere"), "unknown group"),
        (lambda d: d["items"][0].update(unit="nobody"), "unknown unit"),
        (lambda d: d["items"].pop(), "out-of-list item OUT"),
        (lambda d: d["items"][0].update(deadline_days=0), "deadline_days"),
        (lambda d: d["items"][0].update(code="s-1"), "upper-case"),
        (lambda d: d["items"][0].update(colour="red"), "colour"),
    ],
)
def test_invalid_taxonomy_is_refused_with_a_reason(tmp_path, mutate, message):
    data = _base()
    mutate(data)
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(_write(tmp_path, data))


def test_missing_and_malformed_files_are_clear_errors(tmp_path):
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(bad)


def test_environment_variable_selects_the_taxonomy(tmp_path, monkeypatch):
    data = _base()
    data["version"] = "county-2027"
    monkeypatch.setenv("HOTLINE_TAXONOMY", str(_write(tmp_path, data)))
    assert load_taxonomy().version == "county-2027"
