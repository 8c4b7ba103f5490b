"""The Python layer's overhead on `surface` for the paper's swiss-roll net, measured in one run.

    python python/benchmarks/overhead.py [--repeats 7] [--steps 40000]

Trains the paper's clean net once (or reuses runs/overhead-bench/run), then times, alternately,
the same 51x51 surface computed by the `genviz` command (process start included) and by
`genviz.surface` in this process, plus the time the library spent inside that Python call
(`Job::run`, measured in Rust). Prints JSON: medians in seconds and the Python call's overhead
over the library's time. The binary is target/debug/genviz or GENVIZ_BIN (build it with the
same profile as the module: `cargo build -p genviz-cli`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import genviz

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=40000)
    parser.add_argument("--out", type=Path, default=Path("runs/overhead-bench"))
    args = parser.parse_args()
    binary = Path(os.environ.get("GENVIZ_BIN", REPO / "target" / "debug" / "genviz"))
    run = genviz.train(steps=args.steps, out=args.out / "run", progress=False)
    grid = ["--x", "-1:1:51", "--y", "-1:1:51"]
    cli_s, py_s, lib_s = [], [], []
    for k in range(args.repeats):
        out = args.out / f"cli-{k}"
        t = time.perf_counter()
        subprocess.run([str(binary), "surface", str(run.dir), *grid, "--out", str(out)], check=True, capture_output=True)
        cli_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        s = genviz.surface(run.dir, x="-1:1:51", y="-1:1:51", out=args.out / f"py-{k}", progress=False)
        py_s.append(time.perf_counter() - t)
        lib_s.append(s.library_seconds)
    med = statistics.median
    print(json.dumps({
        "workload": "51x51 filter-normalised surface of the paper's swiss-roll net (3,614 parameters, 200+200 points), figures included",
        "repeats": args.repeats,
        "threads": s.record["threads"],
        "cli_process_s": med(cli_s),
        "python_call_s": med(py_s),
        "library_job_s": med(lib_s),
        "python_overhead_over_library": med(py_s) / med(lib_s) - 1.0,
        "python_call_over_cli_process": med(py_s) / med(cli_s),
    }, indent=2))


if __name__ == "__main__":
    main()
