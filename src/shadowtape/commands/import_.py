"""`shadowtape import har|mitm|gor FILE... --tapes DIR`: captures from other tools as
sanitized tapes."""

from __future__ import annotations

import argparse
import functools
import os
import sys

from shadowtape.errors import ShadowtapeError
from shadowtape.importers import READERS, CaptureError, import_file
from shadowtape.record.values import size
from shadowtape.sanitize import Rules, Sanitizer
from shadowtape.tape import TapeWriter
from shadowtape.tape.location import check_writable, is_uri

NAME = "import"
HELP = "Import HAR files, mitmproxy dumps or GoReplay captures as sanitized tapes."

EXAMPLES = """
  # A HAR saved from the browser's devtools:
  SHADOWTAPE_SANITIZE_KEY=... shadowtape import har session.har --tapes tapes/

  # A mitmproxy dump and a GoReplay capture, named as their own sources:
  shadowtape import mitm flows.mitm --tapes tapes/ --source staging-proxy
  shadowtape import gor requests.gor --tapes tapes/ --source gor
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "format",
        choices=sorted(READERS),
        help="har: HAR 1.1/1.2 (also .zhar); mitm: mitmproxy dump; gor: GoReplay capture",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="capture files to import")
    parser.add_argument("--tapes", required=True, metavar="DIR", help="tape folder to write")
    parser.add_argument(
        "--source",
        metavar="NAME",
        help="source name for the imported exchanges (default: import-FORMAT)",
    )
    parser.add_argument(
        "--sanitize-rules",
        metavar="FILE",
        help="TOML sanitizing rules (default: the built-in rules); the key comes from "
        "SHADOWTAPE_SANITIZE_KEY",
    )
    parser.add_argument(
        "--max-decompressed",
        metavar="SIZE",
        default="4g",
        help="what a gzip- or zlib-compressed HAR (.har.gz, .zhar) may decompress to, with a "
        "k/m/g suffix; a larger one is refused as a likely decompression bomb (4g)",
    )
    parser.add_argument(
        "--resanitize",
        action="store_true",
        help="sanitize entries of an unchanged shadowtape HAR export again (by default they "
        "are kept: their values are pseudonyms already)",
    )


def check_tapes(tapes: str) -> None:
    if not is_uri(tapes):
        check_writable(tapes)


def run(args: argparse.Namespace) -> int:
    # Every input is checked before the sanitizer is made, since making it can warn (no
    # key set): a failing command says one thing, its error.
    rules = Rules.from_file(args.sanitize_rules) if args.sanitize_rules else None
    max_decompressed = size("--max-decompressed", args.max_decompressed)
    missing = [f for f in args.files if not os.path.isfile(f)]
    if missing:
        raise CaptureError(f"{missing[0]}: no such file")
    check_tapes(args.tapes)
    sanitizer = functools.cache(lambda: Sanitizer(rules=rules))
    failed = 0
    total = 0
    with TapeWriter(args.tapes, source=args.source or f"import-{args.format}") as writer:
        for path in args.files:
            try:
                summary = import_file(
                    args.format,
                    path,
                    writer,
                    sanitizer,
                    source=args.source,
                    resanitize=args.resanitize,
                    max_decompressed=max_decompressed,
                )
            except ShadowtapeError as exc:
                failed += 1
                print(f"shadowtape import: error: {exc}", file=sys.stderr)
                continue
            total += summary.imported
            print(summary.describe())
    if len(args.files) > 1:
        done = len(args.files) - failed
        print(f"{total} exchanges imported from {done} file(s) into {args.tapes}")
    return 2 if failed else 0
