"""The report's Python API: analyze a run folder into a Report, write it in the chosen
formats, and print nothing (the terminal summary goes only to a console one gives)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import shadowtape
from shadowtape.errors import ConfigError
from shadowtape.report import FILE_FORMATS, write_reports
from tests.pytest_plugin import shop
from tests.pytest_plugin.recording import record, serve


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop's tape replayed in-process against its changed build."""
    root = tmp_path_factory.mktemp("api")
    with serve(shop.wsgi_app) as url:
        tape = record(root / "tape", url)
    return shadowtape.replay(
        tape, candidate=shop.app_v2, pace="asap", out=root / "run", handle_signals=False
    )


def test_analyze_gives_the_typed_report(run_dir: Path) -> None:
    report = shadowtape.analyze(run_dir)
    assert isinstance(report, shadowtape.Report)
    assert not report.gate.passed
    [products] = report.by_verdict("regression")
    assert products.endpoint == "GET /api/products/{id}"
    assert [(f.location, f.baseline, f.candidate) for f in products.findings] == [
        ("$.price", 20, 99)
    ]
    assert shadowtape.analyze([run_dir], fail_on="none").gate.passed
    assert report.runs[0].candidate == "http://testserver"


def test_write_in_chosen_formats(run_dir: Path, tmp_path: Path) -> None:
    report = shadowtape.analyze(run_dir)
    written = report.write(tmp_path / "out", formats=("json", "summary"))
    assert written == {
        "json": tmp_path / "out" / "report.json",
        "markdown": tmp_path / "out" / "summary.md",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "summary.md"]
    every = report.write(tmp_path / "all")
    assert list(every) == list(FILE_FORMATS)
    assert {p.name for p in every.values()} == {
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
    }
    with pytest.raises(ConfigError, match="'pdf' is not a file format; valid: json, html"):
        report.write(tmp_path / "pdf", formats=("pdf",))


def test_write_reports_prints_only_into_a_console_it_is_given(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write_reports([run_dir], out_dir=tmp_path) == 1
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "summary.md").exists()
    out = io.StringIO()
    write_reports([run_dir], out_dir=tmp_path, console=Console(file=out, width=100))
    assert "GET /api/products/{id}" in out.getvalue()
    assert capsys.readouterr() == ("", "")
