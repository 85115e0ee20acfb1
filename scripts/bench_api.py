"""Benchmark a baked project's /predict over loopback against the same pipeline in-process.

    python scripts/bench_api.py                        # bake the defaults, train, measure
    python scripts/bench_api.py --project path/to/bake --requests 500

For one record and for batches of 100: latency p50 and p99 of sequential requests, and
throughput with several concurrent clients, next to calling the saved pipeline directly
(validation + prediction, what /predict does minus HTTP, JSON and the prediction log).
Every request goes to 127.0.0.1 only and the loops are bounded in count. Needs uv.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchmark import bake, user_env

# Runs inside the baked project's environment: it has the package, httpx and pandas.
CLIENT = """
import json, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
import httpx, pandas as pd
from {package}.config import load_config
from {package}.predict import load_for_inference, predict_frame

url, requests, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = load_config()
sample = pd.read_csv(config.data.path)[config.data.feature_names]
saved = load_for_inference(config)

def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

rows = []
for size in (1, 100):
    frame = sample.head(size)
    payload = {{"records": json.loads(frame.to_json(orient="records"))}}
    local = []
    for _ in range(requests):
        start = time.perf_counter()
        predict_frame(saved, frame, config, source="bench")
        local.append(time.perf_counter() - start)
    with httpx.Client(timeout=30) as http:
        http.post(url, json=payload).raise_for_status()
        remote = []
        for _ in range(requests):
            start = time.perf_counter()
            http.post(url, json=payload).raise_for_status()
            remote.append(time.perf_counter() - start)

    def one(_):
        with httpx.Client(timeout=30) as http:
            for _ in range(requests // clients):
                http.post(url, json=payload).raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(clients)))
    elapsed = time.perf_counter() - start
    rows.append({{
        "size": size,
        "local_p50": statistics.median(local), "local_p99": percentile(local, 0.99),
        "http_p50": statistics.median(remote), "http_p99": percentile(remote, 0.99),
        "throughput": (requests // clients) * clients / elapsed,
    }})
print(json.dumps(rows))
"""


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
        while subprocess.run(
            [
                str(project / ".venv" / "bin" / "python"),
                "-c",
                f"import httpx; httpx.get('{url}/ready').raise_for_status()",
            ],
            capture_output=True,
        ).returncode:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("the server did not become ready")
            time.sleep(0.5)
        done = subprocess.run(
            [
                str(project / ".venv" / "bin" / "python"),
                "-c",
                CLIENT.format(package=package),
                f"{url}/predict",
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

    print(
        "| records per request | in-process p50 | HTTP p50 | HTTP p99 | p50 ratio | throughput (requests/s, records/s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for row in json.loads(done.stdout):
        print(
            f"| {row['size']} | {row['local_p50'] * 1000:.1f} ms | {row['http_p50'] * 1000:.1f} ms | "
            f"{row['http_p99'] * 1000:.1f} ms | {row['http_p50'] / row['local_p50']:.2f}x | "
            f"{row['throughput']:.0f}, {row['throughput'] * row['size']:.0f} |"
        )
    print(
        f"\n{args.requests} sequential requests per size; throughput with {args.clients} concurrent clients."
    )


if __name__ == "__main__":
    main()
