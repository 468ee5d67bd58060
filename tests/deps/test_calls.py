"""The calls log: one JSON line per call, readable while the proxy runs."""

from __future__ import annotations

from pathlib import Path

from shadowtape.deps.calls import Call, CallsLog, read, stamp


def test_each_call_is_one_flushed_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    log = CallsLog(str(path))
    call = Call(
        time=stamp(0),
        name="svc",
        mode="mock",
        method="POST",
        scheme="https",
        host="payments.internal",
        port=443,
        path="/charges",
        query="",
        status=201,
        error=None,
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        match="exact",
        fault=None,
        recorded_id="01H",
        duration_ms=1.5,
    )
    log.write(call)
    assert read(str(path))[0]["traceparent"] == call.traceparent
    with path.open("a") as handle:
        handle.write('{"cut short')
    log.close()
    assert len(read(str(path))) == 1
    assert read(str(path))[0]["time"] == "1970-01-01T00:00:00.000000+00:00"
