"""The report built from the analysis of real responses: the trio called with httpx, results
written in the replayer's format, in live (with a secondary) and recorded-baseline modes.
The report is checked as report.json holds it (``Report.to_json``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape.errors import RunFolderError
from shadowtape.report import make_report, write_reports
from tests.trio.expect import by_endpoint, check_report
from tests.trio.results import run_live, run_recorded
from tests.trio.service import traffic, trio


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Path]]]:
    root = tmp_path_factory.mktemp("runs")
    with trio() as t:
        yield {
            "live": run_live(t, root / "live", traffic(), shards=2),
            "recorded": run_recorded(t, root / "recorded", traffic()),
        }


def test_live_mode_finds_every_planted_difference_and_no_noise(runs: dict[str, list[Path]]) -> None:
    report = make_report(runs["live"]).to_json()
    check_report(report, live=True)
    assert len(report["runs"]) == 2  # both shards merged
    assert report["totals"]["exchanges"] == len(traffic())
    search = by_endpoint(report)["GET /api/search"]
    assert search["latency"]["comparable"] is True
    assert search["latency"]["candidate"]["p50"] > search["latency"]["baseline"]["p50"] + 30


def test_recorded_mode_learns_noise_from_repeats_and_identical_requests(
    runs: dict[str, list[Path]],
) -> None:
    report = make_report(runs["recorded"]).to_json()
    check_report(report, live=False)
    account = by_endpoint(report)["GET /api/account/{id}"]
    redacted = [u for u in account["unverified"] if u["reason"] == "redacted"]
    assert [(u["location"], u["count"]) for u in redacted] == [
        ("$.owner_email", account["compared"])
    ]
    assert all(
        e["latency"] is None or e["latency"]["comparable"] is False for e in report["endpoints"]
    )


def test_gate_and_report_file(runs: dict[str, list[Path]], tmp_path: Path) -> None:
    assert write_reports(runs["live"], out_dir=tmp_path, formats=("json",)) == 1
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["report_version"] == "1.3" and report["gate"]["passed"] is False
    assert "GET /api/orders/{id}: 12 new errors (status)" in report["gate"]["reasons"]
    assert write_reports(runs["live"], out_dir=tmp_path, fail_on="none", formats=("json",)) == 0
    assert (
        write_reports(runs["recorded"], out_dir=tmp_path, fail_on="latency", formats=("json",)) == 0
    )


def test_openapi_operations_never_exercised_are_listed(
    runs: dict[str, list[Path]], tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_bytes(
        orjson.dumps(
            {
                "openapi": "3.0.0",
                "paths": {
                    "/api/users/{userId}/greeting": {"get": {}},
                    "/api/admin/purge": {"post": {}},
                },
            }
        )
    )
    report = make_report(runs["recorded"], openapi=spec).to_json()
    endpoints = by_endpoint(report)
    assert endpoints["GET /api/users/{userId}/greeting"]["verdict"] == "regression"
    purge = endpoints["POST /api/admin/purge"]
    assert purge["verdict"] == "unverified" and purge["unverified"][0]["reason"] == "not_exercised"


def shadowtape(*args: str) -> subprocess.CompletedProcess[str]:
    # A real process: the command as users run it (exit code, one line on stderr).
    return subprocess.run(
        [sys.executable, "-m", "shadowtape", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_exit_codes(runs: dict[str, list[Path]], tmp_path: Path) -> None:
    dirs = [str(d) for d in runs["live"]]
    passed = shadowtape("report", *dirs, "--out", str(tmp_path / "a"), "--fail-on", "none")
    assert passed.returncode == 0, passed.stderr
    assert (tmp_path / "a" / "report.json").exists()
    assert shadowtape("report", *dirs, "--out", str(tmp_path / "b")).returncode == 1
    bad = shadowtape("report", *dirs, "--fail-on", "bogus")
    assert bad.returncode == 2 and "unknown kind 'bogus'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    missing = shadowtape("report", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such run folder" in missing.stderr
    negative = shadowtape("report", *dirs, "--tolerance", "-1")
    assert negative.returncode == 2 and "--tolerance must not be negative" in negative.stderr
    ratio = shadowtape("report", *dirs, "--latency-ratio", "0")
    assert ratio.returncode == 2 and "--latency-ratio must be 1 or more" in ratio.stderr


def test_config_file_sets_the_report_flags(runs: dict[str, list[Path]], tmp_path: Path) -> None:
    config = tmp_path / "shadowtape.toml"
    config.write_text('[report]\nfail-on = "headers"\nignore-header = ["cache-control"]\n')
    dirs = [str(d) for d in runs["recorded"]]
    done = shadowtape("--config", str(config), "report", *dirs, "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    report = orjson.loads((tmp_path / "r" / "report.json").read_bytes())
    assert report["gate"]["fail_on"] == ["headers"]
    assert "cache-control" in report["settings"]["ignored_headers"]


def test_results_from_a_newer_shadowtape_are_refused(
    runs: dict[str, list[Path]], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    (run / "results").mkdir(parents=True)
    source = runs["recorded"][0]
    (run / "run.json").write_bytes((source / "run.json").read_bytes())
    table = pq.read_table(source / "results" / "part-00000.parquet")
    table = table.replace_schema_metadata({b"shadowtape.results_version": b"2.0"})
    pq.write_table(table, run / "results" / "part-00000.parquet")
    with pytest.raises(RunFolderError, match="newer than this shadowtape reads"):
        make_report([run])
    with pytest.raises(RunFolderError, match="not a run folder"):
        make_report([tmp_path])


def _finding_kinds(report: dict[str, Any]) -> set[str]:
    return {f["kind"] for e in report["endpoints"] for f in e["findings"]}


def test_numeric_tolerance_and_header_options(runs: dict[str, list[Path]]) -> None:
    from shadowtape.diff import AnalysisSettings, DiffSettings, HeaderPolicy

    settings = AnalysisSettings(
        diff=DiffSettings(headers=HeaderPolicy().with_changes(ignore=["cache-control"]))
    )
    report = make_report(runs["recorded"], settings=settings).to_json()
    assert by_endpoint(report)["GET /api/cache/{id}"]["verdict"] == "ok"
    assert "header" not in _finding_kinds(report)


def test_without_noise_measurements_volatile_values_are_unverified_not_regressions(
    tmp_path: Path,
) -> None:
    with trio() as t:
        # No repeats, and only the first request of each kind: nothing to learn noise from.
        once = [(m, p) for m, p in traffic(1) if "/7" in p or p == "/api/clock"][:16]
        dirs = run_recorded(t, tmp_path / "run", once, repeat_every=10**6)
    greeting = by_endpoint(make_report(dirs).to_json())["GET /api/users/{id}/greeting"]
    flagged = {f["location"] for f in greeting["findings"]}
    assert "$.greeting" in flagged
    assert not flagged & {"$.generated_at", "$.request_id", "$.token", "header:x-nonce"}
    volatile = {u["location"] for u in greeting["unverified"] if u["reason"] == "volatile_value"}
    assert {"$.generated_at", "$.request_id", "$.token", "header:x-nonce"} <= volatile
    assert any(
        u["reason"] == "too_few_samples" and u["location"] == "noise"
        for u in greeting["unverified"]
    )


def test_missing_renderers_are_skipped(runs: dict[str, list[Path]], tmp_path: Path) -> None:
    from shadowtape.report import _renderer

    assert _renderer("no_such_format") is None
    code = write_reports(runs["recorded"], out_dir=tmp_path, formats=("json", "no_such_format"))
    assert code == 1 and (tmp_path / "report.json").exists()


def _copy_run(source: Path, target: Path, **changes: Any) -> Path:
    shutil.copytree(source, target)
    info = orjson.loads((target / "run.json").read_bytes())
    info.update(changes)
    (target / "run.json").write_bytes(orjson.dumps(info))
    return target


def test_partial_runs_are_refused_unless_allowed(
    runs: dict[str, list[Path]], tmp_path: Path
) -> None:
    """A killed or failed replay, lost parts, a run given twice or a missing shard would
    otherwise read as a smaller run, and a gate that passes on what is left."""
    whole = runs["recorded"][0]
    killed = _copy_run(whole, tmp_path / "killed", finished_at=None)
    failed = _copy_run(whole, tmp_path / "failed", error="cannot write results: disk full")
    stopped = _copy_run(whole, tmp_path / "stopped", interrupted=True)
    lost = _copy_run(whole, tmp_path / "lost")
    shutil.rmtree(lost / "results")
    shard1, shard2 = (str(d) for d in runs["live"])
    cases = {
        "did not finish": [str(killed)],
        "failed: cannot write results: disk full": [str(failed)],
        "was stopped (Ctrl-C or SIGTERM) before its selection ended": [str(stopped)],
        "has 0 result rows where its run.json counts": [str(lost)],
        "(given twice)": [shard1, shard1, shard2],
        "shard 2/2 of the replay is missing": [shard1],
        # Two whole replays of one tape are not shards: every exchange would count twice.
        "is a whole replay, not a shard": [
            str(whole),
            str(_copy_run(whole, tmp_path / "again", run_id="other")),
        ],
    }
    for said, dirs in cases.items():
        done = shadowtape("report", *dirs, "--out", str(tmp_path / "r"), "--fail-on", "none")
        assert done.returncode == 2, (said, done.stderr)
        assert said in done.stderr and "--allow-partial" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "r" / "report.json").exists()
    done = shadowtape("report", shard1, "--out", str(tmp_path / "r"), "--allow-partial")
    assert done.returncode == 1, done.stderr  # the shard's own regressions still fail it
    report = orjson.loads((tmp_path / "r" / "report.json").read_bytes())
    assert report["incomplete"] == ["shard 2/2 of the replay is missing"]
    summary = (tmp_path / "r" / "summary.md").read_text()
    assert "Partial results: shard 2/2 of the replay is missing." in summary
    junit = ET.parse(tmp_path / "r" / "junit.xml").getroot()  # what a CI test tab shows
    assert "Partial results: shard 2/2" in (junit.findtext(".//testsuite/system-err") or "")
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["shadowtape.incomplete.1"] == "shard 2/2 of the replay is missing"
    assert make_report(runs["live"]).to_json()["incomplete"] == []
    # Allowed, a run given twice is still read once: a partial picture, not a doubled one.
    twice = make_report([*runs["live"], runs["live"][0]], allow_partial=True).to_json()
    assert (
        twice["totals"]["exchanges"] == make_report(runs["live"]).to_json()["totals"]["exchanges"]
    )
    assert any("(given twice)" in problem for problem in twice["incomplete"])


def test_a_foreign_parquet_file_in_results_is_named(
    runs: dict[str, list[Path]], tmp_path: Path
) -> None:
    run = _copy_run(runs["recorded"][0], tmp_path / "run")
    pq.write_table(pa.table({"a": [1, 2]}), run / "results" / "part-zz.parquet")
    done = shadowtape("report", str(run))
    assert done.returncode == 2
    assert "part-zz.parquet: not a shadowtape results file (no column" in done.stderr


def test_the_ledger_adds_up_on_the_trio(runs: dict[str, list[Path]]) -> None:
    from tests.report.test_ledger import check_adds_up

    for mode in ("live", "recorded"):
        report = make_report(runs[mode])
        check_adds_up(report)
        assert report.ledger is not None and report.ledger.regressed > 0
