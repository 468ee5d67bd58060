"""The local --tapes folder a command will write to, checked before anything starts."""

from __future__ import annotations

import os
import tempfile

from shadowtape.errors import ConfigError


def check_writable(tapes: str) -> None:
    """Refuse a local --tapes that cannot become a tape folder: a file, or a place where
    nothing can be written. Nothing is created, so a refused command leaves no folder;
    else every write would fail later, in a writer's thread, warning by warning."""
    path = os.path.abspath(tapes)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == path and not os.path.isdir(path):
        raise ConfigError(f"--tapes {tapes}: not a folder; give a tape folder, new or existing")
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(0, f"{existing} is a file")
        os.rmdir(tempfile.mkdtemp(prefix=".shadowtape-check-", dir=existing))
    except OSError as exc:
        raise ConfigError(
            f"--tapes {tapes}: cannot write there ({exc.strerror or exc}); give a writable folder"
        ) from None
