"""The report: the typed model, built from the analysis, gated, written in every format.

``model`` holds the types (one per object of report.json); ``build`` makes a ``Report``
from the differ's aggregates (with ``_latency`` and ``_unverified``); ``gate`` decides the
exit code; ``load`` reads report.json back; one module per format renders it
(``json_report``, ``html``, ``junit``, ``markdown``, ``terminal``; ``_describe`` holds the
words they share).

``write_reports`` is what ``shadowtape replay`` and ``shadowtape report`` call. Renderers
are found through a small registry of modules (``html``, ``junit``, ``markdown``, each
with ``render(report, out_dir) -> Path``; ``terminal`` with ``render(report, console)``);
a renderer that is not installed is skipped, so report.json is always written.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from shadowtape.diff.analyze import AnalysisSettings, analyze
from shadowtape.diff.templating import Route, load_openapi, load_routes
from shadowtape.errors import ConfigError
from shadowtape.report import json_report
from shadowtape.report.build import REPORT_VERSION, build_report
from shadowtape.report.gate import parse_fail_on
from shadowtape.report.load import load_report, read_report
from shadowtape.report.model import Report

log = logging.getLogger("shadowtape.report")

#: File renderers, by format name, in the order they run.
FILE_RENDERERS = ("html", "junit", "markdown")
ALL_FORMATS = ("json", *FILE_RENDERERS, "terminal")


def _renderer(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"shadowtape.report.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"shadowtape.report.{name}":
            raise
        log.debug("report format %s is not available", name)
        return None


def make_report(
    run_dirs: Sequence[Path],
    *,
    fail_on: str | Sequence[str] | None = None,
    routes: Path | Sequence[Route] | None = None,
    openapi: Path | None = None,
    settings: AnalysisSettings | None = None,
    allow_partial: bool = False,
) -> Report:
    """Analyze `run_dirs` (shards merged) into the report. Runs that are a
    partial picture (killed, failed, parts or shards missing) raise ConfigError unless
    `allow_partial`; then the report says what is missing."""
    if not run_dirs:
        raise ConfigError("no run folders given: name the folder(s) 'shadowtape replay' wrote")
    words = parse_fail_on(fail_on)
    user_routes: list[Route] = []
    if isinstance(routes, Path):
        user_routes.extend(load_routes(routes))
    elif routes:
        user_routes.extend(routes)
    if openapi is not None:
        user_routes.extend(load_openapi(openapi))
    settings = settings or AnalysisSettings()
    analysis = analyze(
        list(run_dirs), settings=settings, routes=user_routes, allow_partial=allow_partial
    )
    return build_report(analysis, settings, words)


def write_reports(
    run_dirs: list[Path],
    *,
    out_dir: Path | None = None,
    fail_on: str | Sequence[str] | None = None,
    routes: Path | Sequence[Route] | None = None,
    openapi: Path | None = None,
    settings: AnalysisSettings | None = None,
    formats: Sequence[str] = ALL_FORMATS,
    console: Any = None,
    allow_partial: bool = False,
) -> int:
    """Analyze, write report.json (and every available format) and return the gate's exit code.

    Reports go to `out_dir`, else into the (first) run folder. 0: the gate passed; 1: it
    failed. Bad input raises a ShadowtapeError, which the CLI turns into exit 2.
    """
    report = make_report(
        run_dirs,
        fail_on=fail_on,
        routes=routes,
        openapi=openapi,
        settings=settings,
        allow_partial=allow_partial,
    )
    target = out_dir if out_dir is not None else run_dirs[0]
    if "json" in formats:
        json_report.render(report, target)
    for name in formats:
        if name not in ("json", "terminal"):
            module = _renderer(name)
            if module is not None:
                module.render(report, target)
    if "terminal" in formats:
        module = _renderer("terminal")
        if module is not None:
            if console is None:
                from rich.console import Console

                console = Console()
            module.render(report, console)
    return 0 if report.gate.passed else 1


__all__ = [
    "ALL_FORMATS",
    "REPORT_VERSION",
    "Report",
    "load_report",
    "make_report",
    "read_report",
    "write_reports",
]
