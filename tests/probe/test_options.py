"""The probe names and options, checked before a replay starts."""

from __future__ import annotations

import pytest

from shadowtape.commands import replay as command
from shadowtape.errors import ConfigError
from shadowtape.probe.options import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SAMPLE,
    Probe,
    ProbeOptions,
    parse_probes,
)


def test_probe_names_are_comma_lists_or_repeated() -> None:
    assert parse_probes(["concurrency", "concurrency,"]) == (Probe.CONCURRENCY,)
    assert parse_probes(None) == parse_probes([]) == ()


def test_an_unknown_probe_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown probe 'scale'; valid: concurrency"):
        parse_probes("concurrency,scale")


def test_the_commands_defaults_are_the_probes() -> None:
    assert (command.PROBE_SAMPLE, command.PROBE_CONCURRENCY) == (
        DEFAULT_SAMPLE,
        DEFAULT_CONCURRENCY,
    )


@pytest.mark.parametrize(("sample", "concurrency"), [(1, 16), (20, 1)])
def test_a_probe_that_could_not_overlap_is_refused(sample: int, concurrency: int) -> None:
    with pytest.raises(ConfigError):
        ProbeOptions(
            probes=(Probe.CONCURRENCY,),
            candidate="http://127.0.0.1:1",
            sample=sample,
            concurrency=concurrency,
        )


def test_a_recorded_baseline_is_never_sent_to() -> None:
    options = ProbeOptions(probes=(Probe.CONCURRENCY,), candidate="http://127.0.0.1:1")
    assert options.targets == {"candidate": "http://127.0.0.1:1"}
    live = ProbeOptions(
        probes=(Probe.CONCURRENCY,), candidate="http://127.0.0.1:1", baseline="http://127.0.0.1:2"
    )
    assert live.targets == {"candidate": "http://127.0.0.1:1", "baseline": "http://127.0.0.1:2"}


def test_the_shapes_cap_defaults_as_the_command_and_is_at_least_one() -> None:
    from shadowtape.probe.options import DEFAULT_SHAPES

    assert parse_probes("shapes") == (Probe.SHAPES,)
    assert command.PROBE_SHAPES == DEFAULT_SHAPES
    with pytest.raises(ConfigError, match="--probe-shapes 0"):
        ProbeOptions(probes=(Probe.SHAPES,), candidate="http://127.0.0.1:1", shapes=0)
