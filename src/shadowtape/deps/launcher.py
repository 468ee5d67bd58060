"""What ``shadowtape deps`` starts mitmdump with, checked before it starts.

The mode, the fault rules, the listen address and the tapes are checked first (a mistake
is one line and exit 2); in mock mode the recorded calls are read here (``mocks.load``),
so a tape folder without dependency calls fails before a proxy is up. mitmdump runs as a
regular (forward) proxy with ``connection_strategy=lazy``, so it opens a connection to a
dependency only when a call is forwarded: mocks and faults never reach the real host.
Running it is ``record.supervisor``'s, as for ``shadowtape record``.
"""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from shadowtape.deps import control, faults
from shadowtape.deps.mocks import SOURCE_PREFIX, Recorded, dump, load
from shadowtape.deps.modes import DepsMode
from shadowtape.errors import ConfigError
from shadowtape.record.launcher import (
    check_listen,
    check_tapes,
    key_note,
    mitmdump_listening,
    parse_listen,
)
from shadowtape.tape.location import is_uri

#: Beside the tapes, where the proxy keeps its own files (a folder tape readers skip).
STATE = "_deps"
#: The CA certificate clients must trust for HTTPS, in mitmproxy's confdir.
CA_FILE = "mitmproxy-ca-cert.pem"
#: The variables common HTTP clients read a CA bundle from.
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")


@dataclass(frozen=True, slots=True)
class DepsLaunch:
    """A checked ``shadowtape deps``: where it listens, its files, mitmdump's command line."""

    args: argparse.Namespace
    host: str
    port: int
    mode: DepsMode
    name: str
    confdir: str
    calls: str
    rules: tuple[faults.FaultRule, ...]
    #: The ``--faults-file`` (absolute), or "" for none.
    faults_file: str = ""
    recorded: list[Recorded] = field(default_factory=list)
    label: str = "shadowtape deps"

    @property
    def ca_cert(self) -> str:
        return os.path.join(self.confdir, CA_FILE)

    @property
    def source(self) -> str:
        return f"{SOURCE_PREFIX}{self.name}"

    def command(self, stats_file: str) -> list[str]:
        settings = {
            "confdir": self.confdir,
            "connection_strategy": "lazy",
            "termlog_verbosity": "warn",
            "flow_detail": "0",
            "shadowtape_stats_file": stats_file,
            "shadowtape_deps_mode": self.mode.value,
            "shadowtape_deps_name": self.name,
            "shadowtape_deps_calls": self.calls,
        }
        if self.faults_file:
            settings["shadowtape_deps_faults_file"] = self.faults_file
        if self.mode is DepsMode.RECORD:
            settings |= {"shadowtape_tapes": self.args.tapes, "shadowtape_source": self.source}
            if self.args.rules:
                settings["shadowtape_rules"] = self.args.rules
        if self.mode is DepsMode.MOCK:
            mocks = os.path.join(os.path.dirname(stats_file), "mocks.json")
            dump(self.recorded, mocks)
            settings["shadowtape_deps_mocks"] = mocks
        if self.args.upstream_ca:
            settings["ssl_verify_upstream_trusted_ca"] = self.args.upstream_ca
        if self.args.insecure:
            settings["ssl_insecure"] = "true"
        from shadowtape.deps import script

        cmd = [*mitmdump_listening("regular", self.host, self.port), "-s", script.__file__]
        for name, value in settings.items():
            cmd += ["--set", f"{name}={value}"]
        for rule in self.rules:
            cmd += ["--set", f"shadowtape_deps_fault={rule.text}"]
        return cmd

    def banner(self) -> str:
        proxy = f"http://{self.host}:{self.port}"
        what = {
            DepsMode.RECORD: f"recording to {self.args.tapes} as source {self.source!r}, "
            f"sanitized {key_note()}",
            DepsMode.MOCK: f"answering from {len(self.recorded)} recorded calls in "
            f"{self.args.tapes}; real hosts are never contacted",
            DepsMode.PASSTHROUGH: "forwarding",
        }[self.mode]
        faulted = f"; {len(self.rules)} fault rule(s)" if self.rules else ""
        if self.faults_file:
            faulted += f"; fault rules also from {self.faults_file}"
        trust = " ".join(f"{name}={self.ca_cert}" for name in CA_VARIABLES)
        return (
            f"shadowtape deps ({self.mode.value}): proxy on {proxy}; {what}{faulted}; "
            f"calls logged to {self.calls}\n"
            f"  give the service HTTP_PROXY={proxy} HTTPS_PROXY={proxy}\n"
            f"  for HTTPS, have it trust mitmproxy's CA {self.ca_cert}: {trust}\n"
            "  Ctrl-C to stop"
        )


def state_folder(tapes: str) -> str:
    """Where the confdir and calls log go by default: beside local tapes, else here."""
    if is_uri(tapes):
        return os.path.abspath(os.path.join(".shadowtape", "deps"))
    return os.path.abspath(os.path.join(tapes, STATE))


def prepare(args: argparse.Namespace) -> DepsLaunch:
    """Check everything ``args`` asks for; a ConfigError names the first mistake."""
    mode = DepsMode.parse(args.mode)
    rules = faults.parse_all(args.fault)
    host, port = parse_listen(args.listen)
    name = args.name or socket.gethostname()
    recorded = load(args.tapes) if mode is DepsMode.MOCK else []
    check_listen(host, port)
    if mode is DepsMode.RECORD:
        check_tapes(args.tapes)
    state = state_folder(args.tapes)
    confdir = os.path.abspath(args.confdir) if args.confdir else os.path.join(state, "mitmproxy")
    calls = (
        os.path.abspath(args.calls) if args.calls else os.path.join(state, f"{name}.calls.jsonl")
    )
    for folder in (confdir, os.path.dirname(calls)):
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {folder}: {exc.strerror or exc}") from None
    for flag, path in (("--upstream-ca", args.upstream_ca), ("--rules", args.rules)):
        if path and not os.path.isfile(path):
            raise ConfigError(f"{flag} {path}: no such file")
    faults_file = _faults_file(args.faults_file)
    return DepsLaunch(args, host, port, mode, name, confdir, calls, rules, faults_file, recorded)


def _faults_file(given: str) -> str:
    """The ``--faults-file`` as an absolute path; one that exists must already be valid,
    and its folder must exist (the file itself may come later)."""
    if not given:
        return ""
    path = os.path.abspath(given)
    if not os.path.isdir(os.path.dirname(path)):
        raise ConfigError(f"--faults-file {given}: its folder does not exist")
    if os.path.exists(path):
        control.parse_file(path)
    return path
