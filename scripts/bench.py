#!/usr/bin/env python3
"""Benchmark (not a test): the built-in suite's wall time against the embedded target.

Builds ft in release mode, then runs it ROUNDS times (default 5) in each configuration,
interleaved so machine noise spreads over all of them, and prints medians, ratios to
the first configuration and the per-scenario median breakdown from the JUnit XML.

    scripts/bench.py [--rounds N] [--no-build]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FT = os.path.join(ROOT, "target", "release", "ft")
CONFIGS = [
    ("1 worker, reused session", ["--workers", "1"]),
    ("2 workers, reused sessions", ["--workers", "2"]),
    ("1 worker, fresh sessions", ["--workers", "1", "--fresh-session"]),
    ("2 workers, fresh sessions", ["--workers", "2", "--fresh-session"]),
]


def run_once(args):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        p = subprocess.run([FT, *args], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"ft {' '.join(args)} exited {p.returncode}:\n{p.stdout}")
        cases = {}
        for tc in ET.parse(os.path.join(d, "reports", "junit.xml")).getroot().iter("testcase"):
            cases[tc.get("name")] = float(tc.get("time"))
        return wall, cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    opts = ap.parse_args()
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    walls = {name: [] for name, _ in CONFIGS}
    per_case = {name: {} for name, _ in CONFIGS}
    for _ in range(opts.rounds):
        for name, args in CONFIGS:
            wall, cases = run_once(args)
            walls[name].append(wall)
            for case, t in cases.items():
                per_case[name].setdefault(case, []).append(t)
    base = statistics.median(walls[CONFIGS[0][0]])
    print(f"ft built-in suite vs embedded target, {opts.rounds} rounds, {os.cpu_count()} cores")
    print(f"{'configuration':30} {'median':>8} {'min':>8} {'max':>8} {'ratio':>6}")
    for name, _ in CONFIGS:
        w = walls[name]
        print(f"{name:30} {statistics.median(w):7.2f}s {min(w):7.2f}s {max(w):7.2f}s {statistics.median(w) / base:6.2f}")
    print()
    print("per-scenario median (1 worker, reused session):")
    for case, ts in sorted(per_case[CONFIGS[0][0]].items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {statistics.median(ts):6.3f}s  {case}")


if __name__ == "__main__":
    main()
