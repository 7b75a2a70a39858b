"""moto_server under the same load driver as `orderflow serve` (scripts/bench-serve).

Starts moto_server on loopback with the bench-peers harness (bench_moto.start_moto_server:
its interpreter on), creates what bench_moto.py --mode http creates (the CustomerOrders table,
the OrderUpdates topic written into the sns:publish Tasks, the machine from bench-peers'
order.moto.asl.json), runs the given serve-bench command line against it with --endpoint and
--machine added, checks one CustomerOrders item per execution, and stops the server.

    python3 scripts/bench_serve_moto.py PEERS_DIR -- target/release/serve-bench --n 40 ...

Prints serve-bench's record, with the check's result in `checks`.
"""

import json
import subprocess
import sys
from pathlib import Path


def main():
    peers = Path(sys.argv[1])
    driver = sys.argv[sys.argv.index("--") + 1:]
    sys.path.insert(0, str(peers))
    import bench_moto  # the bench-peers harness
    import boto3

    port = bench_moto.free_port()
    server = bench_moto.start_moto_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        kw = {"endpoint_url": url, "region_name": bench_moto.REGION,
              "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        ddb = boto3.client("dynamodb", **kw)
        sns = boto3.client("sns", **kw)
        sfn = boto3.client("stepfunctions", **kw)
        ddb.create_table(TableName=bench_moto.TABLE,
                         KeySchema=[{"AttributeName": "OrderId", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "OrderId", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        topic = sns.create_topic(Name=bench_moto.TOPIC)["TopicArn"]
        definition = json.loads((peers / "defs" / "order.moto.asl.json").read_text())
        if bench_moto.set_topic_arn(definition, topic) == 0:
            raise SystemExit("bench_serve_moto: the moto definition has no sns:publish Task")
        machine = sfn.create_state_machine(name="OrderWorkflowBench",
                                           definition=json.dumps(definition),
                                           roleArn=bench_moto.ROLE)["stateMachineArn"]
        out = subprocess.run(driver + ["--endpoint", url, "--machine", machine,
                                       "--input", str(peers / "defs" / "input.json"),
                                       "--expect-output-key", "MessageId"],
                             check=True, stdout=subprocess.PIPE, text=True, timeout=900)
        record = json.loads(out.stdout)
        executions = record["warmup"] + record["n"]
        count = ddb.scan(TableName=bench_moto.TABLE, Select="COUNT")["Count"]
        record["checks"] = {"one order record per execution": count == executions}
        print(json.dumps(record))
        if count != executions:
            sys.exit(f"bench_serve_moto: {count} CustomerOrders items after {executions} executions")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
