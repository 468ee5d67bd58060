"""Whether run folders make a whole picture before they are analyzed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shadowtape.results.reader import rows_in


def incomplete(
    run_dirs: Sequence[Path], runs: Sequence[dict[str, object]]
) -> tuple[list[str], list[int]]:
    """What makes these runs a partial picture, one sentence each (empty when whole), and
    the positions of the runs to read: a run or shard given twice is read once.

    Checked before anything is analyzed: a killed replay, a failed or stopped one, lost
    parts, a run given twice or a shard missing would otherwise read as a smaller run
    that passed (or a doubled one).
    """
    problems: list[str] = []
    keep: list[int] = []
    seen: dict[str, Path] = {}
    shards: dict[int, set[int]] = {}
    for position, (run_dir, run) in enumerate(zip(run_dirs, runs, strict=True)):
        run_id = str(run.get("run_id") or run_dir.resolve())
        if run_id in seen:
            problems.append(f"{run_dir} is the same run as {seen[run_id]} (given twice)")
            continue
        seen[run_id] = run_dir
        shard = str(run.get("shard") or "")
        index, _, count = shard.partition("/")
        if index.isdigit() and count.isdigit():
            taken = shards.setdefault(int(count), set())
            if int(index) in taken:
                problems.append(f"shard {shard} is given twice ({run_dir} is left out)")
                continue
            taken.add(int(index))
        keep.append(position)
        if "finished_at" in run and run["finished_at"] is None:
            problems.append(f"{run_dir} did not finish (the replay was killed, or still runs)")
        elif run.get("error"):
            problems.append(f"{run_dir} failed: {run['error']}")
        else:
            if run.get("interrupted"):
                problems.append(
                    f"{run_dir} was stopped (Ctrl-C or SIGTERM) before its selection ended"
                )
            counts = run.get("counts")
            expected = counts.get("selected") if isinstance(counts, dict) else None
            if isinstance(expected, int):
                found = rows_in(run_dir)
                if found < expected:
                    problems.append(
                        f"{run_dir} has {found} result rows where its run.json counts "
                        f"{expected}: parts of results/ are missing"
                    )
    if len(keep) > 1:
        for position in keep:
            if not str(runs[position].get("shard") or ""):
                problems.append(
                    f"{run_dirs[position]} is a whole replay, not a shard: merged with other "
                    "runs, the exchanges they share would count twice"
                )
    for total, taken in sorted(shards.items()):
        missing = [f"{i}/{total}" for i in range(1, total + 1) if i not in taken]
        if len(missing) == 1:
            problems.append(f"shard {missing[0]} of the replay is missing")
        elif missing:
            problems.append(f"shards {', '.join(missing)} of the replay are missing")
    return problems, keep
