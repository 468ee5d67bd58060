"""The report: the typed model, built from the analysis, gated, written in every format.

``model`` holds the types (one per object of report.json); ``build`` makes a ``Report``
from the differ's aggregates (with ``_latency`` and ``_unverified``); ``gate`` decides the
exit code; ``load`` reads report.json back; one module per format renders it
(``json_report``, ``html``, ``junit``, ``markdown``, ``terminal``; ``_describe`` holds the
words they share).

``analyze(run_dirs) -> Report`` and ``Report.write(out_dir, formats=...)`` are the
Python API (``shadowtape.analyze``); ``write_reports`` is what ``shadowtape replay`` and
``shadowtape report`` call. None of them prints: the terminal summary is rendered only
into a console the caller gives (the CLI gives stdout's). Renderers are found through a
small registry of modules (``html``, ``junit``, ``markdown``, each with
``render(report, out_dir) -> Path``; ``terminal`` with ``render(report, console)``); a
renderer that is not installed is skipped, so report.json is always written.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from shadowtape.diff.analyze import AnalysisSettings
from shadowtape.diff.analyze import analyze as analyze_runs
from shadowtape.diff.templating import Route, load_openapi, load_routes
from shadowtape.errors import ConfigError
from shadowtape.report import json_report
from shadowtape.report._probes import with_probes
from shadowtape.report.build import REPORT_VERSION, build_report
from shadowtape.report.gate import parse_fail_on, parse_share
from shadowtape.report.load import load_report, read_report
from shadowtape.report.model import Report

log = logging.getLogger("shadowtape.report")

#: File renderers, by format name, in the order they run.
FILE_RENDERERS = ("html", "junit", "markdown")
#: The files a report is written as: report.json, report.html, junit.xml, summary.md.
FILE_FORMATS = ("json", *FILE_RENDERERS)
ALL_FORMATS = (*FILE_FORMATS, "terminal")
#: Other names a format is known by.
_ALIASES = {"summary": "markdown", "md": "markdown", "xml": "junit"}


def _renderer(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"shadowtape.report.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"shadowtape.report.{name}":
            raise
        log.debug("report format %s is not available", name)
        return None


def analyze(
    run_dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    fail_on: str | Sequence[str] | None = None,
    max_unverified: str | float | None = None,
    routes: Path | Sequence[Route] | None = None,
    openapi: Path | None = None,
    settings: AnalysisSettings | None = None,
    allow_partial: bool = False,
) -> Report:
    """The typed report of a run folder (or of a run's shard folders, merged): what
    ``shadowtape report`` writes, as a ``Report``. ``fail_on`` and ``max_unverified``
    (the largest share of exchanges not verified that passes: ``"20%"`` or ``0.2``) set
    the gate (``report.gate.passed``). Runs that are a partial picture (killed, failed,
    parts or shards missing) raise ConfigError unless ``allow_partial``; then the report
    says what is missing."""
    if isinstance(run_dirs, str | os.PathLike):
        run_dirs = [run_dirs]
    if not run_dirs:
        raise ConfigError("no run folders given: name the folder(s) 'shadowtape replay' wrote")
    folders = [Path(d) for d in run_dirs]
    words = parse_fail_on(fail_on)
    share = parse_share(max_unverified)
    user_routes: list[Route] = []
    if isinstance(routes, Path):
        user_routes.extend(load_routes(routes))
    elif routes:
        user_routes.extend(routes)
    if openapi is not None:
        user_routes.extend(load_openapi(openapi))
    settings = settings or AnalysisSettings()
    analysis = analyze_runs(
        folders, settings=settings, routes=user_routes, allow_partial=allow_partial
    )
    report = build_report(analysis, settings, words, max_unverified=share)
    return with_probes(report, folders)


def write_report(
    report: Report, out_dir: str | os.PathLike[str], formats: Sequence[str] = FILE_FORMATS
) -> dict[str, Path]:
    """Write ``report`` into ``out_dir`` (created if missing) in ``formats`` ("json",
    "html", "junit", "markdown" or "summary"); the path written per format. A format
    whose renderer is not installed is skipped (logged). ``Report.write`` calls this."""
    chosen = []
    for name in formats:
        name = _ALIASES.get(name, name)
        if name not in FILE_FORMATS:
            valid = ", ".join([*FILE_FORMATS, *_ALIASES])
            raise ConfigError(f"report format {name!r} is not a file format; valid: {valid}")
        chosen.append(name)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    return _write_files(report, target, dict.fromkeys(chosen))


def _write_files(
    report: Report, target: Path, formats: Sequence[str] | dict[str, None]
) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if "json" in formats:
        written["json"] = json_report.render(report, target)
    for name in formats:
        if name not in ("json", "terminal"):
            module = _renderer(name)
            if module is not None:
                written[name] = module.render(report, target)
    return written


def write_reports(
    run_dirs: list[Path],
    *,
    out_dir: Path | None = None,
    fail_on: str | Sequence[str] | None = None,
    max_unverified: str | float | None = None,
    routes: Path | Sequence[Route] | None = None,
    openapi: Path | None = None,
    settings: AnalysisSettings | None = None,
    formats: Sequence[str] = FILE_FORMATS,
    console: Any = None,
    allow_partial: bool = False,
) -> int:
    """Analyze, write report.json (and every available format) and return the gate's exit code.

    Reports go to `out_dir`, else into the (first) run folder. 0: the gate passed; 1: it
    failed. Bad input raises a ShadowtapeError, which the CLI turns into exit 2. The
    terminal summary goes to `console` (a rich Console) when one is given; nothing is
    printed otherwise.
    """
    report = analyze(
        run_dirs,
        fail_on=fail_on,
        max_unverified=max_unverified,
        routes=routes,
        openapi=openapi,
        settings=settings,
        allow_partial=allow_partial,
    )
    target = out_dir if out_dir is not None else run_dirs[0]
    _write_files(report, target, formats)
    if console is not None:
        module = _renderer("terminal")
        if module is not None:
            module.render(report, console)
    return 0 if report.gate.passed else 1


__all__ = [
    "ALL_FORMATS",
    "FILE_FORMATS",
    "REPORT_VERSION",
    "Report",
    "analyze",
    "load_report",
    "read_report",
    "write_report",
    "write_reports",
]
