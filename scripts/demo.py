"""`make demo`: the whole loop on the bundled shop, in about two minutes.

1. start "production": the shop's dependencies (an inventory upstream, healthy all along,
   and a payment provider), a `shadowtape deps` proxy recording the shop's calls to them,
   and the baseline shop, which reaches its dependencies through that proxy (HTTP_PROXY);
2. record a minute of generated production-shaped traffic through `shadowtape record`, a
   reverse proxy in front of the baseline, as a sidecar would in production; then stop
   production, dependencies included, everything recorded on disk;
3. replay the tape with `shadowtape replay`, which launches the builds itself (candidate,
   baseline and a second baseline, each by its command on a free port, each with its own
   deps proxy answering from the recorded calls: `--deps`), compares their answers and the
   calls they made (the side-effect ledger), then provokes what the traffic never did,
   with every probe on: requests 16 at once (concurrency), each payment and order
   delivered twice (duplicates), sizes x4 and x16 (scale), parameters at their edges
   (shapes), and each dependency failing in turn (faults);
4. print the summary and say where the HTML report is.

Everything started here is stopped on success, on failure and on Ctrl-C.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.demo.processes import (  # noqa: E402
    PROXY_VARIABLES,
    ServiceStartError,
    running,
    spawn,
)
from shadowtape.builds import await_listening  # noqa: E402
from shadowtape.record.supervisor import terminate  # noqa: E402

SECONDS = float(os.environ.get("DEMO_SECONDS", "60"))
SPEED = os.environ.get("DEMO_SPEED", "4")
PROBES = "concurrency,duplicates,scale,shapes,faults"
#: Seconds a child gets to stop on SIGINT before it is killed.
STOP_TIMEOUT = 30.0


def say(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    await_listening(
        process,
        port,
        time.monotonic() + 30,
        exited=lambda code: ServiceStartError(f"{name} exited early (exit {code})"),
        late=lambda: ServiceStartError(f"{name} did not start listening"),
    )


def shadowtape(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowtape", *args]


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGINT (as Ctrl-C would), then wait; killed if it does not stop in time."""
    return terminate(process, signal.SIGINT, STOP_TIMEOUT)


@contextmanager
def child(
    command: Sequence[str], env: Mapping[str, str], *, listen: int | None = None, name: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    """A shadowtape command in its own session (a Ctrl-C reaches it once, from here),
    ready when it listens on ``listen``, always stopped when the block is left."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        if listen is not None:
            wait_for_port(listen, process, name)
        yield process
    finally:
        stop(process)


def finish(process: subprocess.Popen[bytes]) -> int:
    """Wait for a child to end on its own; on Ctrl-C, stop it (and what it started) first."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop(process)
        raise


def build_command(build: str, inventory: str, provider: str) -> str:
    """How `shadowtape replay` starts one build: `{port}` is its free port."""
    return shlex.join(
        [sys.executable, "-m", "fixtures.demo.shop", "--build", build, "--port", "PORT",
         "--upstream", inventory, "--payments", provider]
    ).replace("PORT", "{port}")  # fmt: skip


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # SIGTERM (a CI job cancelled) stops everything the way Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    runs = Path(os.environ.get("DEMO_RUNS_DIR", ROOT / "shadowtape-runs"))
    run = runs / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    tapes, deps_tapes, logs = run / "tapes", run / "deps-tapes", run / "logs"
    logs.mkdir(parents=True)
    # Everything is on loopback: no proxy from the caller's environment. A fixed key for
    # the demo so pseudonyms are stable across its steps; in production it comes from a
    # secret store.
    env = {
        **{k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES},
        "SHADOWTAPE_SANITIZE_KEY": os.environ.get("SHADOWTAPE_SANITIZE_KEY", "demo-key"),
    }
    try:
        with ExitStack() as services:
            say("Starting production: inventory upstream, payment provider, the baseline shop")
            # Production's inventory never failed while it was recorded: only the faults
            # probe can show what a build does when it does.
            inventory = services.enter_context(
                running(spawn("inventory", "--healthy", log=logs / "inventory.log"))
            )
            provider = services.enter_context(running(spawn("provider", log=logs / "provider.log")))
            deps_port = free_port()
            deps = services.enter_context(
                child(
                    shadowtape(
                        "deps", "--mode", "record", "--listen", f"127.0.0.1:{deps_port}",
                        "--tapes", str(deps_tapes), "--name", "shop",
                    ),
                    env,
                    listen=deps_port,
                    name="the dependency recorder",
                )
            )  # fmt: skip
            proxy = f"http://127.0.0.1:{deps_port}"
            baseline = services.enter_context(
                running(
                    spawn(
                        "shop", "--build", "baseline",
                        "--upstream", inventory.url, "--payments", provider.url,
                        log=logs / "production.log",
                        env={"HTTP_PROXY": proxy, "http_proxy": proxy},
                    )
                )
            )  # fmt: skip
            print(f"  {'inventory':<10} {inventory.url}")
            print(f"  {'payments':<10} {provider.url}")
            print(f"  {'baseline':<10} {baseline.url}  (its calls via `shadowtape deps` {proxy})")

            say(f"Recording {SECONDS:.0f} s of production-shaped traffic via `shadowtape record`")
            port = free_port()
            with child(
                shadowtape(
                    "record",
                    "--upstream", baseline.url,
                    "--listen", f"127.0.0.1:{port}",
                    "--tapes", str(tapes),
                    "--source", "shop",
                ),
                env,
                listen=port,
                name="the recorder",
            ) as recorder:  # fmt: skip
                traffic = subprocess.run(
                    [sys.executable, "-m", "fixtures.demo.traffic",
                     "--target", f"http://127.0.0.1:{port}", "--duration", str(SECONDS)],
                    cwd=ROOT,
                    check=False,
                )  # fmt: skip
                recorded = stop(recorder)
            baseline.stop()
            # The replay never reaches them: each build's deps proxy answers from the tape.
            inventory.stop()
            provider.stop()
            if recorded != 0 or traffic.returncode != 0 or stop(deps) != 0:
                print("demo: recording failed; see the messages above", file=sys.stderr)
                return 2

            say("The tape (sanitized: tokens, cookies and e-mails are pseudonyms)")
            subprocess.run(shadowtape("inspect", str(tapes), "--top", "6"), check=True, env=env)
            say("The shop's calls to its dependencies, recorded by `shadowtape deps`")
            subprocess.run(shadowtape("inspect", str(deps_tapes)), check=True, env=env)

            say(
                f"Replaying: `shadowtape replay` launches candidate, baseline and secondary, "
                f"each with a deps proxy mocking its dependencies ({SPEED}x recorded pace), "
                f"then probes ({PROBES})"
            )
            replay = subprocess.Popen(
                shadowtape(
                    "replay", str(tapes),
                    "--candidate-cmd", build_command("candidate", inventory.url, provider.url),
                    "--baseline-cmd", build_command("baseline", inventory.url, provider.url),
                    "--secondary-cmd", build_command("baseline", inventory.url, provider.url),
                    # A deps proxy per build, answering the calls production made from the
                    # recording (the real dependencies are stopped).
                    "--deps", str(deps_tapes),
                    "--speed", SPEED,
                    # Safe here: the demo services are ours and throwaway. Never against
                    # anything that talks to real payment providers.
                    "--allow-mutating",
                    # Then provoke, on the candidate and the baseline alike, what the
                    # traffic did not: overlap, a second delivery, bigger sizes, edges,
                    # failing dependencies.
                    "--probe", PROBES,
                    "--out", str(run / "replay"),
                ),
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )  # fmt: skip
            replayed = finish(replay)
    except ServiceStartError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndemo: interrupted; everything it started is stopped", file=sys.stderr)
        return 130

    report = run / "replay" / "report.html"
    if replayed not in (0, 1) or not report.exists():
        print(f"demo: the replay failed (exit {replayed})", file=sys.stderr)
        return 2
    say("Done")
    verdict = (
        "the gate FAILED, as it should: the candidate carries planted assumption gaps"
        if replayed == 1
        else "the gate passed (it should not have: the candidate carries planted gaps)"
    )
    print(f"  {verdict}")
    print(f"  HTML report: {_shown(report)}")
    print(f"  also: summary.md, junit.xml, report.json in {_shown(report.parent)}/")
    return 0 if replayed == 1 else 1


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
