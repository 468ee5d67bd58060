"""A HAR read as a stream: memory bounded whatever the file's size, compressed or not;
a bad file refused whole before anything is written; and the entries exactly those a
parse of the whole document (orjson, as before) gives."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape.cli import main
from shadowtape.errors import CaptureError
from shadowtape.exchange import Exchange
from shadowtape.importers import read_har
from shadowtape.importers.har_stream import MAX_DEPTH, entries, outline
from shadowtape.tape import TapeReader
from tests.importers.bighar import MiB, write_har, write_har_file
from tests.procfs import PeakRss


def _import(path: Path, tapes: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """`shadowtape import har` in its own process: (its peak resident MiB, the result)."""
    env = {**os.environ, "SHADOWTAPE_SANITIZE_KEY": "importer-tests-key"}
    argv = [sys.executable, "-m", "shadowtape", "import", "har", str(path), "--tapes", str(tapes)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with (
        subprocess.Popen(argv, text=True, env=env, **pipes) as proc,
        PeakRss(proc.pid, interval=0.02) as rss,
    ):
        out, err = proc.communicate(timeout=100)
    return rss.mb, subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _rows(tapes: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in tapes.rglob("*.parquet"))


def test_a_har_of_hundreds_of_megabytes_imports_in_memory_well_below_its_size(
    tmp_path: Path,
) -> None:
    """Parsed whole, the file's text and its parse tree were each about its size. Now the
    import holds one entry and the tape writer's row group: what it takes beyond a tiny
    file's import (the interpreter, pyarrow, the sanitizer) stays far below the file.
    (Measured here: about 170 MiB for 300 MiB, most of it the writer's row groups and what the
    allocators keep of them; the reading itself holds under 4 MiB, see the gzip test.)"""
    small, big = tmp_path / "small.har", tmp_path / "big.har"
    write_har_file(small, 64 * 1024)
    urls = write_har_file(big, 300 * MiB)
    size_mb = big.stat().st_size / MiB
    idle, done = _import(small, tmp_path / "small")
    assert done.returncode == 0, done.stderr
    peak, done = _import(big, tmp_path / "big")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{big}: {len(urls)} exchanges imported, 0 skipped\n"
    assert _rows(tmp_path / "big") == len(urls)
    grown = peak - idle
    assert grown < size_mb * 3 / 4, f"{grown:.0f} MiB above a tiny import for {size_mb:.0f} MiB"


def _urls(tapes: Path) -> list[str]:
    return sorted(e.request.url for e in TapeReader(tapes))


def test_pages_and_creator_after_the_entries_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HAR lets ``log.pages`` come after ``log.entries``; page titles and comments are
    not imported (docs/interop.md), wherever they are, so no secret in them reaches a
    tape."""
    title = "reset token=TitleTok4731xq"
    entry = {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "time": 3,
        "pageref": "page_1",
        "comment": "password: CommentPw4732xq",
        "request": {"method": "GET", "url": "https://api.test/a", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": "ok"}},
        "timings": {"send": 1, "wait": 1, "receive": 1},
    }
    pages = [{"id": "page_1", "startedDateTime": "2026-01-01T00:00:00Z", "title": title}]
    creator = {"name": "x", "version": "1", "comment": "password: CreatorPw4733xq"}
    first = {"log": {"version": "1.2", "creator": creator, "pages": pages, "entries": [entry]}}
    last = {"log": {"entries": [entry], "pages": pages, "creator": creator, "version": "1.2"}}
    read = {}
    for name, document in (("first", first), ("last", last)):
        path = tmp_path / f"{name}.har"
        path.write_bytes(orjson.dumps(document))
        code, out, err = _run(capsys, "import", "har", str(path), "--tapes", str(tmp_path / name))
        assert (code, out) == (0, f"{path}: 1 exchange imported, 0 skipped\n"), err
        [exchange] = TapeReader(tmp_path / name)
        read[name] = exchange.replace(id="", tags={**exchange.tags, "import.file": ""})
        files = b"".join(p.read_bytes() for p in (tmp_path / name).rglob("*") if p.is_file())
        for planted in (b"TitleTok4731xq", b"CommentPw4732xq", b"CreatorPw4733xq"):
            assert planted not in files and planted.decode() not in repr(exchange)
    assert read["first"] == read["last"]
    assert outline(tmp_path / "last.har").creator == outline(tmp_path / "first.har").creator


def test_a_gzip_har_is_decompressed_and_parsed_as_a_stream(tmp_path: Path) -> None:
    """Reading a compressed HAR holds a few buffers and one entry, not the text."""
    plain, packed = tmp_path / "session.har", tmp_path / "session.har.gz"
    urls = write_har_file(plain, 48 * MiB, pages_after=True)
    with gzip.open(packed, "wb", compresslevel=1) as out:
        out.write(b"\xef\xbb\xbf")  # a byte-order mark inside the compression, too
        write_har(out, 48 * MiB, pages_after=True)
    tracemalloc.start()
    try:
        count = 0
        for item in read_har(packed):
            assert isinstance(item, Exchange) and item.request.url == urls[count]
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == len(urls)
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB"
    assert [i.request.url for i in read_har(plain) if isinstance(i, Exchange)] == urls


@pytest.mark.parametrize("form", ["plain", "gzip", "gzip cut"])
def test_a_har_cut_short_inside_an_entry_is_one_error_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    whole = tmp_path / "whole.har"
    write_har_file(whole, 4 * MiB)
    text = whole.read_bytes()
    cut = text[: text.rindex(b'"startedDateTime"') + 40]  # inside the last entry
    path = tmp_path / ("cut.har" if form == "plain" else "cut.har.gz")
    if form == "plain":
        path.write_bytes(cut)
    elif form == "gzip":  # whole gzip, of JSON cut short
        path.write_bytes(gzip.compress(cut))
    else:  # gzip cut short (in its last tenth)
        packed = gzip.compress(text)
        path.write_bytes(packed[: len(packed) * 9 // 10])
    tapes = tmp_path / "tapes"
    code, out, err = _run(capsys, "import", "har", str(path), "--tapes", str(tapes))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(f"shadowtape import: error: {path}: ")
    if form == "gzip cut":
        assert "gzip-compressed but damaged" in err
    else:
        assert (
            f"not a HAR file, the JSON does not parse (it ends inside the JSON, after "
            f"{len(cut):,} bytes: cut short?)" in err
        )
    assert not list(tapes.rglob("*.parquet"))


@pytest.mark.parametrize("levels", [MAX_DEPTH, MAX_DEPTH + 1])
def test_nesting_deeper_than_orjson_takes_is_refused_in_one_line(
    tmp_path: Path, levels: int
) -> None:
    """orjson refused it when it parsed the whole file; so does the stream (and deep
    values never reach code that recurses over them)."""
    inner = levels - 3  # the document, log and entries are three
    text = b'{"log": {"entries": [' + b"[" * inner + b"]" * inner + b"]}}"
    path = tmp_path / "deep.har"
    path.write_bytes(text)
    if levels <= MAX_DEPTH:
        assert list(entries(path, outline(path))) == orjson.loads(text)["log"]["entries"]
        return
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)
    with pytest.raises(CaptureError) as caught:
        list(read_har(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: not a HAR file, the JSON does not parse (nested deeper")
    assert "\n" not in message


def test_integers_beyond_64_bits_are_read_as_orjson_reads_them(tmp_path: Path) -> None:
    """ijson's C parser refuses them; the file is read with its Python parser, and such
    a number is a float, as orjson (and so the import before) made it."""
    entry = (
        b'{"startedDateTime": "2026-01-01T00:00:00Z", "time": 100000000000000000000000,'
        b' "request": {"method": "GET", "url": "https://a.test/", "bodySize": '
        b"18446744073709551616}, "
        b'"response": {"status": 1000000000000000000000000000000, "headers": []},'
        b' "_x": [18446744073709551615, -9223372036854775809]}'
    )
    path = tmp_path / "big-numbers.har"
    path.write_bytes(b'{"log": {"entries": [' + entry + b"]}}")
    [parsed] = entries(path, outline(path))
    assert parsed == orjson.loads(entry)
    [exchange] = read_har(path)
    assert isinstance(exchange, Exchange) and exchange.error is not None
    assert exchange.error.message == "no response (status 1e+30 in the HAR)"
    assert (exchange.duration_us, exchange.request.body_size) == (None, 0)


# Documents that bend JSON where a streaming reader could differ from a whole parse:
# repeated keys (the last wins), keys with dots that spell the entries' path, entries
# lists in the wrong place, values of every kind.
class _Object(list[tuple[str, Any]]):
    """A JSON object as written, keys repeated if so."""


def _text(value: Any) -> bytes:
    if isinstance(value, _Object):
        return b"{" + b",".join(orjson.dumps(k) + b":" + _text(v) for k, v in value) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(_text(v) for v in value) + b"]"
    return orjson.dumps(value)


_KEYS = st.sampled_from(["log", "entries", "log.entries", "entries.item", "item", "creator", "x"])
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.lists(st.tuples(_KEYS, inner), max_size=4).map(_Object)
    ),
    max_leaves=16,
)
_LOG = st.lists(st.tuples(_KEYS, _VALUES), max_size=4).map(_Object)
_DOCUMENTS = st.lists(st.tuples(_KEYS, _LOG | _VALUES), max_size=4).map(_Object) | _VALUES


def _expected(text: bytes) -> list[Any] | None:
    document = orjson.loads(text)
    log = document.get("log") if isinstance(document, dict) else None
    found = log.get("entries") if isinstance(log, dict) else None
    return found if isinstance(found, list) else None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=_DOCUMENTS)
def test_the_entries_are_those_of_a_whole_parse(tmp_path: Path, document: Any) -> None:
    text = _text(document)
    path = tmp_path / "doc.har"
    path.write_bytes(text)
    expected = _expected(text)
    if expected is None:
        with pytest.raises(CaptureError, match=r"no log\.entries list"):
            outline(path)
        return
    found = outline(path)
    assert found.entries == len(expected)
    assert list(entries(path, found)) == expected
