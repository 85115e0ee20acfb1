"""Time `cookiecutter <template> --no-input` as a user runs it: hooks and first commit included.

    python scripts/bench_bake.py                   # this checkout, 9 rounds
    python scripts/bench_bake.py --against HEAD~5  # and an earlier version, in turns

Each bake is a new process (`python -m cookiecutter`, the same as the `cookiecutter`
command) into a fresh folder, after one untimed bake per template that fills Jinja's
bytecode cache as a user's first bake does. With ``--against``, that revision is
exported from git and both templates are baked in turns, so a change in the machine's
speed during the run hits both alike; the ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchmark import user_env

TEMPLATE = Path(__file__).resolve().parents[1]


def export(revision: str, where: Path) -> Path:
    """The template as it was at ``revision``, in ``where``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=TEMPLATE,
        check=False,
        capture_output=True,
    )
    if archive.returncode:
        reason = archive.stderr.decode(errors="replace").strip()
        sys.exit(f"cannot export {revision!r} from {TEMPLATE}: {reason}")
    where.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive.stdout, check=True)
    return where


def bake_seconds(template: Path, output: Path) -> float:
    """Wall time of one bake of ``template`` into the empty folder ``output``."""
    command = [sys.executable, "-m", "cookiecutter", str(template), "--no-input", "-o", str(output)]
    start = time.perf_counter()
    done = subprocess.run(command, env=user_env(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"baking {template} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="a git revision to compare with")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    if importlib.util.find_spec("cookiecutter") is None:
        sys.exit("needs cookiecutter: `uv run --only-group bench python scripts/bench_bake.py`")

    with tempfile.TemporaryDirectory(prefix="bench-bake-") as scratch:
        work = Path(scratch)
        templates = {"this checkout": TEMPLATE}
        if args.against:
            earlier = export(args.against, (work / "earlier").resolve())
            templates = {args.against: earlier, **templates}
        times: dict[str, list[float]] = {name: [] for name in templates}
        for round_number in range(args.rounds + 1):
            for position, (name, template) in enumerate(templates.items()):
                seconds = bake_seconds(template, work / f"bake-{round_number}-{position}")
                if round_number:  # round 0 fills the bytecode cache, as a first bake does
                    times[name].append(seconds)

    print(f"| template | median of {args.rounds} | fastest | slowest |")
    print("|---|---:|---:|---:|")
    for name, seconds in times.items():
        print(
            f"| {name} | {statistics.median(seconds):.2f} s | {min(seconds):.2f} s "
            f"| {max(seconds):.2f} s |"
        )
    if args.against:
        ratios = [
            new / old for new, old in zip(times["this checkout"], times[args.against], strict=True)
        ]
        print(f"\nthis checkout / {args.against}: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
