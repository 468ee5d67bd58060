"""Each side's own origin is masked before diffing."""

from __future__ import annotations

from shadowtape.diff.compare import Side, compare
from shadowtape.diff.origins import Origins, mask, spellings


def test_spellings_with_and_without_the_default_port() -> None:
    assert spellings("http://127.0.0.1:8001/base") == ("http://127.0.0.1:8001",)
    assert spellings("https://API.example.test") == (
        "https://api.example.test:443",
        "https://api.example.test",
    )
    assert spellings("recorded") == ()


def test_echoes_of_each_own_address_compare_equal_and_a_dropped_one_does_not() -> None:
    a = Side(
        200,
        [("Location", "http://127.0.0.1:8001/x/1")],
        b'{"self":"http:\\/\\/127.0.0.1:8001/x/1"}',
    )
    b = Side(
        200, [("Location", "HTTP://127.0.0.1:9002/x/1")], b'{"self":"http://127.0.0.1:9002/x/1"}'
    )
    ma = mask(a, spellings("http://127.0.0.1:8001"))
    mb = mask(b, spellings("http://127.0.0.1:9002"))
    assert compare(ma, mb).differences == []
    dropped = mask(Side(200, [], b.body), spellings("http://127.0.0.1:9002"))
    assert [d.kind for d in compare(ma, dropped).differences] == ["header_missing"]


def _batch(host: str, baseline_mode: str) -> dict[str, list[str]]:
    """One result row of run r1, recorded from https://``host``, as the analysis reads it."""
    return {
        "run_id": ["r1"],
        "scheme": ["https"],
        "host": [host],
        "baseline_mode": [baseline_mode],
    }


def test_origins_per_run_and_the_recorded_origin() -> None:
    origins = Origins.of_runs(
        [{"run_id": "r1", "candidate": "http://127.0.0.1:9002", "baseline": "recorded"}]
    )
    batch = _batch("api.example.test", "recorded")
    assert origins.of(batch, "baseline", 0) == (
        "https://api.example.test:443",
        "https://api.example.test",
    )
    assert "http://127.0.0.1:9002" in origins.of(batch, "candidate", 0)
    assert "http://127.0.0.1:9002" in origins.of(batch, "repeat", 0)


def test_with_the_recorded_host_kept_only_the_recorded_origin_is_masked() -> None:
    run = {
        "run_id": "r1",
        "baseline": "http://localhost:8081",
        "candidate": "http://localhost:8080",
        "settings": {"keep_host": True},
    }
    origins = Origins.of_runs([run])
    batch = _batch("api.example.com", "live")
    assert origins.of(batch, "candidate", 0) == (
        "https://api.example.com:443",
        "https://api.example.com",
    )
    json = (("Content-Type", "application/json"),)
    good = Side(201, (*json, ("Location", "https://api.example.com/o/7")), b"{}")
    # The candidate ignores Host and links to its bind address: broken in production.
    bad = Side(201, (*json, ("Location", "http://localhost:8080/o/7")), b"{}")
    base = mask(good, origins.of(batch, "baseline", 0))
    cand = mask(bad, origins.of(batch, "candidate", 0))
    assert [d.kind for d in compare(base, cand).differences] == ["header"]
    # Without the setting, each target's own address is still masked.
    plain = Origins.of_runs([{**run, "settings": {"keep_host": False}}])
    assert "http://localhost:8080" in plain.of(batch, "candidate", 0)
