"""`shadowtape report RUN_DIR...`: rebuild the reports of one run (its shards merged).

The analysis flags are added by ``add_analysis_arguments`` and read back by
``analysis_options``, so ``shadowtape replay`` can offer the same flags (and the same
config keys) and hand them to ``write_reports`` unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from shadowtape.diff.analyze import AnalysisSettings
from shadowtape.diff.compare import DiffSettings
from shadowtape.diff.headers import DEFAULT_POLICY
from shadowtape.diff.json import Tolerance
from shadowtape.diff.latency import LatencySettings
from shadowtape.diff.noise import NoiseSettings
from shadowtape.errors import ConfigError
from shadowtape.report.gate import DEFAULT_FAIL_ON, parse_share

NAME = "report"
HELP = "analyze replay results (merging shards) and write report.json, HTML, JUnit and Markdown"

EXAMPLES = """
  # Rebuild the reports of a run, with learned routes replaced by the API's own:
  shadowtape report shadowtape-runs/20261121T100000Z-a1b2c3 --openapi openapi.yaml

  # Merge the shards of a sharded replay into one report, failing on new errors only:
  shadowtape report runs/shard-* --out merged/ --fail-on new_error

  # A run that was interrupted: report what it did, and say what is missing:
  shadowtape report incident-run --allow-partial
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders (shards of one run)"
    )
    parser.add_argument(
        "--out", type=Path, help="write the reports here (default: the first run folder)"
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="report runs that did not finish, failed, lost result parts or miss a shard "
        "(refused otherwise); the report says what is missing",
    )
    add_analysis_arguments(parser)


def add_analysis_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that shape the analysis and the gate (shared with `shadowtape replay`)."""
    parser.add_argument(
        "--fail-on",
        default=",".join(DEFAULT_FAIL_ON),
        metavar="KINDS",
        help="comma-separated finding kinds that fail the run (exit 1): new_error, status, "
        "headers, body, latency, duplicate_delivery, side_effect (launched builds' outbound "
        "calls), fixed_error, race (probes), or a "
        "finding kind; 'all' or 'none' (default: %(default)s, and race when a probe ran)",
    )
    parser.add_argument(
        "--max-unverified",
        metavar="SHARE",
        help="fail the run (exit 1) when more than this share of the selected exchanges "
        "could not be verified (unverified or skipped), e.g. 20%% or 0.2 (default: no limit)",
    )
    parser.add_argument(
        "--routes",
        type=Path,
        metavar="FILE",
        help="route templates, one '[METHOD] /path/{id}' a line (or TOML 'routes = [...]'); "
        "they win over learned ones",
    )
    parser.add_argument(
        "--openapi",
        type=Path,
        metavar="FILE",
        help="OpenAPI document (JSON or YAML): its paths are the routes, and operations the "
        "tape never exercised are listed",
    )
    parser.add_argument(
        "--ignore-header",
        action="append",
        default=[],
        metavar="NAME",
        help="also ignore this response header (repeatable)",
    )
    parser.add_argument(
        "--compare-header",
        action="append",
        default=[],
        metavar="NAME",
        help="compare this header even though it is ignored by default (repeatable)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        metavar="X",
        help="numbers within X of each other are equal (default: exact)",
    )
    parser.add_argument(
        "--relative-tolerance",
        type=float,
        default=0.0,
        metavar="R",
        help="numbers within a fraction R of each other are equal",
    )
    parser.add_argument(
        "--noise-relative",
        type=float,
        default=NoiseSettings().relative,
        metavar="R",
        help="a location is a regression only if the candidate disagrees more than (1+R) times "
        "as often as the baselines do (default: %(default)s)",
    )
    parser.add_argument(
        "--noise-absolute",
        type=float,
        default=NoiseSettings().absolute,
        metavar="A",
        help="... and by more than A in absolute rate (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ratio",
        type=float,
        default=LatencySettings().ratio,
        metavar="R",
        help="flag latency when p50 or p95 grows by this factor ... (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=LatencySettings().min_ms,
        metavar="MS",
        help="... and by at least this many milliseconds (default: %(default)s)",
    )


def analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``write_reports`` from the flags of ``add_analysis_arguments``."""
    for value, flag in (
        (args.tolerance, "--tolerance"),
        (args.relative_tolerance, "--relative-tolerance"),
        (args.noise_relative, "--noise-relative"),
        (args.noise_absolute, "--noise-absolute"),
        (args.latency_ms, "--latency-ms"),
    ):
        if value < 0:
            raise ConfigError(f"{flag} must not be negative (got {value})")
    if not args.latency_ratio >= 1:
        raise ConfigError(
            f"--latency-ratio must be 1 or more, a growth factor such as 1.2 (got "
            f"{args.latency_ratio}: a faster candidate would count as slower)"
        )
    settings = AnalysisSettings(
        diff=DiffSettings(
            tolerance=Tolerance(absolute=args.tolerance, relative=args.relative_tolerance),
            headers=DEFAULT_POLICY.with_changes(
                ignore=args.ignore_header, compare=args.compare_header
            ),
        ),
        noise=NoiseSettings(relative=args.noise_relative, absolute=args.noise_absolute),
        latency=LatencySettings(ratio=args.latency_ratio, min_ms=args.latency_ms),
    )
    return {
        "fail_on": args.fail_on,
        "max_unverified": parse_share(args.max_unverified),
        "routes": args.routes,
        "openapi": args.openapi,
        "settings": settings,
    }


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from shadowtape.report import write_reports

    return write_reports(
        list(args.run_dirs),
        out_dir=args.out,
        allow_partial=args.allow_partial,
        console=Console(),  # the library prints nothing; the command prints the summary
        **analysis_options(args),
    )
