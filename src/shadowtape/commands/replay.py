"""`shadowtape replay`: send recorded requests to a candidate (and a baseline), safely."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shadowtape.builds import STARTUP_TIMEOUT, Build, BuildCommand, launched, plan
from shadowtape.commands._selection import (
    add_selection_arguments,
    parse_time,
    selection_filter,
)
from shadowtape.commands.report import add_analysis_arguments, analysis_options
from shadowtape.errors import ConfigError, ReplayError
from shadowtape.report.gate import parse_fail_on
from shadowtape.tape import TapeFilter, parse_statuses

NAME = "replay"
HELP = "replay recorded requests against a candidate (and a baseline) and record the results"

#: ReplayOptions' defaults (a test keeps them equal; importing shadowtape.replay here would
#: slow every command's start) for the flags that choose the pacing. A pace of None is
#: "not chosen" (the recorded gaps, unless a rate replaces them): a config file's or the
#: command line's "recorded" is a choice, and contradicts a rate.
PACING = {"pace": None, "speed": 1.0, "rate": None}
REPEAT_SAMPLE = 0.1
ORDERING = "recorded"
ABORT_AFTER = 20
#: shadowtape.probe's defaults (a test keeps them equal).
PROBE_SAMPLE = 20
PROBE_CONCURRENCY = 16
PROBE_SHAPES = 40
PROBE_SCALE_MAX = 10_000
#: The targets a build can be launched for (--candidate-cmd ...), with their URL's default.
ROLES = ("candidate", "baseline", "secondary")
_URL_DEFAULTS = {"candidate": None, "baseline": "recorded", "secondary": None}

USAGE = (
    "%(prog)s TAPES [TAPES ...] --candidate URL [--baseline recorded|URL] [options]\n"
    "       %(prog)s TAPES [TAPES ...] --candidate-cmd CMD [--baseline-cmd CMD] [options]"
)
EXAMPLES = """
  # A pull request's build against what production answered, as fast as it takes:
  shadowtape replay tapes/ --candidate http://127.0.0.1:8081 --pace asap --limit 5000

  # Against a live baseline (main) and a second one to measure noise, 10x the recorded pace:
  shadowtape replay tapes/ --candidate http://127.0.0.1:8081 \\
      --baseline http://127.0.0.1:8082 --secondary http://127.0.0.1:8083 --speed 10

  # An incident's window only, with a staging credential:
  shadowtape replay tapes/ --candidate http://127.0.0.1:8081 --out incident-run \\
      --since 2026-11-21T09:58Z --until 2026-11-21T10:05Z \\
      --header 'Authorization: Bearer $STAGING_TOKEN'

  # A CI job in one command: launch both builds on free ports, replay, stop them:
  shadowtape replay tapes/ --candidate-cmd './pr-build/serve --port {port}' \\
      --baseline-cmd 'env APP_ENV=ci ./main-build/serve --port {port}' --pace asap
"""


class _Given(argparse.Action):
    """Stores the value (``const`` for a flag with ``nargs=0``) and notes that the flag
    was given on the command line, where a config file's value is only a default."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        namespace._given = {*getattr(namespace, "_given", ()), self.dest}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The targets first: what a replay needs besides its tapes.
    targets = parser.add_argument_group("targets")
    targets.add_argument(
        "--candidate",
        action=_Given,
        metavar="URL",
        help="the build under test, running (or --candidate-cmd)",
    )
    targets.add_argument(
        "--baseline",
        action=_Given,
        default="recorded",
        metavar="recorded|URL",
        help="compare with the recorded responses (default) or a live baseline, sent the "
        "same request at the same moment",
    )
    targets.add_argument(
        "--secondary",
        action=_Given,
        metavar="URL",
        help="a second instance of the baseline build, to measure what varies on its own",
    )
    targets.add_argument(
        "--candidate-cmd",
        action=_Given,
        metavar="CMD",
        help="launch the candidate here instead of naming its URL: a shell command that "
        "serves on {port} (also $PORT), started on a free loopback port before the replay "
        "and stopped, with its children, after it; its output goes to builds/candidate.log "
        "in the run folder",
    )
    for role in ROLES[1:]:
        targets.add_argument(
            f"--{role}-cmd",
            action=_Given,
            metavar="CMD",
            help=f"launch the {role} here, as --candidate-cmd",
        )
    targets.add_argument(
        "--deps",
        metavar="DEPS_TAPES",
        help="with launched builds: each build's outbound calls go through its own deps "
        "proxy (HTTP_PROXY, HTTPS_PROXY and the CA variables set for it), answered from "
        "the dependency calls recorded in DEPS_TAPES ('shadowtape deps --mode record'); "
        "without --deps the proxies pass calls through; calls logs in deps/ of the run "
        "folder",
    )
    targets.add_argument(
        "--build-timeout",
        type=float,
        default=STARTUP_TIMEOUT,
        metavar="S",
        help="seconds a launched build may take to accept connections (default: %(default)s)",
    )
    targets.add_argument(
        "--out",
        metavar="DIR",
        help="the run folder (new or empty); default: a new folder under ./shadowtape-runs/",
    )
    targets.add_argument(
        "--abort-after",
        type=int,
        default=ABORT_AFTER,
        metavar="N",
        help="stop the run (exit 2) when a target answers none of its first N requests "
        "(refused, reset, timed out): it is not running, and judging it would only list "
        "new errors; 0 never stops (default: %(default)s)",
    )
    parser.add_argument(
        "tapes", nargs="+", metavar="TAPES", help="tape files, folders, globs or URIs"
    )
    pacing = parser.add_argument_group("pacing")
    pacing.add_argument(
        "--pace",
        action=_Given,
        default=PACING["pace"],
        choices=("recorded", "asap"),
        help="keep the recorded gaps (default), or send as fast as --concurrency allows",
    )
    pacing.add_argument(
        "--speed",
        action=_Given,
        type=float,
        default=PACING["speed"],
        metavar="X",
        help="divide recorded gaps by X (--pace recorded only)",
    )
    pacing.add_argument(
        "--rate",
        action=_Given,
        type=float,
        default=PACING["rate"],
        metavar="R",
        help="a fixed rate, requests/s, open loop, instead of the recorded gaps "
        "(default: the recorded gaps)",
    )
    pacing.add_argument(
        "--concurrency", type=int, default=64, metavar="N", help="requests in flight at most"
    )
    pacing.add_argument(
        "--ordering",
        default=ORDERING,
        choices=("recorded", "strict", "none"),
        help="requests that share state (session, client, idempotency key) wait for an "
        "earlier one only if it had finished before they started in the recording "
        "(recorded, the default; retries of an idempotency key always wait), for every "
        "earlier one (strict: one at a time), or never (none)",
    )
    pacing.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per request"
    )
    safety = parser.add_argument_group("safety")
    safety.add_argument(
        "--allow-mutating",
        action="store_true",
        help="also send methods other than GET, HEAD and OPTIONS (default: skip them)",
    )
    safety.add_argument(
        "--keep-host",
        action="store_true",
        help="send the recorded Host header instead of the target's (default: the target's)",
    )
    safety.add_argument(
        "--insecure",
        action=_Given,
        nargs=0,
        const=True,
        default=False,
        help="do not verify the TLS certificates of https targets (self-signed staging; "
        "default: verify)",
    )
    safety.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add or replace a header on every request; $VAR expands from the environment",
    )
    safety.add_argument(
        "--traceparent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send a W3C traceparent with a fresh trace id on every request to every target, "
        "in place of the recorded one (its trace flags kept), so the calls a build makes can "
        "be told apart by request (default: on; config: traceparent = false)",
    )
    add_selection_arguments(parser)
    select = parser.add_argument_group("selection, continued")
    select.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another way to write a selection flag: method=, host=, path=, status=, "
        "since=, until=, source=, id= (repeatable)",
    )
    select.add_argument(
        "--shard",
        metavar="I/N",
        help="replay shard I of N; requests that share state stay in one shard "
        "(default: the whole selection)",
    )
    select.add_argument(
        "--repeat-sample",
        action=_Given,
        type=float,
        default=REPEAT_SAMPLE,
        metavar="F",
        help="with the recorded baseline, send this fraction of safe requests to the "
        "candidate twice, to measure noise (default 0.1)",
    )
    probes = parser.add_argument_group("probes")
    probes.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="NAMES",
        help="after the replay, provoke what production has not hit yet on a sample of each "
        "endpoint's requests: concurrency (each request alone, then K at once: a 'race' "
        "when a target answers differently at once), duplicates (each mutating request twice "
        "in a row and twice at once, with --allow-mutating: a 'duplicate_delivery' when the "
        "candidate's second delivery does what the baseline's did not), shapes (one "
        "parameter at a time moved to an edge the recording has not reached: a 'shape' when "
        "the candidate answers unlike the live baseline), "
        "scale (sizes x1, x4, x16: "
        "'superlinear' when the candidate's latency grows faster), faults (each dependency "
        "an endpoint calls failing in turn on both launched builds: 'swallowed_error' when "
        "the candidate answers a success where the baseline reported the failure, "
        "'new_error' when it fails or hangs where the baseline degraded); comma list or "
        "repeated (default: no probes)",
    )
    probes.add_argument(
        "--probe-sample",
        type=int,
        default=PROBE_SAMPLE,
        metavar="N",
        help="probe at most N distinct requests per endpoint (default: %(default)s)",
    )
    probes.add_argument(
        "--probe-concurrency",
        type=int,
        default=PROBE_CONCURRENCY,
        metavar="K",
        help="requests at once in the concurrency probe (default: %(default)s)",
    )
    probes.add_argument(
        "--probe-shapes",
        type=int,
        default=PROBE_SHAPES,
        metavar="N",
        help="at most N mutants per endpoint in the shapes probe (default: %(default)s)",
    )
    probes.add_argument(
        "--probe-scale-max",
        type=int,
        default=PROBE_SCALE_MAX,
        metavar="N",
        help="the largest size (limit, count, body array length) the scale probe asks for "
        "(default: %(default)s)",
    )
    add_analysis_arguments(parser.add_argument_group("report and gate (as shadowtape report)"))  # type: ignore[arg-type]
    output = parser.add_argument_group("output")
    output.add_argument(
        "--progress",
        default="auto",
        choices=("auto", "bar", "lines", "off"),
        help="a bar on a terminal, periodic lines otherwise (default: auto)",
    )


#: --filter KEY -> (the selection flag's dest, whether it repeats)
_FILTER_KEYS = {
    "method": ("method", True),
    "host": ("host", True),
    "path": ("path", False),
    "status": ("status", False),
    "since": ("since", False),
    "until": ("until", False),
    "source": ("source", True),
    "id": ("ids", True),
}


_CONVERT: dict[str, Callable[[str], Any]] = {
    "status": parse_statuses,
    "since": parse_time,
    "until": parse_time,
}


def build_filter(args: argparse.Namespace) -> TapeFilter:
    """The selection flags plus every --filter KEY=VALUE, as one TapeFilter."""
    merged = argparse.Namespace(**vars(args))
    for name in ("method", "host", "source", "ids"):
        setattr(merged, name, list(getattr(args, name)))
    for item in args.filter:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _FILTER_KEYS:
            raise ConfigError(
                f"--filter {item!r} is not KEY=VALUE with KEY one of {', '.join(_FILTER_KEYS)}"
            )
        dest, repeats = _FILTER_KEYS[key]
        if repeats:
            getattr(merged, dest).extend(v.strip() for v in value.split(",") if v.strip())
        elif getattr(merged, dest) is not None:
            raise ConfigError(f"{key} is given twice (flag or --filter); give it once")
        else:
            setattr(merged, dest, _CONVERT.get(dest, str.strip)(value))
    merged.method = [m.upper() for m in merged.method]
    return selection_filter(merged)


def _pacing(args: argparse.Namespace) -> dict[str, Any]:
    """--pace, --speed and --rate as ReplayOptions gets them.

    The three make one choice: given on the command line, they replace a config file's
    pacing as a whole (its speed = 4 does not make --pace asap a contradiction). What is
    left to combine (--pace recorded with --rate, both on the command line or both in
    the file), ReplayOptions checks, wherever it came from."""
    given: set[str] = getattr(args, "_given", set())
    chosen = {name: getattr(args, name) for name in PACING}
    if not given & PACING.keys():
        return chosen
    return {name: chosen[name] if name in given else PACING[name] for name in PACING}


def _repeat_sample(args: argparse.Namespace) -> float:
    """--repeat-sample, less a config file's when the command line names a live baseline
    (which measures noise with --secondary instead)."""
    given: set[str] = getattr(args, "_given", set())
    if "baseline" in given and args.baseline != "recorded" and "repeat_sample" not in given:
        return REPEAT_SAMPLE
    return float(args.repeat_sample)


def _verify_tls(args: argparse.Namespace) -> bool:
    """Not --insecure; but a config file's ``insecure``, meant for the file's own https
    targets, is set aside when the command line names targets none of which is https
    (ReplayOptions refuses --insecure where it would do nothing)."""
    given: set[str] = getattr(args, "_given", set())
    if args.insecure and "insecure" not in given and given & {*ROLES, *_COMMANDS}:
        urls = (args.candidate, args.baseline, args.secondary)
        if not any(url and urlsplit(str(url).strip()).scheme.lower() == "https" for url in urls):
            return True
    return not args.insecure


def sending(args: argparse.Namespace) -> dict[str, Any]:
    """How the flags say to send the requests (which, at what pace, with what safety), as
    ``replay()``'s keyword arguments; the pytest plugin replays with them too."""
    return {
        "concurrency": args.concurrency,
        "ordering": args.ordering,
        "abort_after": args.abort_after,
        "timeout": args.timeout,
        "allow_mutating": args.allow_mutating,
        "keep_host": args.keep_host,
        "headers": args.header,
        "filter": build_filter(args),
        "shard": args.shard,
        "repeat_sample": _repeat_sample(args),
        "verify_tls": _verify_tls(args),
        "traceparent": bool(args.traceparent),
        **_pacing(args),
    }


def _write_reports(run_dir: Path, args: argparse.Namespace) -> int:
    """Analyze the run and write report.json, report.html, junit.xml and summary.md into
    it, with the same analysis flags as `shadowtape report`; the gate's exit code."""
    from rich.console import Console

    from shadowtape.report import write_reports

    # A shard's own report covers that shard only (and says so); the merged report is
    # `shadowtape report` on every shard's folder.
    return int(
        write_reports([run_dir], allow_partial=True, console=Console(), **analysis_options(args))
    )


_COMMANDS = tuple(f"{role}_cmd" for role in ROLES)


def build_commands(args: argparse.Namespace) -> list[BuildCommand]:
    """The builds to launch (--candidate-cmd ...). A target is named once: by its URL or
    by its command; given at different levels, the command line's replaces the config
    file's; a candidate is needed."""
    given: set[str] = getattr(args, "_given", set())
    commands = []
    for role in ROLES:
        url, command = getattr(args, role), getattr(args, f"{role}_cmd")
        if command is None:
            continue
        if role in given or url != _URL_DEFAULTS[role]:
            if (role in given) == (f"{role}_cmd" in given):
                raise ConfigError(
                    f"--{role} {url} and --{role}-cmd both name the {role}: give its URL "
                    "(a running build) or its command (launched here), not both"
                )
            if role in given:
                continue
        setattr(args, role, _URL_DEFAULTS[role])
        commands.append(BuildCommand(role, command))
    if args.candidate is None and not any(c.role == "candidate" for c in commands):
        raise ConfigError(
            "give the candidate: --candidate URL (a running build) or "
            "--candidate-cmd 'CMD ... {port}' (launched here)"
        )
    return commands


def _planned(args: argparse.Namespace) -> list[Build]:
    """The builds to launch, each on its port, their URLs in ``args`` as the targets and
    their logs in the run folder, which is chosen now (``args.out``)."""
    commands = build_commands(args)
    if not commands:
        return []
    from shadowtape.replay import Shard, run_folder

    run_dir = run_folder(args.out, Shard.parse(args.shard) if args.shard else None)
    builds = plan(commands, run_dir)
    for build in builds:
        setattr(args, build.role, build.url)
    args.out = run_dir
    return builds


def run(args: argparse.Namespace) -> int:
    # Check the report's and the probes' flags before a long replay, not after it.
    analysis = analysis_options(args)
    parse_fail_on(args.fail_on)
    builds = _planned(args)
    if args.deps and not builds:
        raise ConfigError(
            f"--deps {args.deps} needs launched builds: give --candidate-cmd (and "
            "--baseline-cmd, --secondary-cmd), so that each gets its own deps proxy"
        )
    probing = probe_options(args, analysis)

    beside = _deps_beside(args) if builds else None
    with launched(builds, timeout=args.build_timeout, environments=[beside] if beside else []):
        try:
            outcome = _replay_and_probe(args, probing, beside)
        finally:
            _note_deps(args.out, beside)
    if isinstance(outcome, int):
        return outcome
    return _write_reports(outcome, args)


def _deps_beside(args: argparse.Namespace) -> Any:
    """A deps proxy beside each launched build (mock over --deps, else passthrough)."""
    from shadowtape.deps.beside import DepsBeside

    return DepsBeside(Path(args.out), tapes=args.deps)


def _note_deps(run_dir: Path, beside: Any) -> None:
    """run.json's ``deps``: the proxies started beside the builds."""
    if beside is not None:
        from shadowtape.results.deps import note_deps

        note_deps(run_dir, beside.started)


def _replay_and_probe(args: argparse.Namespace, probing: Any, beside: Any = None) -> Path | int:
    """The replay, then the probes: the run folder, or the exit code of an interrupted
    run. What needs the targets running; the reports do not."""
    from shadowtape.replay import read_run, replay

    run_dir = replay(
        args.tapes,
        candidate=args.candidate,
        baseline=args.baseline,
        secondary=args.secondary,
        out=args.out,
        progress=args.progress,
        **sending(args),
    )
    _note_deps(run_dir, beside)  # before the probes, which read it
    info = read_run(run_dir)
    counts = info["counts"]
    skipped = ", ".join(f"{n} {reason}" for reason, n in info["skipped"].items())
    print(
        f"shadowtape replay: {counts['replayed']} replayed, {counts['skipped']} skipped"
        f"{f' ({skipped})' if skipped else ''}; results in {run_dir}",
        file=sys.stdout,
        flush=True,
    )
    if info["interrupted"]:
        print(
            f"shadowtape replay: interrupted; the results so far are kept in {run_dir} "
            f"('shadowtape report {run_dir} --allow-partial' reports them)",
            file=sys.stderr,
        )
        return 130
    nothing = _nothing_to_judge(info, args)
    if nothing is not None:
        raise ReplayError(nothing)
    if probing is not None:
        from shadowtape.probe import run_probes

        run_probes(run_dir, probing)
    return run_dir


def probe_options(args: argparse.Namespace, analysis: dict[str, Any]) -> Any:
    """The probes' options from --probe and its flags (None without --probe), checked."""
    from shadowtape.probe.options import ProbeOptions, parse_probes

    probes = parse_probes(args.probe)
    if not probes:
        return None
    from shadowtape.diff.templating import load_openapi, load_routes
    from shadowtape.replay.rules.targets import parse_header

    routes = [*load_routes(args.routes)] if args.routes else []
    if args.openapi:
        routes.extend(load_openapi(args.openapi))
    return ProbeOptions(
        probes=probes,
        candidate=args.candidate,
        baseline=args.baseline,
        sample=args.probe_sample,
        concurrency=args.probe_concurrency,
        shapes=args.probe_shapes,
        scale_max=args.probe_scale_max,
        timeout=args.timeout,
        allow_mutating=args.allow_mutating,
        keep_host=args.keep_host,
        headers=tuple(parse_header(h) for h in args.header),
        verify_tls=_verify_tls(args),
        traceparent=bool(args.traceparent),
        routes=tuple(routes),
        diff=analysis["settings"].diff,
    )


def _nothing_to_judge(info: dict[str, Any], args: argparse.Namespace) -> str | None:
    """Why a run that sent nothing has no verdict: a gate that fails "0 of 0 endpoints"
    would block a pull request for the wrong reason. A shard of a small selection may
    be empty; its merged report is what judges."""
    counts, skipped = info["counts"], info["skipped"]
    if counts["selected"] == 0 and not args.shard:
        return (
            "the selection matched no exchanges; 'shadowtape inspect TAPES' with the same "
            "selection flags shows what the tapes hold"
        )
    mutating = skipped.get("mutating", 0)
    if counts["replayed"] == 0 and 0 < mutating == counts["selected"]:
        return (
            f"every selected request ({mutating}) is mutating (not GET, HEAD or OPTIONS) and "
            "was not sent; add --allow-mutating to send them, against a build whose side "
            "effects are safe"
        )
    return None
