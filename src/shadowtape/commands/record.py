"""`shadowtape record`: run mitmdump as a reverse proxy with the Recorder in front of a service.

Only the command line lives here: the recorder's own flags come from its option table
(``record.options``), what mitmdump is started with and the checks before it from
``record.launcher``, and running it from ``record.supervisor``.
"""

from __future__ import annotations

import argparse

from shadowtape.record import options

NAME = "record"
HELP = "record live traffic: a reverse proxy in front of a service, writing sanitized tapes"

EXAMPLES = """
  # In front of a service on :8080, clients connect to :8081, tapes under ./tapes:
  SHADOWTAPE_SANITIZE_KEY=... shadowtape record --upstream http://127.0.0.1:8080 \\
      --listen 8081 --tapes tapes/

  # Keep one exchange in ten, straight into object storage:
  shadowtape record --upstream http://127.0.0.1:8080 --tapes s3://acme-tapes/api/ --sample 10%
"""


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
    options.add_flags(parser)
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="pass a mitmproxy option through (repeatable; it replaces this command's own "
        "value for that option), e.g. --set keep_host_header=true",
    )


def run(args: argparse.Namespace) -> int:
    from shadowtape.record.launcher import prepare
    from shadowtape.record.supervisor import supervise

    return supervise(prepare(args))
