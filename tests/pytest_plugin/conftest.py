"""The shop's tape, recorded once from its WSGI app behind a real server, and that server
for --shadowtape-candidate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pytest_plugin import shop
from tests.pytest_plugin.recording import record, serve


@pytest.fixture(scope="session")
def shop_server() -> Iterator[str]:
    """The current shop (WSGI) on a loopback port; its base URL."""
    with serve(shop.wsgi_app) as url:
        yield url


@pytest.fixture(scope="session")
def shop_tape(shop_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(tmp_path_factory.mktemp("shop") / "tape", shop_server)
