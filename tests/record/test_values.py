"""The Recorder's option values: what is accepted, and what a refusal tells the user.

The same functions run in the addon and in `shadowtape record`; the name a refusal
gives is the caller's (a flag or a mitmproxy option), so both are exercised here.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shadowtape.errors import ConfigError
from shadowtape.record.values import limits, selection

DEFAULTS: dict[str, Any] = {
    "shadowtape_sample": "1",
    "shadowtape_include_host": [],
    "shadowtape_exclude_host": [],
    "shadowtape_include_path": [],
    "shadowtape_exclude_path": [],
    "shadowtape_include_method": [],
    "shadowtape_exclude_method": [],
    "shadowtape_max_body": "1m",
    "shadowtape_rules": None,
    "shadowtape_roll_rows": 100_000,
    "shadowtape_roll_bytes": "128m",
    "shadowtape_roll_age": 60,
    "shadowtape_queue": 10_000,
    "shadowtape_log_interval": 10,
    "shadowtape_worker": "process",
    "shadowtape_compression": "zstd",
    "shadowtape_sanitize_budget": "250ms",
}


def _opts(**values: Any) -> SimpleNamespace:
    return SimpleNamespace(**(DEFAULTS | values))


def _flag(option: str) -> str:
    return "--" + option.removeprefix("shadowtape_").replace("_", "-")


def test_accepted_values_are_parsed() -> None:
    chosen = selection(
        _opts(
            shadowtape_sample="10%",
            shadowtape_include_path=["^/api/", "^/v2/"],
            shadowtape_include_method=[" get", "Post"],
        )
    )
    assert chosen.sample == pytest.approx(0.1)
    assert chosen.include_path is not None and chosen.include_path.search("/v2/x")
    assert chosen.include_method == {b"GET", b"POST"}
    parsed = limits(_opts(shadowtape_max_body="2k", shadowtape_roll_bytes="1g"))
    assert (parsed.max_body, parsed.roll_bytes) == (2048, 1 << 30)
    assert (parsed.worker, parsed.compression, parsed.rules) == ("process", "zstd", None)
    assert parsed.budget == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("text", "seconds"), [("250", 0.25), ("5ms", 0.005), (" 1.5s", 1.5), ("0.5 ms", 0.0005)]
)
def test_a_sanitize_budget_is_milliseconds_or_seconds(text: str, seconds: float) -> None:
    assert limits(_opts(shadowtape_sanitize_budget=text)).budget == pytest.approx(seconds)


BAD = [
    ("shadowtape_sample", "abc", "0.1 or 10%"),
    ("shadowtape_sample", "2", "(0, 1]"),
    ("shadowtape_sample", "0%", "(0, 1]"),
    ("shadowtape_include_path", ["["], "not a valid regex"),
    ("shadowtape_exclude_path", ["ok", "(x"], "not a valid regex"),
    ("shadowtape_max_body", "big", "k/m/g suffix"),
    ("shadowtape_roll_bytes", "0", "k/m/g suffix"),
    ("shadowtape_roll_rows", -1, "at least 1"),
    ("shadowtape_roll_age", 0, "seconds, at least 1"),
    ("shadowtape_queue", 0, "at least 1"),
    ("shadowtape_log_interval", 0, "seconds, at least 1"),
    ("shadowtape_worker", "fork", "process, thread"),
    ("shadowtape_compression", "zip", "zstd, snappy"),
    ("shadowtape_sanitize_budget", "0", "e.g. 250ms or 1.5s"),
    ("shadowtape_sanitize_budget", "fast", "milliseconds or a unit"),
    ("shadowtape_sanitize_budget", "2m", "milliseconds or a unit"),
]


@pytest.mark.parametrize(("option", "value", "accepted"), BAD)
def test_a_wrong_value_is_refused_naming_the_option_the_value_and_what_is_accepted(
    option: str, value: object, accepted: str
) -> None:
    shown = value[-1] if isinstance(value, list) else value
    for name, expected in ((lambda o: o, option), (_flag, _flag(option))):
        with pytest.raises(ConfigError) as refused:
            selection(_opts(**{option: value}), name)
            limits(_opts(**{option: value}), name)
        message = str(refused.value)
        assert message.startswith(f"{expected}: ")
        assert str(shown) in message and accepted in message
        assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[redact\nheaders = 1", "not valid TOML"),
        ('[redact]\nheaders = ["x"]\nnope = 1\n', "unknown key 'nope'"),
        ('[detectors]\nemail = "off"\n', "must be true or false"),
    ],
)
def test_a_rules_file_the_worker_could_not_use_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(text)
    with pytest.raises(ConfigError, match=f"^--rules: .*{problem}") as refused:
        limits(_opts(shadowtape_rules=str(rules)), _flag)
    assert str(rules) in str(refused.value)


def test_a_missing_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^shadowtape_rules: cannot read .*missing\.toml"):
        limits(_opts(shadowtape_rules=str(tmp_path / "missing.toml")))
