"""The Recorder addon without sockets: mitmproxy's taddons context and test flows.

Each test that records goes through the real pipeline (sanitizer, TapeWriter, Parquet on
disk) and reads the tape back; most use the in-process worker thread to stay fast, one
uses the worker process to prove a dead worker is counted and replaced.
"""

from __future__ import annotations

import gzip
import os
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
import zstandard

with warnings.catch_warnings():
    # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import exceptions, flow, http
    from mitmproxy.test import taddons, tflow, tutils

from shadowtape.exchange import ErrorKind, Exchange
from shadowtape.recorder import Recorder
from shadowtape.recorder_capture import capture, decode_body, error_kind, to_exchange
from shadowtape.recorder_worker import Handoff, Settings
from shadowtape.tape import TapeReader, TapeWriter

SECRET = "Bearer s3cr3t-t0ken-value"


def _flow(
    *,
    path: str = "/api/items?page=2",
    method: str = "GET",
    body: bytes = b'{"ok": true}',
    encoding: str | None = None,
    status: int = 200,
) -> http.HTTPFlow:
    f = tflow.tflow(
        req=tutils.treq(method=method.encode(), path=path.encode(), host="api.example.com"),
        resp=True,
    )
    f.request.headers["Authorization"] = SECRET
    assert f.response is not None
    f.response.status_code = status
    f.response.headers["Content-Type"] = "application/json"
    f.response.content = body
    if encoding:
        f.response.encode(encoding)
    return f


def _read(tapes: Path) -> list[Exchange]:
    return list(TapeReader(tapes).exchanges())


@pytest.fixture
def recorder_in(tmp_path: Path) -> Iterator[Callable[..., tuple[Recorder, Any]]]:
    """A Recorder configured in a taddons context; done() is always called."""
    made: list[tuple[Recorder, Any]] = []

    def make(**options: Any) -> tuple[Recorder, Any]:
        recorder = Recorder(writer_factory=options.pop("writer_factory", None))
        tctx = taddons.context(recorder)
        tctx.__enter__()
        settings = {
            "shadowtape_tapes": str(tmp_path / "tapes"),
            "shadowtape_worker": "thread",
            "shadowtape_roll_age": 60,
        }
        settings.update(options)
        tctx.configure(recorder, **settings)
        made.append((recorder, tctx))
        return recorder, tctx

    yield make
    for recorder, tctx in made:
        recorder.done()
        tctx.__exit__(None, None, None)


# -- flow -> Exchange -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_bodies_are_stored_decoded_with_their_content_encoding_header_kept(
    encoding: str,
) -> None:
    body = b'{"items": [' + b'{"id": 1}, ' * 200 + b"{}]}"
    f = _flow(body=body, encoding=encoding)
    assert f.response is not None and f.response.raw_content != body
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert ex.response.body == body
    assert ex.response.body_size == len(body)
    assert ex.response.header("content-encoding") == encoding


def test_a_body_longer_than_max_body_is_cut_and_flagged_with_its_full_size() -> None:
    body = b"x" * 5000
    f = _flow(body=body, encoding="gzip")
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1000)
    assert ex.response is not None
    assert ex.response.body == b"x" * 1000
    assert ex.response.body_truncated
    assert ex.response.body_size == 5000


def test_a_huge_compressed_body_cut_in_the_hook_still_decodes_its_prefix() -> None:
    body = os.urandom(300_000).hex().encode()  # 600 KB of text, compressible
    f = _flow(body=body, encoding="gzip")
    assert f.response is not None
    raw_size = len(f.response.raw_content or b"")
    captured = capture(f, raw_cap=50_000)
    assert captured.response_raw is not None and len(captured.response_raw) == 50_000
    ex = to_exchange(captured, source="s", max_body=20_000)
    assert ex.response is not None
    assert ex.response.body == body[:20_000]
    assert ex.response.body_truncated
    assert ex.response.body_size >= raw_size


@pytest.mark.parametrize(
    ("encode", "name"),
    [
        (gzip.compress, "gzip"),
        (zlib.compress, "deflate"),
        (brotli.compress, "br"),
        (zstandard.ZstdCompressor().compress, "zstd"),
    ],
)
def test_decode_body_handles_every_encoding(encode: Callable[[bytes], bytes], name: str) -> None:
    assert decode_body(encode(b"hello"), 5, ((b"Content-Encoding", name.encode()),), 10) == (
        b"hello",
        5,
        False,
    )


def test_a_body_that_does_not_decode_is_kept_as_it_came() -> None:
    assert decode_body(b"not gzip", 8, ((b"content-encoding", b"gzip"),), 100) == (
        b"not gzip",
        8,
        False,
    )


def test_a_streamed_body_is_recorded_empty_and_truncated() -> None:
    f = _flow()
    assert f.response is not None
    f.response.stream = True
    f.response.raw_content = None
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert ex.response.body == b""
    assert ex.response.body_truncated


def test_timing_comes_from_the_flow_timestamps() -> None:
    f = _flow()
    assert f.response is not None
    f.request.timestamp_start = 1_700_000_000.0
    f.response.timestamp_start = 1_700_000_000.25
    f.response.timestamp_end = 1_700_000_000.5
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.ttfb_us == 250_000
    assert ex.duration_us == 500_000
    assert ex.recorded_at.timestamp() == 1_700_000_000.0
    assert ex.request.path == "/api/items"
    assert ex.request.query == "page=2"
    assert ex.request.host == "api.example.com"


def test_an_error_flow_becomes_an_exchange_with_an_error_kind_and_duration() -> None:
    f = tflow.tflow(err=flow.Error("[Errno 111] Connect call failed ('127.0.0.1', 9)"))
    assert f.error is not None
    f.request.timestamp_start = 100.0
    f.error.timestamp = 100.5
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is None
    assert ex.error is not None and ex.error.kind is ErrorKind.REFUSED
    assert ex.duration_us == 500_000


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("[Errno 111] Connect call failed ('127.0.0.1', 9)", ErrorKind.REFUSED),
        ("Connection refused", ErrorKind.REFUSED),
        ("Server disconnected.", ErrorKind.RESET),
        ("server closed connection", ErrorKind.RESET),
        ("[Errno 104] Connection reset by peer", ErrorKind.RESET),
        ("Connection killed.", ErrorKind.RESET),
        ("TimeoutError: timed out", ErrorKind.TIMEOUT),
        ("Server TLS handshake failed. certificate verify failed", ErrorKind.TLS),
        ("Cannot parse HTTP response: bad status line", ErrorKind.PROTOCOL),
        ("HTTP/2 protocol error: invalid header", ErrorKind.PROTOCOL),
        ("something else entirely", ErrorKind.OTHER),
    ],
)
def test_error_messages_map_to_error_kinds(message: str, kind: ErrorKind) -> None:
    assert error_kind(message) is kind


def test_a_websocket_upgrade_is_recorded_as_its_101_exchange() -> None:
    f = tflow.twebsocketflow()
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None and ex.response.status == 101
    assert ex.request.path == "/ws"


def test_http2_flows_are_recorded_like_any_other() -> None:
    f = _flow()
    f.request.http_version = "HTTP/2.0"
    assert f.response is not None
    f.response.http_version = "HTTP/2.0"
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.request.http_version == "HTTP/2.0"
    assert ex.response is not None and ex.response.http_version == "HTTP/2.0"


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("shadowtape_sample", "0"),
        ("shadowtape_sample", "1.5"),
        ("shadowtape_sample", "lots"),
        ("shadowtape_max_body", "big"),
        ("shadowtape_max_body", "0"),
        ("shadowtape_roll_bytes", "-1"),
        ("shadowtape_roll_age", 0),
        ("shadowtape_queue", 0),
        ("shadowtape_include_path", ["(unclosed"]),
        ("shadowtape_rules", "/nonexistent/rules.toml"),
        ("shadowtape_worker", "fork"),
        ("shadowtape_compression", "zip"),
        ("shadowtape_log_interval", 0),
    ],
)
def test_bad_option_values_are_refused_with_options_error(
    option: str, value: object, tmp_path: Path
) -> None:
    recorder = Recorder()
    with taddons.context(recorder) as tctx:
        with pytest.raises(exceptions.OptionsError, match=option):
            tctx.configure(recorder, **{option: value})
        recorder.done()


def test_a_tape_location_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    recorder = Recorder()
    with taddons.context(recorder) as tctx:
        with pytest.raises(exceptions.OptionsError, match="is a file"):
            tctx.configure(recorder, shadowtape_tapes=str(file))
        recorder.done()


def test_a_misspelt_recorder_option_is_refused_not_ignored() -> None:
    recorder = Recorder()
    with taddons.context(recorder) as tctx:
        tctx.options.set("shadowtape_sampel=0.1", defer=True)  # as --set leaves it
        with pytest.raises(exceptions.OptionsError, match="did you mean shadowtape_sample"):
            tctx.configure(recorder, shadowtape_source="s")
        recorder.done()


def test_without_tapes_the_addon_is_passive() -> None:
    recorder = Recorder()
    with taddons.context(recorder):
        assert recorder.handoff is None
        recorder.response(_flow())
        assert recorder.stats.seen == 0
        recorder.done()


def test_only_worker_options_rebuild_the_worker(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, tctx = recorder_in()
    first = recorder.handoff
    tctx.configure(recorder, shadowtape_exclude_method=["OPTIONS"])
    assert recorder.handoff is first
    tctx.configure(recorder, shadowtape_max_body="2k")
    assert recorder.handoff is not first and recorder.handoff is not None


# -- recording through the pipeline --------------------------------------------------------


def test_flows_are_written_sanitized_and_counted(
    recorder_in: Callable[..., tuple[Recorder, Any]], tmp_path: Path
) -> None:
    recorder, _ = recorder_in(shadowtape_source="checkout")
    for _ in range(5):
        recorder.response(_flow(encoding="gzip"))
    recorder.error(tflow.tflow(err=True))
    recorder.done()
    stats = recorder.stats
    assert (stats.seen, stats.written, stats.dropped, stats.failed) == (6, 6, 0, 0)
    assert stats.hook_us > 0
    exchanges = _read(tmp_path / "tapes")
    assert len(exchanges) == 6
    assert {ex.source for ex in exchanges} == {"checkout"}
    assert all((tmp_path / "tapes" / "source=checkout").iterdir())
    answered = [ex for ex in exchanges if ex.response is not None]
    assert all(ex.response.body == b'{"ok": true}' for ex in answered if ex.response)
    assert all("request.header.authorization" in ex.redactions for ex in answered)
    for path in (tmp_path / "tapes").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()


def test_an_error_after_a_response_is_not_recorded_twice(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in()
    f = _flow()
    recorder.response(f)
    f.error = flow.Error("Connection killed.")
    recorder.error(f)
    assert recorder.stats.seen == 1


def test_filters_choose_what_is_recorded(
    recorder_in: Callable[..., tuple[Recorder, Any]], tmp_path: Path
) -> None:
    recorder, _ = recorder_in(
        shadowtape_include_host=["*.example.com"],
        shadowtape_exclude_path=[r"^/health"],
        shadowtape_include_method=["get", "POST"],
        shadowtape_exclude_method=["POST"],
    )
    recorder.response(_flow(path="/api/a"))
    recorder.response(_flow(path="/healthz"))
    recorder.response(_flow(path="/api/b", method="POST"))
    recorder.response(_flow(path="/api/c", method="PUT"))
    other = _flow(path="/api/d")
    other.request.host = "other.org"
    other.request.headers["Host"] = "other.org"
    recorder.response(other)
    recorder.done()
    assert [ex.request.path for ex in _read(tmp_path / "tapes")] == ["/api/a"]
    assert recorder.stats.skipped == 4


def test_sampling_records_about_the_given_share(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(shadowtape_sample="25%")
    for _ in range(400):
        recorder.response(_flow())
    assert 50 <= recorder.stats.handed <= 150


def test_the_hook_never_raises_on_a_flow_it_cannot_read(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in()
    broken = _flow()
    broken.request.data = None  # type: ignore[assignment]
    recorder.response(broken)
    assert recorder.stats.failed == 1


# -- failures never reach the proxy -----------------------------------------------------------


class _ThrowingWriter:
    """A writer whose every write raises: stands in for a writer with a bug."""

    stats = type("S", (), {"written": 0, "dropped": 0, "failed": 0, "parts": 0, "queued": 0})()

    def write(self, exchange: Exchange) -> bool:
        raise RuntimeError("disk on fire")

    def close(self, timeout: float | None = None) -> bool:
        return True


def _throwing_writer(settings: Settings) -> _ThrowingWriter:
    return _ThrowingWriter()


def _slow_writer(settings: Settings) -> TapeWriter:
    """A real TapeWriter whose caller stalls: stands in for a worker that cannot keep up."""
    writer = TapeWriter(settings.tapes, source=settings.source)
    original = writer.write

    def write(exchange: Exchange) -> bool:
        time.sleep(0.05)
        return original(exchange)

    writer.write = write  # type: ignore[method-assign]
    return writer


def test_a_writer_that_throws_is_counted_and_logged_not_raised(
    recorder_in: Callable[..., tuple[Recorder, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    recorder, _ = recorder_in(writer_factory=_throwing_writer)
    for _ in range(3):
        recorder.response(_flow())
    recorder.done()
    assert recorder.stats.failed == 3
    assert "disk on fire" in caplog.text


def test_a_full_queue_drops_and_counts_without_waiting(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(writer_factory=_slow_writer, shadowtape_queue=5)
    started = time.perf_counter()
    for _ in range(200):
        recorder.response(_flow())
    assert time.perf_counter() - started < 0.5
    recorder.done()
    stats = recorder.stats
    assert stats.dropped > 0
    assert stats.written + stats.dropped + stats.failed == 200


def test_a_dead_worker_process_is_counted_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shadowtape.recorder_worker.RESTART_BACKOFF", 0.1)
    settings = Settings(tapes=str(tmp_path / "tapes"), source="s", max_body=1 << 20, key=b"k")
    handoff = Handoff(settings, mode="process", queue_size=1000)
    try:
        for _ in range(10):
            handoff.put(capture(_flow(), 1 << 22))
        backend = handoff._backend
        assert backend is not None and hasattr(backend, "process")
        deadline = time.monotonic() + 20
        while backend.counters[0] < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        backend.process.kill()
        deadline = time.monotonic() + 20
        while handoff.stats.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(10):
            handoff.put(capture(_flow(), 1 << 22))
    finally:
        assert handoff.close(timeout=30)
    stats = handoff.stats
    assert stats.restarts == 1
    # The ten sent before the kill were in an open part: lost and counted, never silent.
    assert stats.failed == 10
    assert stats.written == 10
    assert len(_read(tmp_path / "tapes")) == 10


def test_the_hook_is_cheap_and_never_waits(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(shadowtape_queue=100_000)
    f = _flow(body=b"x" * 2000)
    started = time.perf_counter()
    for _ in range(2000):
        recorder.response(f)
    per_flow = (time.perf_counter() - started) / 2000
    assert per_flow < 200e-6, f"{per_flow * 1e6:.0f} us per flow in the hook"
    recorder.done()
    assert recorder.stats.written == 2000


def test_running_moves_start_up_objects_out_of_the_garbage_collectors_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import shadowtape.recorder as recorder_module

    monkeypatch.setattr(recorder_module, "_FROZEN", False)
    try:
        Recorder().running()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
