"""`shadowtape record`: run mitmdump as a reverse proxy with the Recorder in front of a service.

Everything that can be checked before mitmdump starts is (the upstream URL, the listen
address being free, the tape folder being writable, every option mitmdump and the
recorder will get), so a mistake costs one line and exit 2, not a half-started proxy.
mitmdump runs in its own session: a Ctrl-C reaches only this command, which turns it (and
SIGTERM) into one SIGTERM for mitmdump, waits for the recorder to close every part, and
exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from shadowtape.commands._tapes import check_writable
from shadowtape.errors import ConfigError, ShadowtapeError

NAME = "record"
HELP = "record live traffic: a reverse proxy in front of a service, writing sanitized tapes"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0
PLAIN_EVERY = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the service to proxy to, e.g. http://127.0.0.1:8080",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8081",
        metavar="HOST:PORT",
        help="where clients connect (default 127.0.0.1:8081; a bare PORT means 127.0.0.1)",
    )
    parser.add_argument(
        "--tapes", required=True, metavar="DIR", help="tape folder (created) or filesystem URI"
    )
    parser.add_argument("--source", default="", help="source name (default: this host's name)")
    parser.add_argument("--sample", default="1", help="share of flows to record: 0.1 or 10%%")
    for kind, example in (("host", "*.example.com"), ("path", "^/api/"), ("method", "GET")):
        for verb in ("include", "exclude"):
            parser.add_argument(
                f"--{verb}-{kind}",
                action="append",
                default=[],
                metavar=kind.upper(),
                help=f"{verb} flows by {kind} (e.g. {example}; repeatable)",
            )
    parser.add_argument("--max-body", default="1m", help="decoded bytes kept per body (1m)")
    parser.add_argument("--rules", metavar="FILE", help="extra sanitizing rules (TOML)")
    parser.add_argument("--roll-rows", type=int, default=100_000, help="exchanges per part")
    parser.add_argument("--roll-bytes", default="128m", help="bytes per part (128m)")
    parser.add_argument(
        "--roll-age", type=int, default=60, help="seconds before a part is closed (60)"
    )
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="pass a mitmproxy option through (repeatable; it replaces this command's own "
        "value for that option), e.g. --set keep_host_header=true",
    )


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise ConfigError(f"--listen {text!r}: give HOST:PORT or PORT, with a port from 1 to 65535")
    return host, port


def check_listen(host: str, port: int) -> None:
    """Fail now, in one line, when mitmdump could not listen there."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(f"--listen {host}:{port}: cannot resolve {host} ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            reason = "already in use" if exc.errno == 98 else (exc.strerror or str(exc))
            raise ConfigError(
                f"--listen {host}:{port}: cannot listen there ({reason}); choose another "
                "port or stop what uses it"
            ) from None


def check_upstream(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--upstream {url!r}: give the service's URL, e.g. http://127.0.0.1:8080")
    return url


def check_tapes(tapes: str) -> None:
    """A URI must resolve; a local folder must be one, or be makeable, and writable."""
    if "://" in tapes:
        from shadowtape.tape.location import resolve_root

        resolve_root(tapes)
        return
    check_writable(tapes)


def mitmdump_binary() -> str:
    beside = Path(sys.executable).parent / "mitmdump"
    if beside.exists():
        return str(beside)
    found = shutil.which("mitmdump")
    if not found:
        raise ConfigError("mitmdump is not installed; install mitmproxy (pip install mitmproxy)")
    return found


#: The flag each recorder option comes from, to name it in an error.
FLAGS = {
    "shadowtape_tapes": "--tapes",
    "shadowtape_source": "--source",
    "shadowtape_sample": "--sample",
    "shadowtape_max_body": "--max-body",
    "shadowtape_rules": "--rules",
    "shadowtape_roll_rows": "--roll-rows",
    "shadowtape_roll_bytes": "--roll-bytes",
    "shadowtape_roll_age": "--roll-age",
    **{
        f"shadowtape_{verb}_{kind}": f"--{verb}-{kind}"
        for kind in ("host", "path", "method")
        for verb in ("include", "exclude")
    },
}


def mitmdump_settings(args: argparse.Namespace, stats: str) -> list[str]:
    """The OPTION=VALUE settings mitmdump gets: the flags', then --set's.

    A --set of an option this command sets replaces its value; list options (the
    include and exclude filters) take the values of both.
    """
    options = {
        "shadowtape_tapes": args.tapes,
        "shadowtape_source": args.source,
        "shadowtape_sample": args.sample,
        "shadowtape_max_body": args.max_body,
        "shadowtape_roll_rows": str(args.roll_rows),
        "shadowtape_roll_bytes": args.roll_bytes,
        "shadowtape_roll_age": str(args.roll_age),
        "shadowtape_stats_file": stats,
        "termlog_verbosity": "warn",
        "flow_detail": "0",
    }
    if args.rules:
        options["shadowtape_rules"] = args.rules
    # mitmproxy refuses two values for one option, so a --set replaces this command's own.
    given = {setting.partition("=")[0] for setting in args.extra}
    settings = [f"{name}={value}" for name, value in options.items() if name not in given]
    for kind in ("host", "path", "method"):
        for verb in ("include", "exclude"):
            for value in getattr(args, f"{verb}_{kind}"):
                settings.append(f"shadowtape_{verb}_{kind}={value}")
    return settings + list(args.extra)


def mitmdump_command(args: argparse.Namespace, host: str, port: int, stats: str) -> list[str]:
    from shadowtape import recorder_script

    cmd = [
        mitmdump_binary(),
        "--mode",
        f"reverse:{args.upstream}",
        "--listen-host",
        host,
        "--listen-port",
        str(port),
        "-s",
        recorder_script.__file__,
    ]
    for setting in mitmdump_settings(args, stats):
        cmd += ["--set", setting]
    return cmd


class _Declarations:
    """Stands in for mitmproxy's Loader: takes the options addons declare, nothing else."""

    def __init__(self, opts: Any) -> None:
        self.opts = opts

    def add_option(
        self, name: str, typespec: Any, default: Any, help: str, choices: Any = None
    ) -> None:
        if name not in self.opts:
            self.opts.add_option(name, typespec, default, help, choices)

    def add_command(self, path: str, func: Any) -> None:
        pass


def mitmdump_options() -> Any:
    """mitmdump's options with the Recorder's, declared as mitmdump declares them, unset.

    What ``mitmdump -s SCRIPT --options`` lists, without starting a process; mitmdump
    itself keeps a --set name that nothing declares for later and ignores it.
    """
    from mitmproxy import log, options
    from mitmproxy.addonmanager import traverse
    from mitmproxy.addons import default_addons, dumper, keepserving, readfile

    from shadowtape.recorder import Recorder

    opts = options.Options()
    declarations = _Declarations(opts)
    addons = [
        *default_addons(),  # type: ignore[no-untyped-call]
        dumper.Dumper(),
        keepserving.KeepServing(),
        readfile.ReadFileStdin(),  # type: ignore[no-untyped-call]
        Recorder(),
    ]
    for addon in traverse(addons):  # type: ignore[no-untyped-call]
        if hasattr(addon, "load"):
            addon.load(declarations)
    # mitmdump's TermLog declares this one; making a TermLog here would install a log handler.
    opts.add_option("termlog_verbosity", str, "info", "Log verbosity.", choices=log.LogLevels)
    return opts


#: mitmdump options this command sets from its own flags (or needs for itself): a --set
#: of one would be overridden, or would break the live counts.
_OWNED = {
    "mode": "use --upstream",
    "listen_host": "use --listen HOST:PORT",
    "listen_port": "use --listen HOST:PORT",
    "scripts": "the recorder addon is the script; run mitmdump -s yourself for others",
    "shadowtape_tapes": "use --tapes",
    "shadowtape_stats_file": "the live counts are read from it",
}


def check_options(args: argparse.Namespace) -> None:
    """Refuse now, in one line naming the flag, what mitmdump or the recorder would refuse.

    The values go through mitmproxy's own parsing and then through the recorder's checks
    (``recorder_options``), the code the addon runs at start, so the two cannot disagree.
    """
    from mitmproxy import exceptions

    from shadowtape import recorder_options

    opts = mitmdump_options()
    for setting in args.extra:
        name, equals, _ = setting.partition("=")
        form = "" if equals else "expected OPTION=VALUE, and "
        if name in _OWNED:
            raise ConfigError(f"--set {setting}: this command sets {name} itself; {_OWNED[name]}")
        if name not in opts:
            close = difflib.get_close_matches(name, sorted(opts.keys()), n=1)
            hint = f"did you mean {close[0]}?" if close else "mitmdump --options lists them"
            raise ConfigError(f"--set {setting}: {form}mitmdump has no option {name!r}; {hint}")
        try:
            opts.set(setting)
        except exceptions.OptionsError as exc:
            form = "" if equals else "expected OPTION=VALUE; "
            raise ConfigError(f"--set {setting}: {form}{exc}") from None
    try:
        opts.set(*mitmdump_settings(args, "stats.json"))  # all at once: list options add up
    except exceptions.OptionsError as exc:
        raise ConfigError(str(exc)) from None
    given = {setting.partition("=")[0] for setting in args.extra}

    def flag(option: str) -> str:
        return f"--set {option}" if option in given or option not in FLAGS else FLAGS[option]

    recorder_options.selection(opts, flag)
    recorder_options.limits(opts, flag)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if this command dies, so no proxy is left orphaned."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


#: How mitmdump's log lines start (its termlog), and how it says an error stopped it.
_STAMP = re.compile(r"\[\d\d:\d\d:\d\d\.\d+\] ")
_CLOSING = ("Error logged during startup", "Errors logged during startup")


class _Output:
    """mitmdump's lines, passed through once it has started (a failed start is one line
    of its reason, not its traceback); the last ones are kept to explain a failure."""

    def __init__(self, stream: IO[bytes], write: Any) -> None:
        self.last: deque[str] = deque(maxlen=200)
        self._write = write
        self._held: list[str] | None = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.last.append(line)
                with self._lock:
                    if self._held is not None:
                        self._held.append(line)
                        continue
                self._write(line)

    def release(self) -> None:
        """mitmdump started: show what it said so far, and pass the rest through."""
        with self._lock:
            held, self._held = self._held or [], None
        for line in held:
            self._write(line)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def reason(self) -> str:
        """Why mitmdump stopped, in one line, from what it printed.

        That is its last log line, with the exception a traceback under it ends in, and
        not the "Error logged during startup, exiting..." it closes with.
        """
        lines = [line for line in self.last if line.strip() and not line.startswith(_CLOSING)]
        logged = [i for i, line in enumerate(lines) if _STAMP.match(line)]
        start = logged[-1] + 1 if logged else 0
        ending = next((line for line in reversed(lines[start:]) if line[0] != " "), "")
        if not logged:
            if not ending:
                return "mitmdump exited"
            # mitmdump prints a refused option of its own as "PATH/mitmdump: MESSAGE".
            return ending.split(": ", 1)[-1] if ending.startswith("/") else ending
        message = _STAMP.sub("", lines[logged[-1]], count=1)
        if ending and ending.split(": ", 1)[-1] not in message:
            message = f"{message}: {ending}"
        return message


def _read_stats(path: str) -> dict[str, Any]:
    try:
        with open(path) as handle:
            return dict(json.load(handle))
    except (OSError, ValueError):
        return {}


def _counts(stats: dict[str, Any]) -> str:
    return (
        f"recorded {stats.get('handed', 0)} · on disk {stats.get('written', 0)} in "
        f"{stats.get('parts', 0)} parts · pending {stats.get('queued', 0)} · dropped "
        f"{stats.get('dropped', 0)} · failed {stats.get('failed', 0)}"
    )


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def run(args: argparse.Namespace) -> int:
    upstream = check_upstream(args.upstream)
    host, port = parse_listen(args.listen)
    check_options(args)
    check_listen(host, port)
    check_tapes(args.tapes)
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    with tempfile.TemporaryDirectory(prefix="shadowtape-record-") as scratch:
        stats_file = os.path.join(scratch, "stats.json")
        cmd = mitmdump_command(args, host, port, stats_file)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        output = _Output(proc.stdout, lambda line: console.print(f"mitmdump: {line}", markup=False))  # type: ignore[arg-type]
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            if not _wait_listening(host, port, proc):
                _terminate(proc)
                output.join(5)
                raise ConfigError(f"mitmdump did not start: {output.reason()}")
            output.release()
            source = args.source or socket.gethostname()
            key = (
                "with the key from SHADOWTAPE_SANITIZE_KEY"
                if os.environ.get("SHADOWTAPE_SANITIZE_KEY")
                else "with a random key (set SHADOWTAPE_SANITIZE_KEY for stable pseudonyms)"
            )
            console.print(
                f"shadowtape record: listening on http://{host}:{port} -> {upstream}; "
                f"recording to {args.tapes} as source {source!r}, sanitized {key}; "
                "Ctrl-C to stop",
                markup=False,
            )
            _watch(proc, stop, stats_file, console)
            code = _terminate(proc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if proc.poll() is None:
                _terminate(proc)
        output.join(5)
        stats = _read_stats(stats_file)
        console.print(
            f"shadowtape record: stopped; {_counts(stats)}; tapes in {args.tapes}", markup=False
        )
        if code not in (0, -signal.SIGTERM) and not stop.is_set():
            raise ShadowtapeError(f"mitmdump stopped unexpectedly (exit {code}): {output.reason()}")
    return 0


def _watch(
    proc: subprocess.Popen[bytes], stop: threading.Event, stats_file: str, console: Any
) -> None:
    """Show the counts until a signal or mitmdump's exit: live on a terminal, else plain lines."""
    if console.is_terminal:
        from rich.live import Live

        with Live("", console=console, refresh_per_second=4, transient=True) as live:
            while not stop.wait(0.25) and proc.poll() is None:
                live.update(_counts(_read_stats(stats_file)))
        return
    last = time.monotonic()
    while not stop.wait(0.25) and proc.poll() is None:
        if time.monotonic() - last >= PLAIN_EVERY:
            last = time.monotonic()
            print(f"shadowtape record: {_counts(_read_stats(stats_file))}", flush=True)


def _terminate(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
