#!/usr/bin/env python3
"""Soak (not a test): run the built-in suite N times in a row against the embedded target
and count what must always be zero: failed runs, flaky scenarios, leaked processes.

    scripts/soak.py [--runs 50] [--workers 2] [--no-build] [-- extra ft flags]

Builds ft in release mode, runs `ft --workers W` N times (each in a fresh folder), and
after every run counts chromedriver / chromium / geckodriver / firefox processes that are
still alive (zombies excluded) and that were not there before the soak started.
Prints the counts and the median wall time. Exit 0 only when every count is zero.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FT = os.path.join(ROOT, "target", "release", "ft")
WATCHED = ("chromedriver", "chromium", "chrome", "geckodriver", "firefox", "firefox-esr")


def live_processes():
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state = stat[stat.rindex(")") + 2]
        if state != "Z" and name.startswith(WATCHED):
            pids.add(int(entry))
    return pids


def name_of(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("extra", nargs="*")
    opts = ap.parse_args()
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    before = live_processes()
    failed_runs, flaky, leaked, walls = 0, 0, 0, []
    for i in range(opts.runs):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.monotonic()
            p = subprocess.run([FT, "--workers", str(opts.workers), *opts.extra], cwd=d,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            walls.append(time.monotonic() - t0)
            if p.returncode != 0:
                failed_runs += 1
                print(f"run {i + 1}: exit {p.returncode}\n{p.stdout}", file=sys.stderr)
            try:
                with open(os.path.join(d, "reports", "run.json")) as f:
                    flaky += json.load(f)["predicate"]["ft"].get("flaky", 0)
            except (OSError, KeyError, ValueError):
                failed_runs += 0 if p.returncode else 1
        # Processes ft started must be gone once it has exited. A browser killed with its
        # driver's process group takes a moment to finish dying (and crash handlers run
        # on their own): whatever is still alive 3 s after ft exited counts as leaked.
        deadline = time.monotonic() + 3
        left = live_processes() - before
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = live_processes() - before
        if left:
            leaked += len(left)
            names = sorted(f"{p} {name_of(p)}" for p in left)
            print(f"run {i + 1}: {len(left)} leaked process(es): {names}", file=sys.stderr)
            before |= left
    print(f"soak: {opts.runs} runs of the built-in suite, {opts.workers} workers, embedded target")
    print(f"  failed runs:      {failed_runs}")
    print(f"  flaky scenarios:  {flaky}")
    print(f"  leaked processes: {leaked}")
    print(f"  wall time median: {statistics.median(walls):.2f}s (min {min(walls):.2f}s, max {max(walls):.2f}s)")
    sys.exit(0 if failed_runs == flaky == leaked == 0 else 1)


if __name__ == "__main__":
    main()
