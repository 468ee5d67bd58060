"""mitmproxy dumps: the corpus from format 0.11 to today, and dumps written here by
mitmproxy's own FlowWriter."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow

from shadowtape.exchange import ErrorKind, Exchange
from shadowtape.importers import CaptureError, Skipped, read_mitm
from tests.importers.conftest import MITM_COUNTS


@pytest.mark.parametrize("name", sorted(MITM_COUNTS))
def test_corpus_dump_imports_every_flow(corpus: Path, name: str) -> None:
    imported, skipped = MITM_COUNTS[name]
    items = list(read_mitm(corpus / "mitm" / name))
    reasons: dict[str, int] = {}
    for item in items:
        if isinstance(item, Skipped):
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
    assert sum(isinstance(i, Exchange) for i in items) == imported
    assert reasons == skipped


def test_format_010_fails_with_one_line_naming_the_file(corpus: Path) -> None:
    path = corpus / "mitm" / "dumpfile-010.mitm"
    with pytest.raises(CaptureError) as caught:
        list(read_mitm(path))
    text = str(caught.value)
    assert text.startswith(f"{path}: mitmproxy dump format 0.10 is too old")
    assert "\n" not in text


def _flows(path: Path) -> list[http.HTTPFlow]:
    with path.open("rb") as handle:
        return [f for f in FlowReader(handle).stream() if isinstance(f, http.HTTPFlow)]


def test_fields_and_timings_come_from_the_flow(corpus: Path) -> None:
    path = corpus / "mitm" / "flows_successful_log.mitm"
    flows = _flows(path)
    exchanges = [i for i in read_mitm(path) if isinstance(i, Exchange)]
    for flow, ex in zip(flows, exchanges, strict=True):
        assert flow.response is not None and ex.response is not None
        assert ex.request.url == flow.request.url
        assert ex.request.http_version == flow.request.http_version
        assert ex.request.body == flow.request.get_content()
        assert ex.response.body == flow.response.get_content()
        assert ex.response.headers == tuple(flow.response.headers.items(multi=True))
        assert ex.recorded_at.timestamp() == pytest.approx(flow.request.timestamp_start, abs=1e-6)
        assert flow.response.timestamp_end is not None
        duration = flow.response.timestamp_end - flow.request.timestamp_start
        assert ex.duration_us == pytest.approx(duration * 1e6, abs=1)
        ttfb = flow.response.timestamp_start - flow.request.timestamp_start
        assert ex.ttfb_us == pytest.approx(ttfb * 1e6, abs=1)


def test_websocket_flows_are_their_101_handshake(corpus: Path) -> None:
    exchanges = [i for i in read_mitm(corpus / "mitm" / "flows_websocket.mitm")]
    assert all(isinstance(e, Exchange) for e in exchanges)
    for ex in exchanges:
        assert isinstance(ex, Exchange) and ex.response is not None
        assert ex.response.status == 101
        assert int(ex.tags["websocket.messages"]) > 0


def test_errors_and_incomplete_flows(corpus: Path) -> None:
    [refused, answered] = [i for i in read_mitm(corpus / "mitm" / "flows_error_log.mitm")]
    assert isinstance(refused, Exchange) and refused.response is None
    assert refused.error is not None and refused.error.kind is ErrorKind.REFUSED
    assert isinstance(answered, Exchange) and answered.response is not None
    incomplete = [i for i in read_mitm(corpus / "mitm" / "flows_incomplete_log.mitm")]
    assert all(isinstance(e, Exchange) and e.response is None for e in incomplete)


def test_a_body_that_does_not_decompress_is_dropped_never_kept_raw(corpus: Path) -> None:
    # It used to be kept as recorded: the sanitizer cannot read compressed bytes.
    [ex] = list(read_mitm(corpus / "mitm" / "flows_corrupted_gzip_body.mitm"))
    assert isinstance(ex, Exchange) and ex.response is not None
    assert ex.response.body == b"" and ex.response.body_truncated
    assert "not decodable as gzip" in ex.tags["mitm.response_body"]
    assert "response.body: dropped (not decodable as gzip)" in ex.redactions


def _dump(tmp_path: Path, flows: list[http.HTTPFlow]) -> Path:
    path = tmp_path / "flows.mitm"
    with path.open("wb") as handle:
        writer = FlowWriter(handle)
        for flow in flows:
            writer.add(flow)
    return path


def test_dump_written_by_mitmproxy_itself(tmp_path: Path) -> None:
    flow = tflow.tflow(resp=True)
    flow.request.http_version = "HTTP/2.0"
    flow.request.path = "/search?q=a%20b&q=c"
    flow.request.headers.add("X-Repeat", "1")
    flow.request.headers.add("X-Repeat", "2")
    flow.response.headers["content-encoding"] = "gzip"
    flow.response.content = b'{"ok": true}'  # mitmproxy encodes it as gzip on the wire
    assert flow.response.raw_content != b'{"ok": true}'
    errored = tflow.tflow(err=True)
    path = _dump(tmp_path, [flow, errored, tflow.ttcpflow()])
    items = list(read_mitm(path, source="staging"))
    ex, failed, tcp = items
    assert isinstance(ex, Exchange) and ex.response is not None
    assert ex.source == "staging"
    assert (ex.request.path, ex.request.query) == ("/search", "q=a%20b&q=c")
    assert [v for k, v in ex.request.headers if k == "X-Repeat"] == ["1", "2"]
    assert ex.response.body == b'{"ok": true}'
    assert isinstance(failed, Exchange) and failed.error is not None and failed.response is None
    assert isinstance(tcp, Skipped) and tcp.where == "flow 2"


def test_a_dump_cut_short_says_how_far_it_got(tmp_path: Path) -> None:
    path = _dump(tmp_path, [tflow.tflow(resp=True)])
    one = path.read_bytes()
    path.write_bytes(one + one[: len(one) // 2])  # a second flow, cut in the middle
    items = []
    with pytest.raises(CaptureError) as caught:
        for item in read_mitm(path):
            items.append(item)
    assert len(items) == 1
    assert "flow 1 cannot be read" in str(caught.value)
    assert "the 1 flows before it were imported" in str(caught.value)


def test_not_a_dump(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is not a dump")
    with pytest.raises(CaptureError, match=r"notes.txt: not a readable mitmproxy dump"):
        list(read_mitm(path))
