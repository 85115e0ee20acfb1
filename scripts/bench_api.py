"""Benchmark a baked project's /predict over loopback against the same pipeline in-process.

    python scripts/bench_api.py                        # bake the defaults, train, measure
    python scripts/bench_api.py --project path/to/bake --requests 500

For one record and for batches of 100: latency p50 and p99 of sequential requests over
HTTP (uvicorn, one worker), next to the same request handled in-process (the request
model, the handler's prediction and logging, the response serialized: all but HTTP), and
throughput with several concurrent clients. The measuring side, api_latency_client.py,
runs in the project's own environment. Every request goes to 127.0.0.1 only and the
loops are bounded in count. Then the same one-record requests over HTTP with the model
alone and with a second model predicting every record in shadow mode, the two servers
measured in turns. Needs uv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from benchmark import bake, user_env

CLIENT = Path(__file__).with_name("api_latency_client.py")


TABLE_HEADER = (
    "| records per request | in-process p50 | in-process p99 | HTTP p50 | HTTP p99 "
    "| throughput (requests/s, records/s) |"
)


def ready(url: str) -> bool:
    """Whether ``url`` answers 200 yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(command: Path, project: Path, *options: str) -> Iterator[str]:
    """``serve`` with ``options`` on a free port until the block ends; its URL once ready."""
    port = free_port()
    server = subprocess.Popen(
        [str(command), "serve", "--port", str(port), *options],
        cwd=project,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not ready(f"{url}/ready"):
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("the server did not become ready")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(project: Path, url: str, *arguments: str) -> Any:
    """Run the measuring client in the project's environment; its figures."""
    package = project.name.replace("-", "_")
    done = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), str(CLIENT), package, url, *arguments],
        cwd=project,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def shadow_table(command: Path, project: Path, requests: int, rounds: int) -> str:
    """One-record latency over HTTP with the champion alone and with a shadow challenger
    (a second training run), the two servers measured in turns, ``rounds`` times."""
    runs = sorted(path.name for path in (project / "models" / "runs").iterdir())
    champion, challenger = runs[0], runs[-1]
    alone, shadowed = [], []
    with (
        serving(command, project, "--model", champion) as plain,
        serving(
            command, project, "--model", champion, "--challenger", challenger, "--mode", "shadow"
        ) as shadow,
    ):
        for _ in range(rounds):
            alone.append(measure(project, plain, str(requests), "1", "one"))
            shadowed.append(measure(project, shadow, str(requests), "1", "one"))
    ratio = statistics.median(
        s["http_p50"] / a["http_p50"] for a, s in zip(alone, shadowed, strict=True)
    )
    lines = ["| serving | HTTP p50 | HTTP p99 | p50 ratio |", "|---|---:|---:|---:|"]
    for name, figures, times in (
        ("the model alone", alone, 1.0),
        ("with a shadow challenger", shadowed, ratio),
    ):
        p50 = statistics.median(f["http_p50"] for f in figures) * 1000
        p99 = statistics.median(f["http_p99"] for f in figures) * 1000
        lines.append(f"| {name} | {p50:.1f} ms | {p99:.1f} ms | {times:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", type=Path, help="an already baked project with serving=fastapi"
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--shadow-rounds", type=int, default=5, help="rounds of the shadow comparison; 0: none"
    )
    args = parser.parse_args()

    project = (args.project or bake(Path(tempfile.mkdtemp(prefix="bench-api-")))).resolve()
    command = project / ".venv" / "bin" / project.name
    for _ in range(2 if args.shadow_rounds else 1):  # a second run is the shadow's challenger
        subprocess.run(
            [str(command), "train"], cwd=project, env=user_env(), check=True, capture_output=True
        )
    runs = sorted(path.name for path in (project / "models" / "runs").iterdir())
    with serving(command, project, "--model", runs[0]) as url:
        figures = measure(project, url, str(args.requests), str(args.clients))

    print(TABLE_HEADER)
    print("|---:|---:|---:|---:|---:|---:|")
    for row in figures:
        milliseconds = [
            row[key] * 1000 for key in ("local_p50", "local_p99", "http_p50", "http_p99")
        ]
        cells = [str(row["size"]), *(f"{value:.1f} ms" for value in milliseconds)]
        cells.append(f"{row['throughput']:.0f}, {row['throughput'] * row['size']:.0f}")
        print(f"| {' | '.join(cells)} |")
    print(
        f"\n{args.requests} sequential requests per size; throughput with {args.clients} concurrent clients."
    )
    if args.shadow_rounds:
        print()
        print(shadow_table(command, project, args.requests, args.shadow_rounds))


if __name__ == "__main__":
    main()
