"""`make demo`: the whole loop on the bundled shop, in about two minutes.

1. start the demo services: a flaky inventory upstream, the baseline shop twice
   (baseline and secondary) and the candidate shop, which carries planted assumption gaps;
2. record a minute of generated production-shaped traffic through `shadowtape record`,
   a reverse proxy in front of the baseline, as a sidecar would in production;
3. replay the tape against baseline, secondary and candidate side by side, then provoke
   what the recorded traffic never did, with every probe on: requests 16 at once
   (concurrency), each payment and order delivered twice (duplicates), sizes x4 and x16
   (scale), parameters at their edges (shapes);
4. print the summary and say where the HTML report is.

Everything started here is stopped on success, on failure and on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.demo.processes import ServiceStartError, demo_stack  # noqa: E402

SECONDS = float(os.environ.get("DEMO_SECONDS", "60"))
SPEED = os.environ.get("DEMO_SPEED", "4")


def say(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the recorder exited early (exit {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the recorder did not start listening") from None
            time.sleep(0.1)


def shadowtape(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowtape", *args]


def main() -> int:
    runs = Path(os.environ.get("DEMO_RUNS_DIR", ROOT / "shadowtape-runs"))
    run = runs / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    tapes = run / "tapes"
    (run / "logs").mkdir(parents=True)
    # A fixed key for the demo so pseudonyms are stable across its steps; in production
    # it comes from a secret store.
    env = {
        **os.environ,
        "SHADOWTAPE_SANITIZE_KEY": os.environ.get("SHADOWTAPE_SANITIZE_KEY", "demo-key"),
    }
    recorder: subprocess.Popen[bytes] | None = None
    try:
        say("Starting the demo shop: inventory upstream, baseline x2, candidate")
        with demo_stack(log_dir=run / "logs") as stack:
            for name in ("inventory", "baseline", "secondary", "candidate"):
                print(f"  {name:<10} {getattr(stack, name).url}")

            say(f"Recording {SECONDS:.0f} s of production-shaped traffic via `shadowtape record`")
            port = free_port()
            recorder = subprocess.Popen(
                shadowtape(
                    "record",
                    "--upstream", stack.baseline.url,
                    "--listen", f"127.0.0.1:{port}",
                    "--tapes", str(tapes),
                    "--source", "shop",
                ),
                env=env,
            )  # fmt: skip
            wait_for_port(port, recorder)
            traffic = subprocess.run(
                [sys.executable, "-m", "fixtures.demo.traffic",
                 "--target", f"http://127.0.0.1:{port}", "--duration", str(SECONDS)],
                cwd=ROOT,
                check=False,
            )  # fmt: skip
            recorder.send_signal(signal.SIGINT)
            if recorder.wait(30) != 0 or traffic.returncode != 0:
                print("demo: recording failed; see the messages above", file=sys.stderr)
                return 2
            recorder = None

            say("The tape (sanitized: tokens, cookies and e-mails are pseudonyms)")
            subprocess.run(shadowtape("inspect", str(tapes), "--top", "6"), check=True, env=env)

            say(f"Replaying against baseline, secondary and candidate ({SPEED}x recorded pace)")
            replay = subprocess.run(
                shadowtape(
                    "replay", str(tapes),
                    "--candidate", stack.candidate.url,
                    "--baseline", stack.baseline.url,
                    "--secondary", stack.secondary.url,
                    "--speed", SPEED,
                    # Safe here: the demo services are ours and throwaway. Never against
                    # anything that talks to real payment providers.
                    "--allow-mutating",
                    # Then provoke, on the candidate and the baseline alike, what the
                    # traffic did not: overlap, a second delivery, bigger sizes, edges.
                    "--probe", "concurrency,duplicates,scale,shapes",
                    "--out", str(run / "replay"),
                ),
                env=env,
                check=False,
            )  # fmt: skip
    except ServiceStartError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndemo: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        if recorder is not None and recorder.poll() is None:
            recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(15)
            except subprocess.TimeoutExpired:
                recorder.kill()

    report = run / "replay" / "report.html"
    if replay.returncode not in (0, 1) or not report.exists():
        print(f"demo: the replay failed (exit {replay.returncode})", file=sys.stderr)
        return 2
    say("Done")
    verdict = (
        "the gate FAILED, as it should: the candidate carries planted assumption gaps"
        if replay.returncode == 1
        else "the gate passed (it should not have: the candidate carries planted gaps)"
    )
    print(f"  {verdict}")
    print(f"  HTML report: {_shown(report)}")
    print(f"  also: summary.md, junit.xml, report.json in {_shown(report.parent)}/")
    return 0 if replay.returncode == 1 else 1


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
