"""What each probe adds to a replay of the demo tape: run time and requests.

Records BENCH_PROBE_SECONDS (default 20) of demo traffic as ``make demo`` does (the
baseline shop behind ``shadowtape record``, its calls to the inventory and the payment
provider recorded by ``shadowtape deps``), then launches candidate and baseline builds, each
with a deps proxy mocking its dependencies, replays the tape at 4x the recorded pace with
mutating requests allowed, and runs each probe alone on the run folder. The reference is
the replay of the same run: each probe's time is printed beside it, with its requests per
target and what it found.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import orjson

from fixtures.demo.processes import PROXY_VARIABLES, running, spawn
from shadowtape.builds import BuildCommand, launched, plan
from shadowtape.deps.beside import DepsBeside
from shadowtape.probe import run_probes
from shadowtape.probe.options import Probe, ProbeOptions
from shadowtape.replay import read_run, replay
from shadowtape.results.deps import note_deps

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_PROBE_SECONDS", "20"))
SPEED = 4.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _listening(command: list[str], env: Mapping[str, str], port: int) -> Iterator[None]:
    """A shadowtape command listening on ``port``; stopped with SIGINT when left."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[3]} did not start") from None
                time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def _record(tmp: Path, env: dict[str, str]) -> tuple[Path, Path, str, str]:
    """The demo's production, recorded: the tape, the dependency tape, and the inventory's
    and the provider's URLs (stopped afterwards: the replay never reaches them)."""
    tapes, deps_tapes = tmp / "tapes", tmp / "deps-tapes"
    shadowtape = [sys.executable, "-m", "shadowtape"]
    with ExitStack() as stack:
        inventory = stack.enter_context(running(spawn("inventory", "--healthy")))
        provider = stack.enter_context(running(spawn("provider")))
        deps_port = _free_port()
        stack.enter_context(
            _listening(
                [*shadowtape, "deps", "--mode", "record", "--listen", f"127.0.0.1:{deps_port}",
                 "--tapes", str(deps_tapes), "--name", "shop"],
                env, deps_port,
            )
        )  # fmt: skip
        proxy = f"http://127.0.0.1:{deps_port}"
        baseline = stack.enter_context(
            running(
                spawn(
                    "shop", "--build", "baseline", "--upstream", inventory.url,
                    "--payments", provider.url, env={"HTTP_PROXY": proxy, "http_proxy": proxy},
                )
            )
        )  # fmt: skip
        port = _free_port()
        with _listening(
            [*shadowtape, "record", "--upstream", baseline.url, "--listen", f"127.0.0.1:{port}",
             "--tapes", str(tapes), "--source", "shop"],
            env, port,
        ):  # fmt: skip
            subprocess.run(
                [sys.executable, "-m", "fixtures.demo.traffic", "--target",
                 f"http://127.0.0.1:{port}", "--duration", str(SECONDS)],
                cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        return tapes, deps_tapes, inventory.url, provider.url


def _build(build: str, inventory: str, provider: str) -> str:
    return shlex.join(
        [sys.executable, "-m", "fixtures.demo.shop", "--build", build, "--port", "PORT",
         "--upstream", inventory, "--payments", provider]
    ).replace("PORT", "{port}")  # fmt: skip


def main() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES},
        "SHADOWTAPE_SANITIZE_KEY": "bench-key",
    }
    os.environ["SHADOWTAPE_SANITIZE_KEY"] = "bench-key"
    measured: list[tuple[Probe, float, dict[str, object]]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        tapes, deps_tapes, inventory, provider = _record(tmp, env)
        run_dir = tmp / "run"
        builds = plan(
            [
                BuildCommand("candidate", _build("candidate", inventory, provider)),
                BuildCommand("baseline", _build("baseline", inventory, provider)),
            ],
            run_dir,
        )
        beside = DepsBeside(run_dir, tapes=str(deps_tapes))
        with launched(builds, environments=[beside]):
            urls = {b.role: b.url for b in builds}
            started = time.perf_counter()
            replay(
                tapes,
                candidate=urls["candidate"],
                baseline=urls["baseline"],
                speed=SPEED,
                allow_mutating=True,
                out=run_dir,
                progress="off",
            )
            replay_s = time.perf_counter() - started
            note_deps(run_dir, beside.started)
            replayed = read_run(run_dir)["counts"]["replayed"]
            for probe in Probe:
                options = ProbeOptions(
                    probes=(probe,),
                    candidate=urls["candidate"],
                    baseline=urls["baseline"],
                    allow_mutating=True,
                )
                started = time.perf_counter()
                summary = run_probes(run_dir, options)
                seconds = time.perf_counter() - started
                (result,) = orjson.loads(summary.read_bytes())["probes"]
                measured.append((probe, seconds, result))
    print(
        f"demo tape: {SECONDS:.0f} s recorded, {replayed:,} exchanges replayed in {replay_s:.1f} s "
        "(candidate and baseline launched, dependencies mocked)"
    )
    for probe, seconds, result in measured:
        sent: dict[str, int] = result["sent"]  # type: ignore[assignment]
        total = sum(sent.values())
        per = ", ".join(f"{n:,} to the {role}" for role, n in sent.items())
        print(
            f"{probe.value} probe: +{seconds:.1f} s ({seconds / replay_s:.0%} of the replay), "
            f"{result['endpoints']} endpoints, {total:,} requests ({per})"
        )
        findings = result["findings"]
        assert isinstance(findings, list)
        found = sorted({(f["endpoint"], f["kind"]) for f in findings})
        print(f"  findings: {found or 'none'}")


if __name__ == "__main__":
    main()
