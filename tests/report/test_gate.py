"""The gate: --fail-on words, defaults, and the exit code write_reports returns."""

from __future__ import annotations

import pytest

from shadowtape.errors import ConfigError
from shadowtape.report.gate import DEFAULT_FAIL_ON, evaluate, parse_fail_on
from shadowtape.report.model import Endpoint, Finding


def endpoint(name: str, *findings: tuple[str, str, int]) -> Endpoint:
    return Endpoint(
        endpoint=name,
        findings=tuple(Finding(kind=k, location=loc, count=n) for k, loc, n in findings),
    )


REPORT = [
    endpoint(
        "GET /a", ("status", "status", 3), ("body_value", "$.x", 2), ("body_missing", "$.y", 1)
    ),
    endpoint("GET /b", ("fixed_error", "status", 4)),
    endpoint("GET /c", ("latency", "latency:p95", 50)),
    endpoint("GET /d"),
]


def test_the_default_fails_on_errors_status_headers_body_and_latency() -> None:
    assert parse_fail_on(None) == DEFAULT_FAIL_ON
    gate = evaluate(REPORT, DEFAULT_FAIL_ON)
    assert gate.passed is False
    assert gate.reasons == (
        "GET /a: 3 status regressions (status)",
        "GET /a: 3 body differences ($.x, $.y)",
        "GET /c: latency regression at p95",
    )


def test_a_fixed_error_alone_passes_by_default_but_can_be_selected() -> None:
    assert evaluate([REPORT[1]], DEFAULT_FAIL_ON).passed is True
    assert evaluate([REPORT[1]], parse_fail_on("fixed_error")).passed is False


def test_words_kinds_all_and_none() -> None:
    assert parse_fail_on("status, body_value") == ("status", "body_value")
    only_value = evaluate(REPORT, parse_fail_on("body_value"))
    assert only_value.reasons == ("GET /a: 2 body_value findings ($.x)",)
    assert evaluate(REPORT, parse_fail_on("none")).passed is True
    assert parse_fail_on("none") == ()
    assert "fixed_error" not in parse_fail_on("all")
    assert evaluate(REPORT, parse_fail_on("headers")).passed is True


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_an_empty_fail_on_is_refused_not_a_gate_that_never_fails(value: str) -> None:
    # `--fail-on "$UNSET"` in CI would otherwise switch the gate off without a word.
    with pytest.raises(ConfigError, match="--fail-on is empty"):
        parse_fail_on(value)


def test_a_gate_that_compared_nothing_fails_unless_told_never_to() -> None:
    assert evaluate([endpoint("GET /d")], DEFAULT_FAIL_ON, compared=0).passed is False
    assert evaluate([endpoint("GET /d")], DEFAULT_FAIL_ON, compared=5).passed is True
    assert evaluate([endpoint("GET /d")], parse_fail_on("none"), compared=0).passed is True


def test_a_swallowed_error_counts_as_a_status_regression() -> None:
    gate = evaluate([endpoint("GET /f", ("swallowed_error", "status", 2))], parse_fail_on("status"))
    assert gate.passed is False


def test_unknown_words_list_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown kind 'statuz'; valid: new_error, status"):
        parse_fail_on("statuz")


def test_one_is_singular() -> None:
    gate = evaluate([endpoint("GET /e", ("new_error", "status", 1))], DEFAULT_FAIL_ON)
    assert gate.reasons == ("GET /e: 1 new error (status)",)


def test_max_unverified_counts_unverified_and_skipped_over_the_selection() -> None:
    from shadowtape.report.gate import parse_share
    from shadowtape.report.model import Ledger

    ledger = Ledger(selected=10, equal=7, unverified={"baseline_failed": 1}, skipped={"x": 2})
    assert evaluate([], (), ledger=ledger, max_unverified=0.3).passed is True
    failed = evaluate([], (), ledger=ledger, max_unverified=0.2)
    assert failed.passed is False and failed.max_unverified == 0.2
    assert parse_share("20%") == parse_share("0.2") == parse_share("20") == 0.2
    assert parse_share(None) is None
    with pytest.raises(ConfigError, match="--max-unverified"):
        parse_share("150%")
