"""A wrong recorder option given to mitmdump directly stops it at start with one line.

This is how the sidecar runs the recorder (`mitmdump -s ... --set shadowtape_*=...`): a
wrong value must say what is wrong in one line and make mitmdump exit non-zero, with no
traceback, and a misspelt option name must not be silently ignored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.record_support import run_mitmdump

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("shadowtape_max_body", "big", "'big' is not a size"),
        ("shadowtape_sample", "2", "'2' is not a rate in (0, 1]"),
        ("shadowtape_include_path", "[", "'[' is not a valid regex"),
        ("shadowtape_roll_rows", "0", "0 is too small"),
        ("shadowtape_rules", "RULES", "are not valid TOML"),
        ("shadowtape_worker", "fork", "'fork' is not one of process, thread"),
        ("shadowtape_compression", "zip", "'zip' is not one of zstd"),
        ("shadowtape_sampel", "0.1", "did you mean shadowtape_sample?"),
    ],
)
def test_a_wrong_option_stops_mitmdump_at_start_with_one_line(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[redact\n")
    value = value.replace("RULES", str(rules))
    code, out, err = run_mitmdump({"shadowtape_tapes": str(tmp_path / "tapes"), option: value})
    assert code != 0
    assert "Traceback" not in out + err
    lines = [line for line in (out + err).splitlines() if line.strip()]
    # mitmdump closes any start-up error with this line of its own.
    explained = [line for line in lines if "logged during startup" not in line]
    assert len(explained) == 1, lines
    assert f"{option}: " in explained[0] and says in explained[0]
