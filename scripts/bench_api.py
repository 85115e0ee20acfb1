"""Benchmark a baked project's /predict over loopback against the same pipeline in-process.

    python scripts/bench_api.py                        # bake the defaults, train, measure
    python scripts/bench_api.py --project path/to/bake --requests 500

For one record and for batches of 100: latency p50 and p99 of sequential requests over
HTTP (uvicorn, one worker), next to the same request handled in-process (the request
model, the handler's prediction and logging, the response serialized: all but HTTP), and
throughput with several concurrent clients. The measuring side, api_latency_client.py,
runs in the project's own environment. Every request goes to 127.0.0.1 only and the
loops are bounded in count. Needs uv.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", type=Path, help="an already baked project with serving=fastapi"
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    project = (args.project or bake(Path(tempfile.mkdtemp(prefix="bench-api-")))).resolve()
    command = project / ".venv" / "bin" / project.name
    package = project.name.replace("-", "_")
    env = user_env()
    subprocess.run([str(command), "train"], cwd=project, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(command), "serve", "--port", str(port)],
        cwd=project,
        env=env,
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
        done = subprocess.run(
            [
                str(project / ".venv" / "bin" / "python"),
                str(CLIENT),
                package,
                url,
                str(args.requests),
                str(args.clients),
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(TABLE_HEADER)
    print("|---:|---:|---:|---:|---:|---:|")
    for row in json.loads(done.stdout):
        milliseconds = [
            row[key] * 1000 for key in ("local_p50", "local_p99", "http_p50", "http_p99")
        ]
        cells = [str(row["size"]), *(f"{value:.1f} ms" for value in milliseconds)]
        cells.append(f"{row['throughput']:.0f}, {row['throughput'] * row['size']:.0f}")
        print(f"| {' | '.join(cells)} |")
    print(
        f"\n{args.requests} sequential requests per size; throughput with {args.clients} concurrent clients."
    )


if __name__ == "__main__":
    main()
