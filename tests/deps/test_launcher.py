"""What `shadowtape deps` refuses before starting, and what mitmdump gets."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from shadowtape.commands import deps as command
from shadowtape.deps.launcher import prepare
from shadowtape.deps.mocks import load
from shadowtape.errors import ConfigError
from shadowtape.exchange import Exchange, Request, Response
from shadowtape.tape.writer import TapeWriter
from tests.servers import free_port


def _args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    port = free_port()
    return parser.parse_args(["--listen", f"127.0.0.1:{port}", "--tapes", str(tmp_path), *extra])


def test_mock_without_dependency_tapes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no recorded dependency calls"):
        prepare(_args(tmp_path, "--mode", "mock"))


def test_a_bad_mode_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid modes: record, mock, passthrough"):
        prepare(_args(tmp_path, "--mode", "replay"))


def test_record_runs_the_recorder_as_source_deps_name(tmp_path: Path) -> None:
    launch = prepare(
        _args(tmp_path, "--mode", "record", "--name", "shop", "--fault", "host=a,reset")
    )
    cmd = " ".join(launch.command(str(tmp_path / "stats.json")))
    assert "--mode regular" in cmd
    assert "shadowtape_source=deps:shop" in cmd
    assert "connection_strategy=lazy" in cmd
    assert f"confdir={tmp_path / '_deps' / 'mitmproxy'}" in cmd
    assert "shadowtape_deps_fault=host=a,reset" in cmd
    assert "REQUESTS_CA_BUNDLE=" in launch.banner()


def test_mock_reads_only_deps_sources(tmp_path: Path) -> None:
    with TapeWriter(tmp_path, source="deps:shop") as writer:
        writer.write(
            Exchange(
                request=Request("GET", "inventory.internal", "/items", port=8080),
                response=Response(200, body=b"[]"),
                source="deps:shop",
            )
        )
    with TapeWriter(tmp_path, source="web") as writer:
        writer.write(Exchange(request=Request("GET", "shop", "/"), response=Response(200)))
    recorded = load(str(tmp_path))
    assert [(r.host, r.port, r.path, r.response_body) for r in recorded] == [
        ("inventory.internal", 8080, "/items", b"[]")
    ]
    launch = prepare(_args(tmp_path, "--mode", "mock"))
    assert "answering from 1 recorded calls" in launch.banner()


def test_a_faults_file_is_passed_on_and_checked_when_present(tmp_path: Path) -> None:
    rules = tmp_path / "svc.faults.json"
    launch = prepare(_args(tmp_path, "--faults-file", str(rules)))
    cmd = launch.command(str(tmp_path / "stats.json"))
    assert f"shadowtape_deps_faults_file={rules}" in cmd
    rules.write_text('["host=a"]')
    with pytest.raises(ConfigError, match="no fault given"):
        prepare(_args(tmp_path, "--faults-file", str(rules)))
    with pytest.raises(ConfigError, match="its folder does not exist"):
        prepare(_args(tmp_path, "--faults-file", str(tmp_path / "nowhere" / "f.json")))
