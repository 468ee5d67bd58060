"""docs/python-api.md's worked example, run as written against a server on 127.0.0.1
(the shop's changed build, so the example has a regression to show)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from tests.pytest_plugin import shop
from tests.pytest_plugin.recording import record, serve

DOC = Path(__file__).parent.parent / "docs" / "python-api.md"


def example() -> str:
    text = DOC.read_text()
    start = text.index("## A worked example")
    found = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert found is not None
    return found.group(1)


def test_the_worked_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(shop.wsgi_app) as current:
        tape = record(tmp_path / "tape", current)
    code = example()
    assert '"tapes/"' in code and '"http://127.0.0.1:8080"' in code
    code = code.replace('"tapes/"', repr(str(tape)))
    monkeypatch.chdir(tmp_path)
    with serve(shop.wsgi_app_v2) as changed, pytest.raises(SystemExit) as exited:
        code = code.replace('"http://127.0.0.1:8080"', repr(changed))
        exec(compile(code, str(DOC), "exec"), {})
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "GET /api/products/{id}: body_value at $.price: 20 -> 99 (e.g. exchange " in out
    assert "summary: reports/summary.md" in out
    report = orjson.loads((tmp_path / "reports" / "report.json").read_bytes())
    assert report["gate"]["passed"] is False
    assert (tmp_path / "shadowtape-runs" / "example" / "run.json").exists()
