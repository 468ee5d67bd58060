"""What ``shadowtape record`` starts mitmdump with, checked before it starts.

Everything that can be checked before mitmdump starts is (the upstream URL, the listen
address being free, the tape folder being writable, every option mitmdump and the
recorder will get), so a mistake costs one line and exit 2, not a half-started proxy.
The options are checked by mitmproxy's own parsing and then by the recorder's
(``values.selection`` and ``values.limits``, the code the addon runs at start), so the
command and the addon cannot disagree.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from shadowtape.errors import ConfigError
from shadowtape.record import options, values
from shadowtape.tape.location import check_writable


@dataclass(frozen=True, slots=True)
class Launch:
    """A checked ``shadowtape record``: where it listens, and mitmdump's command line."""

    args: argparse.Namespace
    host: str
    port: int
    label: str = "shadowtape record"

    def command(self, stats_file: str) -> list[str]:
        return mitmdump_command(self.args, self.host, self.port, stats_file)

    def banner(self) -> str:
        source = self.args.source or socket.gethostname()
        return (
            f"shadowtape record: listening on http://{self.host}:{self.port} -> "
            f"{self.args.upstream}; recording to {self.args.tapes} as source {source!r}, "
            f"sanitized {key_note()}; Ctrl-C to stop"
        )


def key_note() -> str:
    """How pseudonyms are keyed, for the line a recording command starts with."""
    if os.environ.get("SHADOWTAPE_SANITIZE_KEY"):
        return "with the key from SHADOWTAPE_SANITIZE_KEY"
    return "with a random key (set SHADOWTAPE_SANITIZE_KEY for stable pseudonyms)"


def prepare(args: argparse.Namespace) -> Launch:
    """Check everything ``args`` asks for; a ConfigError names the first mistake."""
    check_upstream(args.upstream)
    host, port = parse_listen(args.listen)
    check_options(args)
    check_listen(host, port)
    check_tapes(args.tapes)
    return Launch(args, host, port)


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


def mitmdump_settings(args: argparse.Namespace, stats: str) -> list[str]:
    """The OPTION=VALUE settings mitmdump gets: the flags', then --set's.

    A --set of an option this command sets replaces its value; list options (the
    include and exclude filters) take the values of both.
    """
    # mitmproxy refuses two values for one option, so a --set replaces this command's own.
    given = {setting.partition("=")[0] for setting in args.extra}
    own = {"shadowtape_stats_file": stats, "termlog_verbosity": "warn", "flow_detail": "0"}
    return [
        *options.settings(args, given),
        *(f"{name}={value}" for name, value in own.items() if name not in given),
        *args.extra,
    ]


def mitmdump_listening(mode: str, host: str, port: int) -> list[str]:
    """mitmdump in ``mode`` (``reverse:URL``, ``regular``) on host:port, before its addons
    and settings: the recorder's, the deps proxy's and the tests' and benchmarks' alike."""
    return [mitmdump_binary(), "--mode", mode, "--listen-host", host, "--listen-port", str(port)]


def mitmdump_command(args: argparse.Namespace, host: str, port: int, stats: str) -> list[str]:
    from shadowtape.record import script

    cmd = [*mitmdump_listening(f"reverse:{args.upstream}", host, port), "-s", script.__file__]
    for setting in mitmdump_settings(args, stats):
        cmd += ["--set", setting]
    return cmd


def mitmdump_options() -> Any:
    """mitmdump's options with the Recorder's, declared as mitmdump declares them, unset.

    What ``mitmdump -s SCRIPT --options`` lists, without starting a process: the addons
    mitmdump loads (its DumpMaster's, but ErrorCheck, which declares none and installs a
    log handler) declare their options through mitmproxy's own Loader. mitmdump itself
    keeps a --set name that nothing declares for later and ignores it.
    """
    from mitmproxy import log
    from mitmproxy.addonmanager import Loader, traverse
    from mitmproxy.addons import default_addons, dumper, keepserving, readfile
    from mitmproxy.options import Options

    from shadowtape.record.addon import Recorder

    opts = Options()
    # The Loader's master, reduced to what declaring needs: the options (commands are not).
    master = SimpleNamespace(options=opts, commands=SimpleNamespace(add=lambda *_: None))
    loader = Loader(master)  # type: ignore[no-untyped-call]
    addons = [
        *default_addons(),  # type: ignore[no-untyped-call]
        dumper.Dumper(),
        keepserving.KeepServing(),
        readfile.ReadFileStdin(),  # type: ignore[no-untyped-call]
        Recorder(),
    ]
    for addon in traverse(addons):  # type: ignore[no-untyped-call]
        if hasattr(addon, "load"):
            addon.load(loader)
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
    """Refuse now, in one line naming the flag, what mitmdump or the recorder would refuse."""
    from mitmproxy import exceptions

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
    flags = options.FLAGS

    def flag(option: str) -> str:
        return f"--set {option}" if option in given or option not in flags else flags[option]

    values.selection(opts, flag)
    values.limits(opts, flag)
