"""`shadowtape deps`: a forward proxy for a service's outbound calls: record, mock, passthrough.

Only the command line lives here: what the proxy does is ``deps.addon``, what mitmdump is
started with and the checks before it ``deps.launcher``, and running it
``record.supervisor`` (shared with ``shadowtape record``).
"""

from __future__ import annotations

import argparse

NAME = "deps"
HELP = "record, mock or pass through a service's outbound calls, with injected faults"

EXAMPLES = """
  # Record the calls a service makes (it gets HTTP_PROXY/HTTPS_PROXY=http://127.0.0.1:8090):
  shadowtape deps --listen 127.0.0.1:8090 --tapes deps-tapes/ --mode record --name shop

  # Answer them from the recording, the real dependencies untouched:
  shadowtape deps --listen 127.0.0.1:8090 --tapes deps-tapes/ --mode mock

  # Forward, but make the inventory service fail half the time:
  shadowtape deps --listen 8090 --tapes deps-tapes/ --mode passthrough \\
      --fault 'host=inventory.internal,status=503,rate=0.5'
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8090",
        metavar="HOST:PORT",
        help="where the service's proxy variables point (default 127.0.0.1:8090)",
    )
    parser.add_argument(
        "--tapes",
        required=True,
        metavar="DIR",
        help="dependency tapes: written in record mode, read in mock mode",
    )
    parser.add_argument(
        "--mode",
        default="passthrough",
        metavar="MODE",
        help="record, mock or passthrough (default passthrough)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="RULE",
        help="inject a fault, e.g. 'host=inventory.internal,status=503' (or timeout, "
        "reset, delay=2s; with rate=0.5 or paths=/api/*); repeatable",
    )
    parser.add_argument(
        "--faults-file",
        default="",
        metavar="PATH",
        help="more fault rules, a JSON list of --fault rules re-read whenever the file "
        "changes (missing: none); e.g. written with shadowtape.deps.control.write_faults",
    )
    parser.add_argument(
        "--name",
        default="",
        metavar="NAME",
        help="recorded as source deps:NAME and in the calls log (default: this host's name)",
    )
    parser.add_argument(
        "--confdir",
        default="",
        metavar="DIR",
        help="mitmproxy's folder, with the CA clients trust (default TAPES/_deps/mitmproxy)",
    )
    parser.add_argument(
        "--calls",
        default="",
        metavar="FILE",
        help="the calls log, one JSON line per call (default TAPES/_deps/NAME.calls.jsonl)",
    )
    parser.add_argument(
        "--rules", default="", metavar="FILE", help="extra sanitizing rules (TOML), record mode"
    )
    parser.add_argument(
        "--upstream-ca",
        default="",
        metavar="FILE",
        help="CA bundle that dependencies' certificates are verified against",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify dependencies' certificates",
    )


def run(args: argparse.Namespace) -> int:
    from shadowtape.deps.launcher import prepare
    from shadowtape.record.supervisor import supervise

    return supervise(prepare(args))
