"""Whole processes side by side: leadroi against the peer tools on the same files.

    python bench/run.py [--runs N]

Prepares what it needs (the peers' venv in bench/.peers-venv, the expanded event
files in bench/.data, both ignored by git), then runs each command N times (3 by
default), the two in turns, and prints the median wall time, the peak resident
memory and the ratio peer / leadroi (above 1: leadroi is faster). Figures, not
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = Path(os.environ.get("LEADROI_DATA_DIR", REPO.parent / "shared" / "data"))
WORK = BENCH / ".data"
PEERS_VENV = BENCH / ".peers-venv"
PATHS_CSV = DATA / "channelattribution_paths.csv"
EVENT_FILES = {"380k": 0, "600k": 600_000}  # name -> target events (0: as expanded)
EVENT_OPTIONS = [
    "--user-col",
    "user_id",
    "--time-col",
    "event_time",
    "--channel-col",
    "channel",
    "--conversion-col",
    "converted",
    "--value-col",
    "value",
]


def _python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def prepare() -> None:
    if not (PEERS_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [
                _python(PEERS_VENV),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(BENCH / "peers" / "requirements.txt"),
            ],
            check=True,
        )
    WORK.mkdir(exist_ok=True)
    for name, target in EVENT_FILES.items():
        out = WORK / f"events_{name}.csv"
        if not out.exists():
            subprocess.run(
                [
                    sys.executable,
                    str(BENCH / "expand.py"),
                    str(PATHS_CSV),
                    str(out),
                    "--events",
                    str(target),
                ],
                check=True,
            )


def measure(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, usage.ru_maxrss


def compare(title: str, ours: list[str], theirs: list[str], runs: int) -> None:
    # In turns, leadroi then the peer, so a machine that slows down or speeds up
    # during the run weighs on both alike.
    samples: dict[str, list[tuple[float, int]]] = {"leadroi": [], "peer": []}
    for _ in range(runs):
        for who, command in (("leadroi", ours), ("peer", theirs)):
            samples[who].append(measure(command))
    results = {
        who: (statistics.median(s[0] for s in runs_of), max(s[1] for s in runs_of))
        for who, runs_of in samples.items()
    }
    (our_s, our_kb), (peer_s, peer_kb) = results["leadroi"], results["peer"]
    print(f"\n{title}")
    print(f"  leadroi  median {our_s:7.2f} s  peak RSS {our_kb / 1024:7.1f} MiB")
    print(f"  peer     median {peer_s:7.2f} s  peak RSS {peer_kb / 1024:7.1f} MiB")
    print(
        f"  ratio peer/leadroi: time {peer_s / our_s:.2f}x,"
        f" memory {peer_kb / our_kb:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args()
    prepare()
    if args.prepare_only:
        return

    leadroi = [str(Path(sys.executable).parent / "leadroi"), "analyze"]
    peer = _python(PEERS_VENV)
    print(
        f"{args.runs} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for name in EVENT_FILES:
        events = str(WORK / f"events_{name}.csv")
        lines = sum(1 for _ in open(events)) - 1
        compare(
            f"events, {lines} rows: leadroi analyze events (every model, Markov"
            " order 1) vs marketing-attribution-models end to end (6 models,"
            " conversions and value)",
            [*leadroi, "events", events, *EVENT_OPTIONS],
            [peer, str(BENCH / "peers" / "mam_events.py"), events, os.devnull],
            args.runs,
        )
    compare(
        "paths, 10,000 rows: leadroi analyze paths (every model, exact Markov"
        " orders 1-3) vs ChannelAttribution markov_model orders 1-3 (nsim_start"
        " 1e7, conv_par 0.005)",
        [*leadroi, "paths", str(PATHS_CSV), "--markov-orders", "1,2,3"],
        [peer, str(BENCH / "peers" / "ca_markov.py"), str(PATHS_CSV), os.devnull],
        args.runs,
    )


if __name__ == "__main__":
    main()
