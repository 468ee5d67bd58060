"""The pytest plugin's flags and its replay: ``shadowtape replay``'s flags, prefixed.

``--shadowtape-path``, ``--shadowtape-limit``, ``--shadowtape-allow-mutating`` ... are
passed to ``shadowtape replay``'s own argument parser (commands/replay.py) as
``--path``, ``--limit``, ... so they are checked, converted and defaulted exactly as on
the command line; only their names are listed here (pytest must register flags before it
runs, and importing the commands would load pyarrow into every pytest run). The targets
are the plugin's own: an app ('module:app', in-process) or a URL.

Two defaults differ from ``shadowtape replay``'s, for a test run: requests go as fast as
they are answered (``--pace asap``), one at a time, in recorded order
(``--concurrency 1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from shadowtape.diff.analyze import AnalysisSettings
    from shadowtape.report.model import Report

PREFIX = "--shadowtape-"
#: ``shadowtape replay``'s flags that take a value, offered as --shadowtape-<name>.
VALUE_FLAGS = (
    "method",
    "host",
    "path",
    "status",
    "since",
    "until",
    "source",
    "id",
    "sample",
    "limit",
    "filter",
    "shard",
    "pace",
    "speed",
    "rate",
    "concurrency",
    "ordering",
    "abort-after",
    "timeout",
    "header",
    "repeat-sample",
    "fail-on",
    "max-unverified",
    "routes",
    "openapi",
    "ignore-header",
    "compare-header",
    "tolerance",
    "relative-tolerance",
    "noise-relative",
    "noise-absolute",
    "latency-ratio",
    "latency-ms",
    "probe",
    "probe-sample",
    "probe-concurrency",
    "probe-shapes",
    "probe-scale-max",
)
#: ... and those that take none.
SWITCH_FLAGS = ("allow-mutating", "keep-host", "insecure", "no-traceparent")
#: ``shadowtape replay``'s flags the plugin has its own form of (or no use for).
OWN_FLAGS = (
    "candidate",
    "baseline",
    "secondary",
    "candidate-cmd",
    "baseline-cmd",
    "secondary-cmd",
    "build-timeout",
    "deps",
    "out",
    "progress",
    "traceparent",  # the default; --shadowtape-no-traceparent turns it off
)
#: The plugin's defaults where they differ from the command's.
TEST_DEFAULTS = {"pace": "asap", "concurrency": "1"}
#: Response headers the recording's server added, not the app: an in-process app has no
#: server, so they are never compared with its answers.
SERVER_HEADERS = ("date", "server", "connection", "transfer-encoding", "keep-alive")
_FLAG = re.compile(
    r"(?<![\w-])--(" + "|".join(map(re.escape, (*VALUE_FLAGS, *SWITCH_FLAGS))) + r")\b"
)


@dataclass(frozen=True)
class ShadowtapeRun:
    """A replay the plugin ran: the run folder (with its reports) and the typed report."""

    run_dir: Path
    report: Report
    tapes: tuple[Path, ...]
    #: The candidate: 'module:app' or a URL.
    candidate: str


def _dest(name: str) -> str:
    return "shadowtape_" + name.replace("-", "_")


def add_options(group: Any) -> None:
    group.addoption(
        "--shadowtape",
        action="append",
        default=[],
        metavar="TAPES",
        help="replay these tapes (files, folders, globs; repeatable): one test per endpoint",
    )
    group.addoption(
        "--shadowtape-app",
        metavar="MODULE:APP",
        help="the candidate: an ASGI or WSGI app, replayed in-process (no server)",
    )
    group.addoption("--shadowtape-candidate", metavar="URL", help="the candidate: a running server")
    group.addoption(
        "--shadowtape-baseline",
        default="recorded",
        metavar="recorded|URL",
        help="compare with the recorded responses (default) or a live baseline",
    )
    group.addoption(
        "--shadowtape-baseline-app",
        metavar="MODULE:APP",
        help="a live baseline: an ASGI or WSGI app, replayed in-process",
    )
    group.addoption(
        "--shadowtape-out",
        metavar="DIR",
        help="the run folder, where the reports go too (new or empty); default: a new "
        "folder under ./shadowtape-runs/",
    )
    for name in VALUE_FLAGS:
        default = f" (default here: {TEST_DEFAULTS[name]})" if name in TEST_DEFAULTS else ""
        group.addoption(
            PREFIX + name,
            action="append",
            dest=_dest(name),
            metavar="VALUE",
            help=f"as 'shadowtape replay --{name}'{default}",
        )
    for name in SWITCH_FLAGS:
        group.addoption(
            PREFIX + name,
            action="store_true",
            dest=_dest(name),
            help=f"as 'shadowtape replay --{name}'",
        )


def plugin_flags(text: str) -> str:
    """``text`` with the command's flag names as the plugin spells them."""
    return _FLAG.sub(lambda m: PREFIX + m.group(1), text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise pytest.UsageError(f"shadowtape: {plugin_flags(message)}")


def replay_args(config: pytest.Config, candidate_url: str) -> argparse.Namespace:
    """The plugin's flags, parsed by ``shadowtape replay``'s parser."""
    from shadowtape.commands import replay as command

    argv = [*config.getoption("shadowtape"), "--candidate", candidate_url]
    given = {name for name in VALUE_FLAGS if config.getoption(_dest(name))}
    if not given & {"pace", "speed", "rate"}:
        argv += ["--pace", TEST_DEFAULTS["pace"]]
    argv += ["--concurrency", TEST_DEFAULTS["concurrency"]]
    for name in VALUE_FLAGS:
        for value in config.getoption(_dest(name)) or ():
            argv += [f"--{name}", value]
    argv += [f"--{name}" for name in SWITCH_FLAGS if config.getoption(_dest(name))]
    parser = _Parser(prog="pytest", allow_abbrev=False)
    command.add_arguments(parser)
    return parser.parse_args(argv)


def _app(config: pytest.Config, spec: str) -> Any:
    """The app 'module:attribute', importable from where pytest was started (as uvicorn
    imports from its working folder)."""
    from shadowtape.replay.http.inprocess import load_app

    here = str(config.invocation_params.dir)
    if here not in sys.path:
        sys.path.insert(0, here)
    return load_app(spec)


def _targets(config: pytest.Config) -> tuple[Any, Any, str]:
    """(candidate, baseline, candidate's name): URLs or apps."""
    app, url = config.getoption("shadowtape_app"), config.getoption("shadowtape_candidate")
    if bool(app) == bool(url):
        raise pytest.UsageError(
            "shadowtape: give the candidate: --shadowtape-app MODULE:APP (in-process) or "
            "--shadowtape-candidate URL (one of them)"
        )
    base_app = config.getoption("shadowtape_baseline_app")
    base_url = config.getoption("shadowtape_baseline")
    if base_app and base_url != "recorded":
        raise pytest.UsageError(
            "shadowtape: --shadowtape-baseline and --shadowtape-baseline-app both name the "
            "baseline: give one of them"
        )
    candidate = _app(config, app) if app else url
    baseline = _app(config, base_app) if base_app else base_url
    return candidate, baseline, app or url


def start_replay(config: pytest.Config) -> ShadowtapeRun:
    """Replay as the flags say, write the reports into the run folder, and return it."""
    from shadowtape.commands.replay import sending
    from shadowtape.commands.report import analysis_options
    from shadowtape.errors import ShadowtapeError
    from shadowtape.replay import replay
    from shadowtape.replay.http.inprocess import APP_URL
    from shadowtape.report import make_report

    try:
        candidate, baseline, name = _targets(config)
        args = replay_args(config, candidate if isinstance(candidate, str) else APP_URL)
        options = analysis_options(args)
        if not isinstance(candidate, str) or not isinstance(baseline, str):
            options["settings"] = _without_server_headers(options["settings"])
        run_dir = replay(
            args.tapes,
            candidate=candidate,
            baseline=baseline,
            out=config.getoption("shadowtape_out"),
            progress="off",
            handle_signals=False,
            **sending(args),
        )
        _probe(args, options, candidate, baseline, run_dir)
        report = make_report([run_dir], allow_partial=True, **options)
    except ShadowtapeError as exc:
        raise pytest.UsageError(f"shadowtape: {plugin_flags(str(exc))}") from None
    report.write(run_dir)
    return ShadowtapeRun(
        run_dir=run_dir,
        report=report,
        tapes=tuple(Path(t) for t in args.tapes),
        candidate=name,
    )


def _probe(
    args: argparse.Namespace, options: dict[str, Any], candidate: Any, baseline: Any, run_dir: Path
) -> None:
    """Run the probes asked for (--shadowtape-probe) on the targets, URLs or apps."""
    from shadowtape.commands.replay import probe_options as options_of
    from shadowtape.replay.http.inprocess import APP_URL

    probing = options_of(args, options)
    if probing is None:
        return
    from shadowtape.probe import run_probes

    targets = {"candidate": candidate, "baseline": baseline}
    apps = {role: app for role, app in targets.items() if not isinstance(app, str)}
    urls = {role: APP_URL if role in apps else value for role, value in targets.items()}
    run_probes(
        run_dir,
        dataclasses.replace(
            probing, candidate=urls["candidate"], baseline=urls["baseline"], apps=apps
        ),
    )


def _without_server_headers(settings: AnalysisSettings) -> AnalysisSettings:
    """The analysis settings, never comparing the headers a server adds."""
    headers = settings.diff.headers
    policy = dataclasses.replace(
        headers,
        ignore=headers.ignore | set(SERVER_HEADERS),
        compare=headers.compare - set(SERVER_HEADERS),
    )
    return dataclasses.replace(settings, diff=dataclasses.replace(settings.diff, headers=policy))
