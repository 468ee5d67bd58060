"""The --fault grammar: each kind, rate and paths, host with and without a port, and one
line naming what is valid for each mistake."""

from __future__ import annotations

import random

import pytest

from shadowtape.deps.faults import HOLD, FaultKind, choose, parse
from shadowtape.errors import ConfigError


def test_each_kind_parses() -> None:
    assert parse("host=inventory.internal,status=503").status == 503
    assert parse("host=a,timeout").seconds == HOLD
    assert parse("host=a,timeout=5s").seconds == 5
    assert parse("host=a,reset").kind is FaultKind.RESET
    delay = parse("host=a,delay=250ms,rate=50%,paths=/api/*|/v2/*")
    assert (delay.kind, delay.seconds, delay.rate, delay.paths) == (
        FaultKind.DELAY,
        0.25,
        0.5,
        ("/api/*", "/v2/*"),
    )


def test_host_and_port_tell_dependencies_apart() -> None:
    rule = parse("host=127.0.0.1:8443,status=503")
    assert rule.matches("127.0.0.1", 8443, "/")
    assert not rule.matches("127.0.0.1", 8080, "/")
    anyport = parse("host=*.internal,reset,paths=/api/*")
    assert anyport.matches("Inventory.internal", 80, "/api/items")
    assert not anyport.matches("inventory.internal", 80, "/health")


def test_rate_draws_per_call() -> None:
    rules = (parse("host=a,status=503,rate=0.5"),)
    draw = random.Random(7)
    hits = sum(choose(rules, "a", 80, "/", draw) is not None for _ in range(1000))
    assert 400 < hits < 600
    assert choose(rules, "b", 80, "/", draw) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("status=503", "host= is missing"),
        ("host=a", "no fault given"),
        ("host=a,status=503,reset", "exactly one fault"),
        ("host=a,status=999", "not an HTTP status"),
        ("host=a,delay", "delay needs a duration"),
        ("host=a,delay=soon", "not a duration"),
        ("host=a,reset,rate=2", "not a share"),
        ("host=a,reset,color=red", "no field 'color'"),
        ("host=a:99999,reset", "port must be"),
        ("host=a,reset=1", "reset takes no value"),
    ],
)
def test_a_mistake_is_one_line_naming_what_is_valid(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    message = str(caught.value)
    assert why in message
    assert "status=CODE, timeout[=DURATION], reset, delay=DURATION" in message
    assert "\n" not in message
