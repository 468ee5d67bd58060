"""What ``--probe concurrency`` adds to a replay of the demo tape: run time and requests.

Starts the demo stack, records BENCH_PROBE_SECONDS (default 20) of demo traffic through
``shadowtape record``, replays it as ``make demo`` does (candidate and live baseline, 4x the
recorded pace, mutating requests allowed), then runs the concurrency probe on the run
folder, and prints both times and the probe's request counts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from fixtures.demo.processes import demo_stack
from shadowtape.probe import run_probes
from shadowtape.probe.options import Probe, ProbeOptions
from shadowtape.replay import read_run, replay

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_PROBE_SECONDS", "20"))
SPEED = 4.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _record(upstream: str, tapes: Path, env: dict[str, str]) -> None:
    port = _free_port()
    recorder = subprocess.Popen(
        [sys.executable, "-m", "shadowtape", "record", "--upstream", upstream,
         "--listen", f"127.0.0.1:{port}", "--tapes", str(tapes), "--source", "shop"],
        env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or recorder.poll() is not None:
                    raise RuntimeError("the recorder did not start") from None
                time.sleep(0.1)
        subprocess.run(
            [sys.executable, "-m", "fixtures.demo.traffic", "--target",
             f"http://127.0.0.1:{port}", "--duration", str(SECONDS)],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(30)


def main() -> None:
    env = {**os.environ, "SHADOWTAPE_SANITIZE_KEY": "bench-key"}
    with tempfile.TemporaryDirectory() as tmp, demo_stack() as stack:
        tapes = Path(tmp) / "tapes"
        _record(stack.baseline.url, tapes, env)
        started = time.perf_counter()
        run_dir = replay(
            tapes,
            candidate=stack.candidate.url,
            baseline=stack.baseline.url,
            speed=SPEED,
            allow_mutating=True,
            out=Path(tmp) / "run",
            progress="off",
        )
        replay_s = time.perf_counter() - started
        replayed = read_run(run_dir)["counts"]["replayed"]
        options = ProbeOptions(
            probes=(Probe.CONCURRENCY,),
            candidate=stack.candidate.url,
            baseline=stack.baseline.url,
            allow_mutating=True,
        )
        started = time.perf_counter()
        summary = run_probes(run_dir, options)
        probe_s = time.perf_counter() - started
        (probe,) = orjson.loads(summary.read_bytes())["probes"]
    sent = probe["sent"]
    total = sum(sent.values())
    print(
        f"demo tape: {SECONDS:.0f} s recorded, {replayed:,} exchanges replayed in {replay_s:.1f} s"
    )
    print(
        f"concurrency probe: +{probe_s:.1f} s ({probe_s / replay_s:.0%} of the replay), "
        f"{probe['endpoints']} endpoints, {total:,} requests "
        f"({', '.join(f'{n:,} to the {role}' for role, n in sent.items())}), "
        f"{total / probe_s:,.0f} requests/s"
    )
    races = sorted({(f["endpoint"], f["target"]) for f in probe["findings"]})
    print(f"findings: {races or 'none'}")


if __name__ == "__main__":
    main()
