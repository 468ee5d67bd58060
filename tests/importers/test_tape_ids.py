"""Ids stay unique in a tape folder: an exported exchange imported again is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from shadowtape.exchange import Exchange, Request, Response
from shadowtape.importers import ImportSummary, export_har, import_file
from shadowtape.importers.tape_ids import HOURS_KEPT, TapeIds
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import TapeReader, TapeWriter

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _exchange(minutes: int, source: str = "edge") -> Exchange:
    return Exchange(
        request=Request(method="GET", host="shop.test", path=f"/items/{minutes}"),
        response=Response(status=200, body=b"[]", body_size=2),
        recorded_at=T0 + timedelta(minutes=minutes),
        source=source,
    )


def _tape(folder: Path, exchanges: list[Exchange]) -> Path:
    with TapeWriter(folder) as writer:
        for exchange in exchanges:
            writer.write(exchange)
    return folder


def _import(har: Path, tapes: Path) -> ImportSummary:
    with TapeWriter(tapes) as writer:
        return import_file("har", har, writer, Sanitizer())


def _ids(tapes: Path) -> list[str]:
    return sorted(e.id for e in TapeReader(tapes).exchanges(bodies=False))


def test_the_ids_a_tape_holds_are_found_in_any_source_of_their_hour(tmp_path: Path) -> None:
    edge, billing, later = _exchange(0), _exchange(30, "billing"), _exchange(90)
    ids = TapeIds(str(tmp_path / "tapes"))
    assert not ids.holds(edge)  # the folder does not exist yet
    _tape(tmp_path / "tapes", [edge, billing, later])
    ids = TapeIds(str(tmp_path / "tapes"))
    assert ids.holds(edge) and ids.holds(billing) and ids.holds(later)
    fresh = _exchange(1)
    assert not ids.holds(fresh)
    ids.add(fresh)
    assert ids.holds(fresh)


def test_only_the_last_hours_are_held_and_an_hour_left_behind_is_read_again(
    tmp_path: Path,
) -> None:
    """A day's export back into a busy tape would otherwise hold every hour's ids."""
    hours = [_exchange(60 * h) for h in range(HOURS_KEPT + 3)]
    _tape(tmp_path / "tapes", hours)
    ids = TapeIds(str(tmp_path / "tapes"))
    assert all(ids.holds(e) for e in hours)
    assert len(ids._hours) == HOURS_KEPT
    assert ids.holds(hours[0])  # read again from the tape


def test_an_export_imported_twice_is_written_once(tmp_path: Path) -> None:
    source = _tape(tmp_path / "source", [_exchange(m) for m in (0, 10, 70)])
    har = tmp_path / "export.har"
    export_har(TapeReader(source).exchanges(), har)
    first = _import(har, tmp_path / "copy")
    again = _import(har, tmp_path / "copy")
    assert (first.imported, first.skipped_total) == (3, 0)
    assert (again.imported, dict(again.skipped)) == (
        0,
        {"already in the tape (same exchange id)": 3},
    )
    assert again.describe().endswith(
        "0 exchanges imported, 3 skipped: 3 already in the tape (same exchange id) "
        "(entry 0, entry 1, entry 2)"
    )
    assert _ids(tmp_path / "copy") == _ids(source)


def test_an_export_imported_into_its_own_tape_adds_only_what_is_new(tmp_path: Path) -> None:
    tapes = _tape(tmp_path / "tapes", [_exchange(0), _exchange(10)])
    har = tmp_path / "export.har"
    export_har([*TapeReader(tapes).exchanges(), _exchange(20)], har)
    summary = _import(har, tapes)
    assert (summary.imported, summary.skipped_total) == (1, 2)
    ids = _ids(tapes)
    assert len(ids) == len(set(ids)) == 3


def test_the_same_entry_twice_in_one_file_is_written_once(tmp_path: Path) -> None:
    har = tmp_path / "export.har"
    export_har([_exchange(0)], har)
    document = orjson.loads(har.read_bytes())
    document["log"]["entries"] *= 2
    har.write_bytes(orjson.dumps(document))
    summary = _import(har, tmp_path / "tapes")
    assert (summary.imported, summary.skipped_total) == (1, 1)
    assert summary.examples == {"already in the tape (same exchange id)": ["entry 1"]}


def test_captures_from_other_tools_get_new_ids_each_time(tmp_path: Path) -> None:
    """Only an exported exchange has an id of its own to keep; a browser's HAR imported
    twice is two sets of exchanges, each with unique ids."""
    entry = {
        "startedDateTime": "2024-01-02T03:04:05Z",
        "request": {"method": "GET", "url": "http://shop.test/", "headers": []},
        "response": {"status": 204, "headers": [], "content": {}},
    }
    har = tmp_path / "browser.har"
    har.write_bytes(orjson.dumps({"log": {"entries": [entry]}}))
    _import(har, tmp_path / "tapes")
    _import(har, tmp_path / "tapes")
    ids = _ids(tmp_path / "tapes")
    assert len(ids) == len(set(ids)) == 2
