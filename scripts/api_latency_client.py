"""The measuring side of ``bench_api.py``: runs inside a baked project's own environment.

    python api_latency_client.py <package> <server url> <requests> <clients>

For one record and for batches of 100, times ``/predict`` in-process (the request model
parsing the JSON body, the handler's work, the response serialized: everything but
HTTP) and over HTTP against the running server, then the server's throughput with
several concurrent clients. Prints the figures as JSON.
"""

from __future__ import annotations

import functools
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pandas as pd

SIZES = (1, 100)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(action: Callable[[], Any], repeats: int) -> list[float]:
    action()  # warm-up: first-call costs are not latency
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def post(http: httpx2.Client, body: str) -> None:
    headers = {"content-type": "application/json"}
    http.post("/predict", content=body, headers=headers).raise_for_status()


def client_session(url: str, body: str, count: int) -> None:
    """One client on its own connection, posting ``body`` ``count`` times."""
    with httpx2.Client(base_url=url, timeout=30) as http:
        for _ in range(count):
            post(http, body)


def main() -> None:
    package, url, requests, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    api = importlib.import_module(f"{package}.api")
    config = importlib.import_module(f"{package}.config").load_config()
    service = api.PredictionService(config, None)
    service.load()
    request_model = api.request_model(config)
    sample = pd.read_csv(config.data.path)[config.data.feature_names]

    def in_process(body: str) -> str:
        request = request_model.model_validate_json(body)
        return str(service.predict(request.records).model_dump_json())

    figures = []
    for size in SIZES:
        body = json.dumps({"records": json.loads(sample.head(size).to_json(orient="records"))})
        local = timed(functools.partial(in_process, body), requests)
        with httpx2.Client(base_url=url, timeout=30) as http:
            remote = timed(functools.partial(post, http, body), requests)
        per_client = requests // clients
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            sessions = [pool.submit(client_session, url, body, per_client) for _ in range(clients)]
            for session in sessions:
                session.result()  # re-raises a client's failure
        elapsed = time.perf_counter() - start
        figures.append(
            {
                "size": size,
                "local_p50": statistics.median(local),
                "local_p99": percentile(local, 0.99),
                "http_p50": statistics.median(remote),
                "http_p99": percentile(remote, 0.99),
                "throughput": per_client * clients / elapsed,
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
