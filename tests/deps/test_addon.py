"""The deps proxy's addon without sockets: faults, mock answers, the 502 for an unmatched
call, and the calls log, with mitmproxy's taddons context and test flows."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import exceptions
    from mitmproxy.test import taddons, tflow

from shadowtape.deps.addon import UNMATCHED_HEADER, DepsProxy, DepsRecorder
from shadowtape.deps.calls import read
from shadowtape.deps.mocks import Recorded, dump


def _recorded(tmp_path: Path) -> str:
    path = str(tmp_path / "mocks.json")
    call = Recorded(
        id="r1",
        method="GET",
        host="address",
        port=22,
        path="/path",
        query="",
        body=b"",
        status=200,
        reason="OK",
        headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
        response_body=b'{"ok": true}',
    )
    dump([call], path)
    return path


def test_mock_answers_and_logs_the_match(tmp_path: Path) -> None:
    addon = DepsProxy()
    calls = tmp_path / "calls.jsonl"
    with taddons.context(addon) as tctx:
        tctx.configure(
            addon,
            shadowtape_deps_mode="mock",
            shadowtape_deps_mocks=_recorded(tmp_path),
            shadowtape_deps_calls=str(calls),
        )
        hit = tflow.tflow()
        hit.request.path = "/path"
        hit.request.content = b""
        asyncio.run(addon.request(hit))
        assert hit.response is not None
        assert hit.response.content == b'{"ok": true}'
        assert "content-encoding" not in hit.response.headers
        addon.response(hit)
        miss = tflow.tflow()
        miss.request.path = "/elsewhere?x=1"
        asyncio.run(addon.request(miss))
        assert miss.response is not None
        assert (miss.response.status_code, miss.response.headers[UNMATCHED_HEADER]) == (502, "1")
        addon.response(miss)
        addon.done()
    logged = read(str(calls))
    assert [(c["path"], c["match"], c["recorded_id"]) for c in logged] == [
        ("/path", "exact", "r1"),
        ("/elsewhere", "unmatched", None),
    ]
    assert logged[1]["query"] == "x=1"


def test_a_bad_fault_rule_is_refused() -> None:
    addon = DepsProxy()
    with taddons.context(addon) as tctx, pytest.raises(exceptions.OptionsError, match="no fault"):
        tctx.configure(addon, shadowtape_deps_fault=["host=a"])


def test_reset_kills_the_flow_and_a_status_fault_answers(tmp_path: Path) -> None:
    addon = DepsProxy()
    with taddons.context(addon) as tctx:
        tctx.configure(
            addon,
            shadowtape_deps_fault=["host=address:22,reset,paths=/reset", "host=address,status=503"],
        )
        reset = tflow.tflow()
        reset.request.path = "/reset"
        asyncio.run(addon.request(reset))
        assert reset.error is not None and reset.response is None
        status = tflow.tflow()
        asyncio.run(addon.request(status))
        assert status.response is not None and status.response.status_code == 503


def test_the_recorder_skips_faulted_and_mocked_calls() -> None:
    recorder = DepsRecorder()
    seen: list[object] = []
    recorder._record = seen.append  # type: ignore[method-assign]
    faulted = tflow.tflow(resp=True)
    faulted.metadata["shadowtape_fault"] = "host=a,status=503"
    mocked = tflow.tflow(resp=True)
    mocked.metadata["shadowtape_match"] = "exact"
    real = tflow.tflow(resp=True)
    for flow in (faulted, mocked, real):
        recorder.response(flow)
    assert seen == [real]
