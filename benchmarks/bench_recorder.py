"""The recorder's cost to the traffic it records: mitmdump + addon versus mitmdump alone.

nginx serves a 2 KB JSON file; wrk drives a reverse-proxying mitmdump at saturation with a
fixed number of connections. All proxies run at once and
wrk alternates between them (mitmdump alone, then with the addon and its worker process;
with BENCH_THREAD=1 also with its worker thread), several short rounds each. Each round's
ratios pair runs seconds apart, so outside load hits both sides alike; the medians over
rounds are printed: throughput ratio and p99 latency ratio against mitmdump alone, the
ratio of the proxy's CPU per flow (the most stable figure on a shared machine), the
addon's in-hook cost per flow, and the worker's CPU per flow.

Run: .venv/bin/python -m benchmarks recorder   (env BENCH_ROUNDS, BENCH_SECONDS, BENCH_THREAD)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.loopback import free_port, wait_listening
from benchmarks.nginx import serve_json
from shadowtape.record.launcher import mitmdump_listening

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "src" / "shadowtape" / "record" / "script.py"
GC_PROBE = Path(__file__).resolve().parent / "recorder_gc_probe.py"
CONNECTIONS = 16
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
#: The worker-thread variant is the design alternative, measured on demand (BENCH_THREAD=1).
VARIANTS = (
    ("alone", "process", "thread") if os.environ.get("BENCH_THREAD") else ("alone", "process")
)
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    rps: float
    p99_ms: float
    proxy_cpu_ms: float
    worker_cpu_ms: float
    #: CPU of the proxy's threads other than its event loop (the addon's sender thread).
    side_threads_us: float
    #: Time the garbage collector ran on the proxy's loop, per flow.
    gc_us: float


def _cpu_seconds(pid: int, task: str | None = None) -> float:
    """User + system CPU of one process (or one of its threads), from /proc."""
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _side_threads(pid: int) -> dict[str, float]:
    """CPU seconds of every thread of ``pid`` except the main one (the event loop)."""
    try:
        tasks = [t.name for t in Path(f"/proc/{pid}/task").iterdir() if t.name != str(pid)]
    except OSError:
        return {}
    return {t: _cpu_seconds(pid, t) for t in tasks}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _wrk(url: str, seconds: int) -> tuple[float, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The latency distribution's line, not a "+/- Stdev" column that happens to end in 99%.
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"  wrk reported errors: {errors.group(0)}", file=sys.stderr)
    return rps, p99


@dataclass
class Running:
    variant: str
    proc: subprocess.Popen[bytes]
    url: str
    stats_file: Path
    gc_file: Path


def _start(variant: str, upstream: str, path: str, tmp: Path) -> Running:
    port = free_port()
    cmd = [*mitmdump_listening(f"reverse:{upstream}", "127.0.0.1", port), "-q"]
    stats_file = tmp / f"stats-{variant}.json"
    gc_file = tmp / f"gc-{variant}.json"
    cmd += ["-s", str(GC_PROBE)]
    if variant != "alone":
        cmd += [
            "-s",
            str(SCRIPT),
            "--set",
            f"shadowtape_tapes={tmp / f'tapes-{variant}'}",
            "--set",
            f"shadowtape_worker={variant}",
            "--set",
            f"shadowtape_stats_file={stats_file}",
        ]
    env = dict(os.environ, SHADOWTAPE_SANITIZE_KEY="bench-key", BENCH_GC_PROBE=str(gc_file))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    wait_listening(port, proc, "mitmdump", timeout=20)
    return Running(variant, proc, f"http://127.0.0.1:{port}{path}", stats_file, gc_file)


def _measure(run: Running) -> Sample:
    workers = _children(run.proc.pid)
    cpu0 = _cpu_seconds(run.proc.pid)
    wcpu0 = sum(_cpu_seconds(w) for w in workers)
    side0 = _side_threads(run.proc.pid)
    gc0 = _stats(run.gc_file)
    rps, p99 = _wrk(run.url, SECONDS)
    time.sleep(1.1)  # the probe writes once a second
    gc1 = _stats(run.gc_file)
    gc_flows = gc1.get("flows", 0) - gc0.get("flows", 0)
    gc_us = (gc1.get("gc_s", 0) - gc0.get("gc_s", 0)) / gc_flows * 1e6 if gc_flows else 0.0
    cpu = _cpu_seconds(run.proc.pid) - cpu0
    wcpu = sum(_cpu_seconds(w) for w in workers) - wcpu0
    side = sum(c - side0.get(t, 0.0) for t, c in _side_threads(run.proc.pid).items())
    flows = rps * SECONDS or 1.0
    return Sample(rps, p99, cpu / flows * 1e3, wcpu / flows * 1e3, side / flows * 1e6, gc_us)


def _stop(run: Running) -> dict[str, float]:
    run.proc.send_signal(signal.SIGTERM)
    try:
        run.proc.wait(60)
    except subprocess.TimeoutExpired:
        run.proc.kill()
        run.proc.wait()
    return _stats(run.stats_file)


def _stats(path: Path) -> dict[str, float]:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {}


def _hook_microbenchmark() -> float:
    """The hooks alone, in this process: microseconds per flow for a 2 KB JSON exchange."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mitmproxy.test import taddons, tflow

    from benchmarks.nginx import two_kb_json
    from shadowtape.record.addon import Recorder

    recorder = Recorder()
    flows = []
    for _ in range(2000):
        f = tflow.tflow(resp=True)
        f.request.headers["user-agent"] = "wrk"
        f.response.headers["content-type"] = "application/json"  # type: ignore[union-attr]
        f.response.content = two_kb_json()  # type: ignore[union-attr]
        flows.append(f)
    with tempfile.TemporaryDirectory() as tmp, taddons.context(recorder) as tctx:
        tctx.configure(recorder, shadowtape_tapes=tmp, shadowtape_queue=1_000_000)
        best = float("inf")
        for _ in range(5):
            for f in flows:
                f.metadata.clear()
            started = time.perf_counter()
            for f in flows:
                recorder.requestheaders(f)
                recorder.responseheaders(f)
                recorder.response(f)
            best = min(best, (time.perf_counter() - started) / len(flows))
            time.sleep(0.2)
        recorder.done()
    return best * 1e6


def _load() -> float:
    return os.getloadavg()[0]


def _ratio_line(name: str, values: list[float], target: str) -> str:
    return (
        f"{name} {statistics.median(values):.3f} (rounds {min(values):.3f}..{max(values):.3f}; "
        f"target {target})"
    )


def main() -> None:
    if not shutil.which("wrk"):
        print("wrk is not installed: run scripts/bench-deps (make bench does)")
        return
    hook_us = _hook_microbenchmark()
    print(f"in-hook cost, measured alone in this process: {hook_us:.1f} us per flow", flush=True)
    results: dict[str, list[Sample]] = {v: [] for v in VARIANTS}
    final: dict[str, dict[str, float]] = {}
    load_before = _load()
    with serve_json(workers=1) as nginx, tempfile.TemporaryDirectory() as tmp:
        runs: list[Running] = []
        try:
            for variant in VARIANTS:
                runs.append(_start(variant, nginx.url, nginx.path, Path(tmp)))
            for run in runs:
                _wrk(run.url, 1)  # warm up: connections, caches, the worker's imports
            for round_no in range(ROUNDS):
                order = runs if round_no % 2 == 0 else list(reversed(runs))
                for run in order:
                    sample = _measure(run)
                    results[run.variant].append(sample)
                    print(
                        f"round {round_no + 1} {run.variant:>7}: {sample.rps:6.0f} req/s  "
                        f"p99 {sample.p99_ms:7.2f} ms  proxy CPU {sample.proxy_cpu_ms:.3f} "
                        f"ms/flow  side threads {sample.side_threads_us:5.1f} us/flow  "
                        f"GC {sample.gc_us:5.1f} us/flow  "
                        f"worker CPU {sample.worker_cpu_ms:.3f} ms/flow",
                        flush=True,
                    )
        finally:
            for run in runs:
                final[run.variant] = _stop(run)
    alone = results["alone"]
    base_cpu = statistics.median(s.proxy_cpu_ms for s in alone)
    print(
        f"mitmdump alone: {statistics.median(s.rps for s in alone):.0f} req/s "
        f"(rounds {min(s.rps for s in alone):.0f}..{max(s.rps for s in alone):.0f}), p99 "
        f"{statistics.median(s.p99_ms for s in alone):.2f} ms, {base_cpu:.3f} ms CPU/flow; "
        f"load average {load_before:.1f} -> {_load():.1f} on {os.cpu_count()} cores"
    )
    base_side = statistics.median(s.side_threads_us for s in alone)
    for variant in VARIANTS[1:]:
        samples = results[variant]
        # Paired per round: both sides ran seconds apart, under about the same outside load.
        rps = [s.rps / a.rps for s, a in zip(samples, alone, strict=True)]
        p99 = [s.p99_ms / a.p99_ms for s, a in zip(samples, alone, strict=True)]
        cpu = [a.proxy_cpu_ms / s.proxy_cpu_ms for s, a in zip(samples, alone, strict=True)]
        stats = final.get(variant, {})
        in_hook = float(stats.get("hook_us", 0.0))
        side = statistics.median(s.side_threads_us for s in samples) - base_side
        sender = float(stats.get("sender_us", 0.0))
        # The addon's own CPU in the proxy process, each part measured directly (so not
        # drowned by other processes' noise): the hook plus the side threads.
        direct = base_cpu * 1000 / (base_cpu * 1000 + in_hook + max(side, sender, 0.0))
        print(f"addon, {variant} worker:")
        print("  " + _ratio_line("throughput ratio", rps, ">= 0.95"))
        print("  " + _ratio_line("p99 latency ratio", p99, "<= 1.10"))
        print("  " + _ratio_line("proxy CPU-per-flow ratio (alone / addon)", cpu, ">= 0.95"))
        print(
            f"  in-hook cost {in_hook:.1f} us/flow (mean inside mitmdump; "
            f"{hook_us:.1f} us in isolation); side threads {side:.1f} us/flow (sender "
            f"thread {sender:.1f} us/flow by its own clock); "
            f"throughput ratio implied by these direct costs {direct:.3f}"
        )
        gc_delta = statistics.median(s.gc_us for s in samples) - statistics.median(
            a.gc_us for a in alone
        )
        print(f"  garbage collection on the loop: {gc_delta:+.1f} us/flow versus alone")
        print(
            f"  worker process CPU {statistics.median(s.worker_cpu_ms for s in samples):.3f} "
            f"ms/flow; written {stats.get('written', 0):.0f}, dropped "
            f"{stats.get('dropped', 0):.0f}, failed {stats.get('failed', 0):.0f} of "
            f"{stats.get('seen', 0):.0f}"
        )


if __name__ == "__main__":
    main()
