"""shadowtape.show: finding one exchange in tapes or a run folder, read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowtape.errors import ConfigError
from shadowtape.show import show
from tests.replay.helpers import ex, write_tape


def test_an_exchange_is_found_in_its_tapes(tmp_path: Path) -> None:
    exchanges = [ex("/a", at=0.0), ex("/b", at=0.1)]
    tape = write_tape(tmp_path / "tape", exchanges)
    shown = show(exchanges[1].id, tape)
    assert shown.recorded is not None and shown.recorded.request.path == "/b"
    assert shown.run is None and shown.answers == [] and shown.comparison is None
    assert shown.tapes == [str(tape)]


def test_an_unknown_id_or_nowhere_to_look_is_a_config_error(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex("/a")])
    with pytest.raises(ConfigError, match=f"no exchange NOPE in {tape}"):
        show("NOPE", tape)
    with pytest.raises(ConfigError, match="name the tapes or the run folder"):
        show("NOPE")
