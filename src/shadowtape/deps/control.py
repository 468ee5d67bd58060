"""Runtime fault control: fault rules a running deps proxy takes from a file.

``shadowtape deps --faults-file PATH`` re-reads PATH (a JSON list of ``--fault`` rule
strings) whenever it changes, so a probe can make a dependency fail and recover between
two requests without restarting the proxy. The proxy looks at the file's identity
(inode, size, mtime) once per call, a single ``stat``; it parses only when that changed.
A missing file means no file rules; a bad file keeps the rules it had and logs one
warning line, so a half-edited file never breaks a call.

Writers use ``write_faults`` / ``clear_faults``: the rules are checked first, written to a
temporary file and renamed over PATH (a reader never sees half a file), and the mtime is
moved past the old one so a change within the same clock tick is still seen.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from shadowtape.deps import faults
from shadowtape.errors import ConfigError

log = logging.getLogger("shadowtape.deps")

#: What identifies one version of the file: inode, size, mtime in ns.
_Stamp = tuple[int, int, int]


def write_faults(path: str | os.PathLike[str], rules: Sequence[str]) -> None:
    """Make ``rules`` (``--fault`` syntax) the file's rules; a ConfigError for a bad rule."""
    texts = [str(rule) for rule in rules]
    faults.parse_all(texts)
    target = Path(path)
    try:
        previous = target.stat().st_mtime_ns
    except OSError:
        previous = 0
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(texts, out)
        stamp = max(time.time_ns(), previous + 1_000)
        os.utime(temporary, ns=(stamp, stamp))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def clear_faults(path: str | os.PathLike[str]) -> None:
    """No file rules from now on (the ``--fault`` rules still apply)."""
    write_faults(path, [])


def parse_file(path: str | os.PathLike[str]) -> tuple[faults.FaultRule, ...]:
    """The rules in a faults file; a ConfigError says what is wrong with it."""
    try:
        texts = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"faults file {path}: not readable as JSON ({exc})") from None
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ConfigError(
            f'faults file {path}: give a JSON list of --fault rules, e.g. ["host=a,status=503"]'
        )
    return faults.parse_all(texts)


class FaultsFile:
    """The rules of one faults file, re-read when the file changes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._stamp: _Stamp | None = None
        self._rules: tuple[faults.FaultRule, ...] = ()

    def rules(self) -> tuple[faults.FaultRule, ...]:
        """The current rules: a ``stat`` per call, a parse only after a change."""
        try:
            info = os.stat(self.path)
        except OSError:
            self._stamp, self._rules = None, ()
            return self._rules
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._rules = parse_file(self.path)
            except ConfigError as exc:
                log.warning("%s; keeping the previous %d rule(s)", exc, len(self._rules))
        return self._rules
