"""`shadowtape export har TAPES... --out FILE`: tapes as a HAR 1.2 file for any HAR viewer."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from shadowtape.commands._selection import add_selection_arguments, selection_filter
from shadowtape.errors import ConfigError, ShadowtapeError
from shadowtape.importers import export_har, write_har
from shadowtape.tape import TapeReader
from shadowtape.tape.location import PartFile, in_partition, tape_root

NAME = "export"
HELP = "Export tapes as HAR 1.2 (readable by browsers' devtools, HAR viewers, mitmproxy)."

EXAMPLES = """
  # An incident's failing requests, for a HAR viewer:
  shadowtape export har tapes/ --status 5xx --since 2026-11-21T09:58Z --out incident.har

  # One exchange, to standard output:
  shadowtape export har tapes/ --id 01JD3Q5K7Y9W2X4V6T8R0P1M3N --out - | jq .log.entries
"""
STDOUT = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["har"], help="har: HAR 1.2")
    parser.add_argument(
        "tapes", nargs="+", metavar="TAPES", help="tape files, folders, globs or URIs"
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the HAR file to write, outside any tape (a new file unless --force); "
        "- writes to standard output",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace --out when it is an existing file"
    )
    add_selection_arguments(parser)


def check_out(out: str, tapes: Sequence[str], parts: Sequence[PartFile], *, force: bool) -> None:
    """Refuse a target that would lose or corrupt data: a folder, a name tape readers
    would take for a part, a place inside a tape being exported (or any tape's
    partition), or an existing file the user did not ask to replace."""
    target = os.path.realpath(out)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        state = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise ConfigError(f"--out {out}: {folder} {state}")
    if os.path.isdir(target):
        raise ConfigError(f"--out {out}: is a folder; give the name of the HAR file to write")
    if target.lower().endswith(".parquet"):
        raise ConfigError(
            f"--out {out}: tape readers would take a .parquet file for a tape part; "
            "name the HAR file .har"
        )
    roots = {os.path.realpath(t) for t in tapes if os.path.isdir(t)}
    # The tape above each part in the source=/date=/hour= layout; a loose part file's
    # folder is no tape (a .har beside it is not taken for a part: see above).
    roots |= {
        os.path.realpath(tape_root(p))
        for p in parts
        if p.filesystem.type_name == "local" and in_partition(p.path)
    }
    for root in sorted(roots):
        if os.path.commonpath([root, target]) == root:
            raise ConfigError(
                f"--out {out}: is inside the tape {root}; write the HAR file outside it, "
                "so the tape holds only its parts"
            )
    if any(name.startswith("source=") for name in os.listdir(folder)):
        raise ConfigError(
            f"--out {out}: is inside the tape {folder}; write the HAR file outside it, "
            "so the tape holds only its parts"
        )
    # A tape's source=... folder holds only its partitions: a file there is in a tape.
    if in_partition(target) or any(part.startswith("source=") for part in Path(folder).parts):
        raise ConfigError(
            f"--out {out}: is inside a tape's partition folder; write the HAR file outside the tape"
        )
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise ConfigError(f"--out {out}: exists and is not a regular file; give a file name")
    if not force:
        raise ConfigError(
            f"--out {out}: already exists; give a new file name, or add --force to replace it"
        )


def run(args: argparse.Namespace) -> int:
    reader = TapeReader(args.tapes, filter=selection_filter(args))
    to_stdout = args.out == STDOUT
    if not to_stdout:
        check_out(args.out, args.tapes, reader.parts, force=args.force)
    # Every part's footer is checked before the first byte is written: a bad part fails
    # here, not half-way through a HAR on standard output.
    for _ in reader.part_infos():
        pass
    if to_stdout:
        count = write_har(reader.exchanges(), sys.stdout.buffer)
        sys.stdout.buffer.flush()
        print(f"{count} exchanges exported to standard output", file=sys.stderr)
        return 0
    try:
        count = export_har(reader.exchanges(), args.out, overwrite=args.force)
    except FileExistsError:
        raise ConfigError(
            f"--out {args.out}: was created by something else while exporting and is kept; "
            "export again to a new file name"
        ) from None
    except OSError as exc:
        raise ShadowtapeError(
            f"--out {args.out}: cannot write it ({exc.strerror or exc}); nothing was written"
        ) from None
    print(f"{count} exchanges exported to {args.out}")
    return 0
