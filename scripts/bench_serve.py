"""Requests per second and latency of `orderflow serve` over HTTP on loopback, driven by
boto3 exactly as bench-peers' bench_moto.py --mode http drives moto_server (start_execution,
then describe_execution every --poll-interval seconds until the execution ends), plus
StartSyncExecution of the order workflow, which moto does not serve.

    python3 scripts/bench_serve.py URL ORDER_FILE --n N --warmup W

Prints one JSON record per mode, in the bench-peers protocol (latencies_ms, total_s, n).
"""

import argparse
import json
import sys
import time

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"


def client(url):
    config = Config(inject_host_prefix=False, connect_timeout=5, read_timeout=60,
                    retries={"max_attempts": 1, "mode": "standard"},
                    max_pool_connections=4)
    return boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test", config=config)


def start_and_poll(sfn, order, name, poll):
    arn = sfn.start_execution(
        stateMachineArn=f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order",
        name=name, input=order)["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described["status"]
        time.sleep(poll)


def start_sync(sfn, order, name, _poll):
    return sfn.start_sync_execution(
        stateMachineArn=f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order-processing",
        name=name, input=order)["status"]


def measure(mode, run, sfn, order, n, warmup, poll, max_seconds):
    for i in range(warmup):
        run(sfn, order, f"warm-{mode}-{i}", poll)
    latencies = []
    failures = 0
    started = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        status = run(sfn, order, f"{mode}-{i}", poll)
        latencies.append((time.perf_counter() - t) * 1000)
        failures += status != "SUCCEEDED"
        if time.perf_counter() - started > max_seconds:
            break
    total = time.perf_counter() - started
    return {"engine": "orderflow-serve", "mode": mode, "n": len(latencies), "warmup": warmup,
            "total_s": total, "failures": failures, "latencies_ms": latencies}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("order")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=0.005)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with open(args.order) as f:
        order = f.read()
    sfn = client(args.url)
    for mode, run in (("start-poll", start_and_poll), ("start-sync", start_sync)):
        record = measure(mode, run, sfn, order, args.n, args.warmup, args.poll_interval,
                         args.max_seconds)
        print(json.dumps(record))
        if record["failures"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
