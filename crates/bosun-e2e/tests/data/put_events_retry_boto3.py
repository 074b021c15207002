"""An SDK retry of PutEvents, made by boto3 itself: the first attempt reaches the server, but
the client is shown a 500 in its place, so botocore retries the call with the same
amz-sdk-invocation-id (and a fresh signature). Prints the first attempt's answer and the one
the call returned, as JSON.

Usage: put_events_retry_boto3.py ENDPOINT_URL
"""

import json
import sys
import urllib.request

import boto3
from botocore.awsrequest import AWSResponse


class _Body:
    def __init__(self, data):
        self._data = data

    def stream(self, **_kwargs):
        yield self._data


def main():
    client = boto3.client("events", endpoint_url=sys.argv[1], region_name="us-east-1")
    first = {}

    def lose_first_answer(request, **_kwargs):
        if first:
            return None
        headers = {
            k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
        }
        sent = urllib.request.Request(
            request.url, data=request.body, headers=headers, method=request.method
        )
        with urllib.request.urlopen(sent) as answer:
            first["answer"] = json.loads(answer.read())
        first["invocation_id"] = headers.get("amz-sdk-invocation-id")
        body = b'{"__type":"InternalException","message":"answer lost on the way"}'
        return AWSResponse(
            request.url, 500, {"content-type": "application/x-amz-json-1.1"}, _Body(body)
        )

    client.meta.events.register("before-send.events.PutEvents", lose_first_answer)
    returned = client.put_events(
        Entries=[
            {"Source": "my.app", "DetailType": "Retried", "Detail": '{"n": 1}'},
            {"Source": "my.app", "DetailType": "Retried", "Detail": '{"n": 2}'},
        ]
    )
    returned.pop("ResponseMetadata", None)
    print(
        json.dumps(
            {
                "first": first["answer"],
                "returned": returned,
                "invocation_id": first["invocation_id"],
            }
        )
    )


if __name__ == "__main__":
    main()
