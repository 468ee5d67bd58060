"""`shadowtape export har TAPES... --out FILE`: tapes as a HAR 1.2 file for any HAR viewer."""

from __future__ import annotations

import argparse
import os

from shadowtape.commands._selection import add_selection_arguments, selection_filter
from shadowtape.errors import ConfigError
from shadowtape.importers import export_har
from shadowtape.tape import TapeReader

NAME = "export"
HELP = "Export tapes as HAR 1.2 (readable by browsers' devtools, HAR viewers, mitmproxy)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["har"], help="har: HAR 1.2")
    parser.add_argument(
        "tapes", nargs="+", metavar="TAPES", help="tape files, folders, globs or URIs"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="the HAR file to write")
    add_selection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise ConfigError(f"{args.out}: the folder {folder} does not exist")
    reader = TapeReader(args.tapes, filter=selection_filter(args))
    count = export_har(reader.exchanges(), args.out)
    print(f"{count} exchanges exported to {args.out}")
    return 0
