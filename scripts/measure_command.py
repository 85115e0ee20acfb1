"""Run one command and print its wall time and peak memory as JSON (for benchmark.py).

    python measure_command.py <command> [<argument> ...]

Run in a process of its own, so that the peak resident memory of its children is that
command's alone. A failing command exits with the end of its error output.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    start = time.perf_counter()
    done = subprocess.run(
        sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(done.stderr[-2000:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main()
