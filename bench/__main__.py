"""`make bench`: every benchmark, one after the other, printing figures, targets and ratios.

One sandbox process serves the benchmark namespace for all of them; every measured client is a fresh
process of its own (see `bench.measure`). A MISS is printed, never raised: the exit code is 0 unless a
benchmark could not run at all. Options:

    python -m bench [--pods 20000] [--repeats 3] [--typed-pods N] [--profile] [--keep] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import history_size, pass_20k, sandbox_lists
from .measure import Context, child_env
from .server import Server

MODULES = (sandbox_lists, pass_20k, history_size)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n", 1)[0])
    p.add_argument("--pods", type=int, default=20_000, help="pods in the namespace (default 20,000)")
    p.add_argument(
        "--repeats", type=int, default=3, help="runs per figure; the median is printed (default 3)"
    )
    p.add_argument(
        "--typed-pods",
        type=int,
        default=0,
        help="pods the typed-client baseline decodes, scaled up to --pods (default: all)",
    )
    p.add_argument("--profile", action="store_true", help="profile one pass even when the CPU target is met")
    p.add_argument("--keep", action="store_true", help="keep the work directory (job outputs, risk report)")
    p.add_argument(
        "--only",
        action="append",
        choices=[m.__name__.rsplit(".", 1)[-1] for m in MODULES],
        help="run only this benchmark (repeatable)",
    )
    args = p.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="selfheal-bench-"))
    started = time.perf_counter()
    print(
        f"selfheal benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.pods:,} pods, median of {args.repeats} runs per figure; work dir {workdir}",
        flush=True,
    )
    failed = False
    try:
        with Server(args.pods, workdir, child_env()) as server:
            ctx = Context(server, workdir, max(1, args.repeats), args.typed_pods, args.profile)
            for module in MODULES:
                name = module.__name__.rsplit(".", 1)[-1]
                if args.only and name not in args.only:
                    continue
                print(f"== {name}", flush=True)
                try:
                    for text in module.report(ctx):
                        print(text, flush=True)
                except Exception:  # one broken benchmark must not hide the others' figures
                    failed = True
                    print(f"{name}: could not run:\n{traceback.format_exc()}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"benchmarks took {time.perf_counter() - started:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
