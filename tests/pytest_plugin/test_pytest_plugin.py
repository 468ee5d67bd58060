"""The plugin, run with pytester against the shop: in-process ASGI and WSGI apps, a
changed build, an endpoint that cannot be verified, a live server, the fixture."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

pytest_plugins = ["pytester"]

APP = "tests.pytest_plugin.shop:app"
PRODUCTS = "GET /api/products/{id}"


def run(pytester: pytest.Pytester, tape: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-rs", "-v", "--shadowtape", str(tape), *args)


def run_app(pytester: pytest.Pytester, tape: Path, *args: str, app: str = APP) -> pytest.RunResult:
    """``run`` with an in-process app as the candidate (the shop's unless given)."""
    return run(pytester, tape, "--shadowtape-app", app, *args)


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Item name -> PASSED / FAILED / SKIPPED, from -v output."""
    found = re.findall(
        r"^(?:\S*/)?shadowtape::(.+?) (PASSED|FAILED|SKIPPED)", result.stdout.str(), re.M
    )
    return dict(found)


@pytest.mark.parametrize("app", [APP, "tests.pytest_plugin.shop:wsgi_app"])
def test_an_app_replayed_against_its_own_recording_passes(
    pytester: pytest.Pytester, shop_tape: Path, app: str
) -> None:
    result = run_app(pytester, shop_tape, app=app)
    assert outcomes(result) == {
        PRODUCTS: "PASSED",
        "GET /api/health": "PASSED",
        "POST /api/orders": "SKIPPED",
    }
    result.assert_outcomes(passed=2, skipped=1)


def test_the_headers_a_server_adds_are_never_compared_with_an_app(
    pytester: pytest.Pytester, shop_tape: Path, shop_server: str
) -> None:
    """Asked to compare Date and Server, an in-process app still passes: it has no server
    to add them. A live server is compared on them (its Date is then a volatile value)."""
    compare = ("--shadowtape-compare-header", "date", "--shadowtape-compare-header", "server")
    result = run_app(pytester, shop_tape, *compare, "--shadowtape-out", "a")
    result.assert_outcomes(passed=2, skipped=1)
    settings = orjson.loads((pytester.path / "a" / "report.json").read_bytes())["settings"]
    assert settings["compared_headers"] == []
    assert {"date", "server", "connection", "transfer-encoding", "keep-alive"} <= set(
        settings["ignored_headers"]
    )
    live = run(
        pytester,
        shop_tape,
        "--shadowtape-candidate",
        shop_server,
        *compare,
        "--shadowtape-out",
        "b",
    )
    report = orjson.loads((pytester.path / "b" / "report.json").read_bytes())
    assert report["settings"]["compared_headers"] == ["date", "server"]
    health = next(e for e in report["endpoints"] if e["endpoint"] == "GET /api/health")
    assert "header:date" in {u["location"] for u in health["unverified"]}
    live.assert_outcomes(passed=2, skipped=1)


def test_a_changed_app_fails_the_endpoint_with_its_finding(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(pytester, shop_tape, app="tests.pytest_plugin.shop:app_v2")
    assert outcomes(result)[PRODUCTS] == "FAILED"
    assert outcomes(result)["GET /api/health"] == "PASSED"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    failure = text[text.index(f"shadowtape: {PRODUCTS} _") :]
    assert "$.price" in failure and "20" in failure and "99" in failure
    example = re.search(r"e\.g\. exchange (\w+): GET /api/products/2 \(and 1 more\)", failure)
    assert example is not None
    report = orjson.loads(next(pytester.path.glob("shadowtape-runs/*/report.json")).read_bytes())
    ids = {i for e in report["endpoints"] for f in e["findings"] for i in f["exchange_ids"]}
    assert example.group(1) in ids


def test_an_unverifiable_endpoint_is_skipped_with_the_reason(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(pytester, shop_tape)
    result.stdout.fnmatch_lines(["SKIPPED*POST /api/orders*--shadowtape-allow-mutating*"])
    sent = run_app(
        pytester,
        shop_tape,
        "--shadowtape-allow-mutating",
        "--shadowtape-out",
        "sent",
    )
    assert outcomes(sent)["POST /api/orders"] == "PASSED"


def test_a_live_candidate_by_url(
    pytester: pytest.Pytester, shop_tape: Path, shop_server: str
) -> None:
    result = run(pytester, shop_tape, "--shadowtape-candidate", shop_server)
    result.assert_outcomes(passed=2, skipped=1)


def test_a_live_baseline_app_beside_the_candidate(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(
        pytester,
        shop_tape,
        "--shadowtape-baseline-app",
        APP,
        "--shadowtape-fail-on",
        "body",
        app="tests.pytest_plugin.shop:wsgi_app_v2",
    )
    assert outcomes(result)[PRODUCTS] == "FAILED"
    assert outcomes(result)["GET /api/health"] == "PASSED"


def test_selection_and_report_flags(pytester: pytest.Pytester, shop_tape: Path) -> None:
    result = run_app(
        pytester,
        shop_tape,
        "--shadowtape-path",
        "/api/health",
        "--shadowtape-out",
        "runs/one",
    )
    assert outcomes(result) == {"GET /api/health": "PASSED"}
    out = pytester.path / "runs" / "one"
    assert {p.name for p in out.iterdir()} >= {
        "run.json",
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
    }
    result.stdout.fnmatch_lines(["*shadowtape*", f"reports in {Path('runs/one')}"])


def test_a_bad_flag_value_is_a_usage_error_in_the_plugin_s_words(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(pytester, shop_tape, "--shadowtape-limit", "many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--shadowtape-limit*many*"])
    neither = run(pytester, shop_tape)
    assert neither.ret == pytest.ExitCode.USAGE_ERROR
    neither.stderr.fnmatch_lines(["*--shadowtape-app*--shadowtape-candidate*"])


def test_a_selection_that_matches_nothing_fails_the_whole_run(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(pytester, shop_tape, "--shadowtape-method", "PATCH")
    assert outcomes(result) == {"whole run": "FAILED"}
    result.stdout.fnmatch_lines(["*nothing was compared*"])


def test_the_replay_flags_reach_the_replay(pytester: pytest.Pytester, shop_tape: Path) -> None:
    """--shadowtape-ordering and --shadowtape-abort-after are the replay's, not only parsed."""
    run_app(
        pytester,
        shop_tape,
        "--shadowtape-ordering",
        "strict",
        "--shadowtape-abort-after",
        "7",
        "--shadowtape-out",
        "runs/flags",
    )
    settings = orjson.loads((pytester.path / "runs" / "flags" / "run.json").read_bytes())
    assert settings["settings"]["ordering"] == "strict"


def test_max_unverified_fails_the_whole_run_when_too_little_was_verified(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    # Without --shadowtape-allow-mutating the POSTs are skipped: not verified.
    result = run_app(pytester, shop_tape, "--shadowtape-max-unverified", "0%")
    assert outcomes(result)["whole run"] == "FAILED"
    result.stdout.fnmatch_lines(["*were not verified (unverified or skipped)*"])


def test_the_fixture_gives_the_run_to_custom_assertions(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    pytester.makepyfile(
        test_contract="""
        def test_every_product_answered(shadowtape_replay):
            report = shadowtape_replay.report
            products = [e for e in report.endpoints if e.route == "/api/products/{id}"]
            assert products[0].compared == 8
            assert (shadowtape_replay.run_dir / "report.json").exists()
        """
    )
    result = run_app(pytester, shop_tape)
    result.assert_outcomes(passed=3, skipped=1)


def test_without_shadowtape_the_plugin_does_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_nothing_heavy_was_imported():
            assert "pyarrow" not in sys.modules

        def test_the_fixture_skips(shadowtape_replay):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*--shadowtape TAPES*"])


def test_the_flags_are_those_of_shadowtape_replay() -> None:
    """Every flag of `shadowtape replay` has a --shadowtape- form, or is the plugin's own."""
    import argparse

    from shadowtape import pytest_replay
    from shadowtape.commands import replay as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    flags = {
        s.removeprefix("--") for a in parser._actions for s in a.option_strings if s != "-h"
    } - {"help"}
    offered = {*pytest_replay.VALUE_FLAGS, *pytest_replay.SWITCH_FLAGS, *pytest_replay.OWN_FLAGS}
    assert flags == offered


def test_the_concurrency_probe_runs_on_an_in_process_app(
    pytester: pytest.Pytester, shop_tape: Path
) -> None:
    result = run_app(
        pytester,
        shop_tape,
        "--shadowtape-probe",
        "concurrency",
        "--shadowtape-probe-concurrency",
        "4",
        "--shadowtape-out",
        "probed",
    )
    result.assert_outcomes(passed=2, skipped=1)
    report = orjson.loads((pytester.path / "probed" / "report.json").read_bytes())
    (probe,) = report["probes"]
    assert probe["findings"] == [] and probe["sent"]["candidate"] > 0
    assert "race" in report["gate"]["fail_on"]
