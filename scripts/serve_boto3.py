"""`orderflow serve` through boto3, as a Python user's tests would drive it.

Run by scripts/serve-smoke with the server's URL: python3 scripts/serve_boto3.py URL
Every call is bounded (connect and read timeouts, no retries); any failed check exits 1.
"""

import json
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/local"
ACCOUNT = "123456789012"


def client(url):
    # Step Functions' SDKs send StartSyncExecution to a `sync-` host; a loopback endpoint
    # has none: inject_host_prefix=False keeps the URL as given.
    config = Config(
        inject_host_prefix=False,
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 1, "mode": "standard"},
    )
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )


def code_of(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError(f"{call.__name__} succeeded; an error was expected")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def finished(sfn, arn, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError(f"{arn} still RUNNING after {limit} s")


def state_machines(sfn):
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    arn = sfn.create_state_machine(name="py-pass", definition=definition, roleArn=ROLE)["stateMachineArn"]
    check(arn == f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:py-pass", arn)
    check(sfn.describe_state_machine(stateMachineArn=arn)["definition"] == definition, "definition")
    names = []
    token = None
    while True:
        page = sfn.list_state_machines(maxResults=1, **({"nextToken": token} if token else {}))
        names += [m["name"] for m in page["stateMachines"]]
        token = page.get("nextToken")
        if not token:
            break
    check({"order", "order-processing", "py-pass"} <= set(names), names)
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=definition)["revisionId"]
    check(revision, "a revision id")
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    check(sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}], "tags")
    sfn.untag_resource(resourceArn=arn, tagKeys=["k"])
    check(sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [], "untagged")
    check(sfn.validate_state_machine_definition(definition=definition)["result"] == "OK", "valid")
    bad = '{"StartAt": "X", "States": {}}'
    check(sfn.validate_state_machine_definition(definition=bad)["result"] == "FAIL", "invalid")
    check(code_of(sfn.create_state_machine, name="bad", definition=bad, roleArn=ROLE) == "InvalidDefinition", "InvalidDefinition")
    check(code_of(sfn.create_state_machine, name="a b", definition=definition, roleArn=ROLE) == "InvalidName", "InvalidName")
    check(code_of(sfn.describe_state_machine, stateMachineArn="nope") == "InvalidArn", "InvalidArn")
    sfn.delete_state_machine(stateMachineArn=arn)
    check(code_of(sfn.describe_state_machine, stateMachineArn=arn) == "StateMachineDoesNotExist", "deleted")


def orders(sfn, order):
    entry = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order"
    started = sfn.start_execution(stateMachineArn=entry, name="py-order-1", input=json.dumps(order))
    done = finished(sfn, started["executionArn"])
    check(done["status"] == "SUCCEEDED", done)
    output = json.loads(done["output"])
    check(output["orderState"] == "PAYMENT_PROCESSED", output)
    check(order["paymentDetails"]["cardNumber"] not in done["input"], "the card number is masked")
    check(code_of(sfn.start_execution, stateMachineArn=entry, name="py-order-1", input=json.dumps(order)) == "ExecutionAlreadyExists", "name reused")
    events = []
    token = None
    while True:
        kwargs = {"executionArn": started["executionArn"], "maxResults": 3}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    check([e["id"] for e in events] == list(range(1, len(events) + 1)), "ids in order")
    check(events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded", events[-1])
    backwards = sfn.get_execution_history(executionArn=started["executionArn"], reverseOrder=True, maxResults=1)
    check(backwards["events"][0]["id"] == len(events), "reverse order")
    listed = sfn.list_executions(stateMachineArn=entry, statusFilter="SUCCEEDED")["executions"]
    check(any(e["name"] == "py-order-1" for e in listed), listed)
    machine = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    check(machine["name"] == "order", machine)

    processing = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:order-processing"
    answered = sfn.start_sync_execution(stateMachineArn=processing, name="py-sync-1", input=json.dumps(order))
    check(answered["status"] == "SUCCEEDED", answered)
    check(json.loads(answered["output"])["orderState"] == "PAYMENT_PROCESSED", answered["output"])
    check(code_of(sfn.start_sync_execution, stateMachineArn=entry, input="{}") == "StateMachineTypeNotSupported", "Standard refuses sync")
    check(code_of(sfn.describe_execution, executionArn=f"arn:aws:states:us-east-1:{ACCOUNT}:execution:order:none") == "ExecutionDoesNotExist", "no such execution")
    check(code_of(sfn.start_execution, stateMachineArn=entry, input="{oops") == "InvalidExecutionInput", "bad input")


def callbacks(sfn):
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:approval"
    arn = sfn.start_execution(stateMachineArn=machine, name="py-approval-1")["executionArn"]
    # The running execution's history shows the token the task published.
    token = None
    deadline = time.monotonic() + 30
    while token is None and time.monotonic() < deadline:
        for event in sfn.get_execution_history(executionArn=arn)["events"]:
            details = event.get("taskScheduledEventDetails")
            if details:
                token = json.loads(details["parameters"])["Message"]["approve"]
        time.sleep(0.02)
    check(token, "the task token in the running history")
    status = sfn.describe_execution(executionArn=arn)
    check(status["status"] == "RUNNING", status)
    sfn.send_task_heartbeat(taskToken=token)
    check(code_of(sfn.send_task_success, taskToken=token, output="{oops") == "InvalidOutput", "InvalidOutput")
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    done = finished(sfn, arn)
    check(done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": True}, done)
    check(code_of(sfn.send_task_failure, taskToken=token, error="Late") == "TaskDoesNotExist", "answered once")

    stopped = sfn.start_execution(stateMachineArn=machine, name="py-approval-2")["executionArn"]
    sfn.stop_execution(executionArn=stopped, error="Stopped", cause="by the test")
    check(finished(sfn, stopped)["status"] == "ABORTED", "stopped")


def activities(sfn):
    activity = sfn.create_activity(name="py-review")["activityArn"]
    check(activity == f"arn:aws:states:us-east-1:{ACCOUNT}:activity:py-review", activity)
    check(sfn.describe_activity(activityArn=activity)["name"] == "py-review", "described")
    check(any(a["name"] == "py-review" for a in sfn.list_activities()["activities"]), "listed")
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:review"
    arn = sfn.start_execution(stateMachineArn=machine, name="py-review-1", input='{"doc": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="py-worker")
    check(json.loads(task["input"]) == {"doc": 1}, task)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Rejected", cause="by the worker")
    done = finished(sfn, arn)
    check(done["status"] == "FAILED" and done["error"] == "Rejected", done)
    sfn.delete_activity(activityArn=activity)
    check(code_of(sfn.describe_activity, activityArn=activity) == "ActivityDoesNotExist", "deleted")


def redrive(sfn):
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:retry-later"
    arn = sfn.start_execution(stateMachineArn=machine, name="py-redrive-1")["executionArn"]
    failed = finished(sfn, arn)
    check(failed["status"] == "FAILED" and failed["error"] == "States.QueryEvaluationError", failed)
    check(failed["redriveStatus"] == "REDRIVABLE" and failed["redriveCount"] == 0, failed)
    redriven = sfn.redrive_execution(executionArn=arn)
    check("redriveDate" in redriven, redriven)
    done = finished(sfn, arn)
    check(done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"redrives": 1}, done)
    check(done["redriveCount"] == 1 and done["redriveStatus"] == "NOT_REDRIVABLE", done)
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    check(types.count("ExecutionRedriven") == 1 and types[-1] == "ExecutionSucceeded", types)
    check(code_of(sfn.redrive_execution, executionArn=arn) == "ExecutionNotRedrivable", "succeeded")


def main():
    url = sys.argv[1]
    with open(sys.argv[2]) as f:
        order = json.load(f)
    sfn = client(url)
    state_machines(sfn)
    orders(sfn, order)
    callbacks(sfn)
    activities(sfn)
    redrive(sfn)
    print("serve_boto3: state machines, executions, history pages, sync execution, callbacks, activities, redrive, stop and error codes as expected")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"serve_boto3: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
