"""The Recorder addon without sockets: mitmproxy's taddons context and test flows.

Each test that records goes through the real pipeline (sanitizer, TapeWriter, Parquet on
disk) and reads the tape back, using the in-process worker thread to stay fast.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import exceptions, flow
    from mitmproxy.test import taddons, tflow

from shadowtape.record.addon import Recorder
from tests.record.support import SECRET, make_flow, read_tapes
from tests.record.writers import slow_writer, throwing_writer


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
        recorder.response(make_flow())
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
        recorder.response(make_flow(encoding="gzip"))
    recorder.error(tflow.tflow(err=True))
    recorder.done()
    stats = recorder.stats
    assert (stats.seen, stats.written, stats.dropped, stats.failed) == (6, 6, 0, 0)
    assert stats.hook_us > 0
    exchanges = read_tapes(tmp_path / "tapes")
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
    f = make_flow()
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
    recorder.response(make_flow(path="/api/a"))
    recorder.response(make_flow(path="/healthz"))
    recorder.response(make_flow(path="/api/b", method="POST"))
    recorder.response(make_flow(path="/api/c", method="PUT"))
    other = make_flow(path="/api/d")
    other.request.host = "other.org"
    other.request.headers["Host"] = "other.org"
    recorder.response(other)
    recorder.done()
    assert [ex.request.path for ex in read_tapes(tmp_path / "tapes")] == ["/api/a"]
    assert recorder.stats.skipped == 4


def test_sampling_records_about_the_given_share(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(shadowtape_sample="25%")
    for _ in range(400):
        recorder.response(make_flow())
    assert 50 <= recorder.stats.handed <= 150


def test_the_hook_never_raises_on_a_flow_it_cannotread_tapes(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in()
    broken = make_flow()
    broken.request.data = None  # type: ignore[assignment]
    recorder.response(broken)
    assert recorder.stats.failed == 1


# -- failures never reach the proxy -----------------------------------------------------------


def test_a_writer_that_throws_is_counted_and_logged_not_raised(
    recorder_in: Callable[..., tuple[Recorder, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    recorder, _ = recorder_in(writer_factory=throwing_writer)
    for _ in range(3):
        recorder.response(make_flow())
    recorder.done()
    assert recorder.stats.failed == 3
    assert "disk on fire" in caplog.text


@pytest.mark.timing
def test_a_full_queue_drops_and_counts_without_waiting(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(writer_factory=slow_writer, shadowtape_queue=5)
    started = time.perf_counter()
    for _ in range(200):
        recorder.response(make_flow())
    assert time.perf_counter() - started < 0.5
    recorder.done()
    stats = recorder.stats
    assert stats.dropped > 0
    assert stats.written + stats.dropped + stats.failed == 200


@pytest.mark.timing
def test_the_hook_is_cheap_and_never_waits(
    recorder_in: Callable[..., tuple[Recorder, Any]],
) -> None:
    recorder, _ = recorder_in(shadowtape_queue=100_000)
    f = make_flow(body=b"x" * 2000)
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

    import shadowtape.record.addon as recorder_module

    monkeypatch.setattr(recorder_module, "_FROZEN", False)
    try:
        Recorder().running()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
