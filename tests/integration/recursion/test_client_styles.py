"""Every botocore client the process makes is guarded, whatever the order it was made in.

AWS recommends creating clients at module level, outside the handler, so they are reused across
invocations; such a client is made before the decorator runs and may be made before the guard's
module is even imported. Each style runs in a fresh interpreter (the order of imports is the point),
against moto (`mock_aws` in the child), with a call one hop past the limit that must be refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # a guarded handler run for each style of client

#: The user's module, as AWS's examples write it: imports, clients, then the guarded handler.
USER_CODE = """
import json, boto3
from moto import mock_aws

mock = mock_aws()
mock.start()
{before_import}
from guardrail.recursion import RecursionDepthExceeded, recursion_guard


@recursion_guard(max_depth=3)
def handler(event, context):
{in_handler}
    url = sqs_client().get_queue_url(QueueName="next")["QueueUrl"]
    send(url)

boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="next")
outcome = {{}}
handler({{"guardrail-chain": {{"depth": 1, "chain_id": "c"}}}}, None)  # depth 2 <= 3: sent, stamped
queue = boto3.client("sqs", region_name="us-east-1")
url = queue.get_queue_url(QueueName="next")["QueueUrl"]
[message] = queue.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
carrier = message.get("MessageAttributes", {{}}).get("guardrail-chain")
outcome["stamped"] = carrier and json.loads(carrier["StringValue"])["depth"]
try:
    handler({{"guardrail-chain": {{"depth": 3, "chain_id": "c"}}}}, None)  # depth 4 > 3: refused
    outcome["past_the_limit"] = "sent"
except RecursionDepthExceeded:
    outcome["past_the_limit"] = "refused"
print(json.dumps(outcome))
"""

STYLES = {
    "module-level client before the guard's import": (
        'sqs = boto3.client("sqs", region_name="us-east-1")\n'
        "sqs_client = lambda: sqs\n"
        'send = lambda url: sqs.send_message(QueueUrl=url, MessageBody="next")',
        "    pass",
    ),
    "module-level resource": (
        'sqs = boto3.resource("sqs", region_name="us-east-1")\n'
        "sqs_client = lambda: sqs.meta.client\n"
        'send = lambda url: sqs.Queue(url).send_message(MessageBody="next")',
        "    pass",
    ),
    "module-level boto3.Session().client": (
        'session = boto3.Session(region_name="us-east-1")\n'
        'sqs = session.client("sqs")\n'
        "sqs_client = lambda: sqs\n"
        'send = lambda url: sqs.send_message(QueueUrl=url, MessageBody="next")',
        "    pass",
    ),
    "client made in the handler": (
        "",
        "    global sqs_client, send\n"
        '    sqs = boto3.client("sqs", region_name="us-east-1")\n'
        "    sqs_client = lambda: sqs\n"
        '    send = lambda url: sqs.send_message(QueueUrl=url, MessageBody="next")',
    ),
}


@pytest.mark.parametrize("style", STYLES)
def test_a_call_past_the_limit_is_refused_whatever_client_made_it(style, tmp_path, monkeypatch):
    before_import, in_handler = STYLES[style]
    script = tmp_path / "user_function.py"
    script.write_text(USER_CODE.format(before_import=before_import, in_handler=in_handler))
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("GUARDRAIL_SIGNAL_BUS", "signals")  # the refusal's own publish fails: logged

    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, textwrap.shorten(done.stderr, 2000)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"stamped": 2, "past_the_limit": "refused"}
