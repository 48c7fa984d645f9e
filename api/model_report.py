"""The comparison report of a candidate model as files next to it: ``report.json`` (what the
workbench page reads), ``confusion.png`` and a stand-alone ``report.html`` (the same partial the
workbench page shows, so the two never disagree). All text is escaped: complaints contain
anything."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.staff_words import beijing
from classifiers.compare import Comparison
from classifiers.evaluate import plot_confusion

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["dt"] = beijing  # the report's times in Beijing time, as on the 模型 page


def report_env() -> Environment:
    return _env


def write_report(comparison: Comparison, folder: Path, names: dict[str, str]) -> Path:
    """Write the three files; returns the HTML file's path."""
    (folder / "report.json").write_text(
        json.dumps(comparison.as_dict(), ensure_ascii=False), encoding="utf-8"
    )
    frozen = comparison.set("frozen")
    plot_confusion(
        SimpleNamespace(
            labels=comparison.confusion_labels,
            confusion=np.asarray(comparison.confusion),
            accuracy=frozen.candidate.get("accuracy", 0.0),
            macro_f1=frozen.candidate.get("macro_f1", 0.0),
        ),
        folder / "confusion.png",
    )
    html = _env.get_template("model_report_file.html").render(
        cmp=comparison, names=names, confusion_src="confusion.png"
    )
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def load_comparison(folder: Path) -> Comparison | None:
    path = folder / "report.json"
    if not path.exists():
        return None
    return Comparison.from_dict(json.loads(path.read_text(encoding="utf-8")))
