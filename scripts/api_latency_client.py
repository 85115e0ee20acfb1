"""The measuring side of ``bench_api.py``: runs inside a baked project's own environment.

    python api_latency_client.py <package> <server url> <requests> <clients> [one]

For one record and for batches of 100, times ``/predict`` in-process (the request model
parsing the JSON body, the handler's work, the response serialized: everything but
HTTP) and over HTTP against the running server, then the server's throughput with
several concurrent clients. With ``one``, only one-record requests over HTTP. Prints
the figures as JSON.
"""

from __future__ import annotations

import functools
import http.client
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

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


def connect(url: str) -> http.client.HTTPConnection:
    """One kept-alive connection: the standard library's client, the lightest there is,
    so that what is timed is the server."""
    address = urlsplit(url)
    return http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)


def post(connection: http.client.HTTPConnection, body: bytes) -> None:
    connection.request("POST", "/predict", body, {"content-type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"/predict answered {response.status}")


def client_session(url: str, body: bytes, count: int) -> None:
    """One client on its own connection, posting ``body`` ``count`` times."""
    connection = connect(url)
    try:
        for _ in range(count):
            post(connection, body)
    finally:
        connection.close()


def body_of(sample: pd.DataFrame, size: int) -> str:
    """A /predict body of the first ``size`` rows of the sample."""
    return json.dumps({"records": json.loads(sample.head(size).to_json(orient="records"))})


def http_only(url: str, body: str, requests: int) -> None:
    """Print the p50 and p99 of ``requests`` sequential posts of ``body`` over HTTP."""
    connection = connect(url)
    try:
        remote = timed(functools.partial(post, connection, body.encode()), requests)
    finally:
        connection.close()
    print(json.dumps({"http_p50": statistics.median(remote), "http_p99": percentile(remote, 0.99)}))


def main() -> None:
    package, url, requests, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    config = importlib.import_module(f"{package}.config").load_config()
    sample = pd.read_csv(config.data.path)[config.data.feature_names]
    if sys.argv[5:] == ["one"]:
        http_only(url, body_of(sample, 1), requests)
        return
    api = importlib.import_module(f"{package}.api")
    service = api.PredictionService(config, None)
    service.load()
    request_model = api.request_model(config)

    def in_process(body: str) -> str:
        request = request_model.model_validate_json(body)
        response, _ = service.predict(request.records)
        return str(response.model_dump_json())

    figures = []
    for size in SIZES:
        body = body_of(sample, size)
        local = timed(functools.partial(in_process, body), requests)
        connection = connect(url)
        try:
            remote = timed(functools.partial(post, connection, body.encode()), requests)
        finally:
            connection.close()
        per_client = requests // clients
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            sessions = [
                pool.submit(client_session, url, body.encode(), per_client) for _ in range(clients)
            ]
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
