#!/usr/bin/env python3
"""Regenerate sigv4_fixtures.json: real SigV4 signatures made by botocore.

Run from anywhere:  python3 testdata/gen_sigv4_fixtures.py
Each fixture records the request exactly as it would arrive on the wire
(method, raw path, raw query, headers in order with repeats, body), the
secret, a fixed signing time, and botocore's canonical request, string to
sign and signature, so the Rust tests can check every intermediate step.
"""

import datetime
import hashlib
import json
import os
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNED_AT = datetime.datetime(2026, 11, 21, 12, 0, 0)
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
JSON_HEADERS = [
    ("Content-Type", "application/x-amz-json-1.1"),
    ("X-Amz-Target", "AmazonSSM.DescribeInstanceInformation"),
]


class RecordingSigV4Auth(SigV4Auth):
    """SigV4Auth that remembers the intermediate values of add_auth."""

    def __init__(self, *args):
        super().__init__(*args)
        self.recorded = {}

    def canonical_request(self, request):
        value = super().canonical_request(request)
        self.recorded["canonical_request"] = value
        return value

    def string_to_sign(self, request, canonical_request):
        value = super().string_to_sign(request, canonical_request)
        self.recorded["string_to_sign"] = value
        return value

    def signature(self, string_to_sign, request):
        value = super().signature(string_to_sign, request)
        self.recorded["signature"] = value
        return value


def make(
    name,
    *,
    method="POST",
    url="https://ssm.us-east-1.amazonaws.com/",
    region="us-east-1",
    headers=(),
    params=None,
    body=b"",
    token=None,
    context=None,
):
    host = urlsplit(url).netloc
    req = AWSRequest(method=method, url=url, data=body, params=params)
    # botocore signs the Host header it finds, or one derived from the URL;
    # set it so it also appears in the wire headers we record.
    req.headers["Host"] = host
    req.context.update(context or {})
    for k, v in headers:
        req.headers[k] = v  # HTTPHeaders.__setitem__ appends: repeats kept
    auth = RecordingSigV4Auth(Credentials(AKID, SECRET, token), "ssm", region)
    with mock.patch.object(
        botocore.auth, "get_current_datetime", return_value=SIGNED_AT
    ):
        auth.add_auth(req)
    prepared = req.prepare()
    wire = urlsplit(prepared.url)
    # AWSRequest.headers keeps repeated names; the prepared request's dict
    # does not, so take headers from the former and add what prepare() adds
    # (Content-Length).
    wire_headers = [[k, v] for k, v in req.headers.items()]
    for k, v in prepared.headers.items():
        if k not in req.headers:
            wire_headers.append([k, v])
    return {
        "name": name,
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        "region": region,
        "service": "ssm",
        "now": SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": prepared.method,
        "path": wire.path,
        "query": wire.query,
        "headers": wire_headers,
        "body": (prepared.body or b"").decode("utf-8"),
        "canonical_request": auth.recorded["canonical_request"],
        "string_to_sign": auth.recorded["string_to_sign"],
        "signature": auth.recorded["signature"],
    }


def main():
    describe = json.dumps(
        {"MaxResults": 50, "Filters": [{"Key": "PingStatus", "Values": ["Online"]}]}
    ).encode()
    fixtures = [
        make(
            "json_post",
            headers=JSON_HEADERS + [("User-Agent", "aws-cli/2 botocore")],
            body=describe,
        ),
        make(
            "query_special_chars",
            method="GET",
            params=[
                ("Name", "/my param/with spaces"),
                ("filter", "a+b=c&d;e"),
                ("empty", ""),
                ("uni", "\u00fc\u2713"),
                ("tilde~key", "*star*!'()"),
                ("b", "2"),
                ("b", "1"),
                ("B", "upper"),
            ],
        ),
        make(
            "session_token",
            headers=JSON_HEADERS,
            body=b"{}",
            token="IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
        ),
        make(
            "repeated_spaces",
            headers=JSON_HEADERS
            + [("X-Custom-Note", "  hello    big   world  "), ("X-Tail", "a  b ")],
            body=b'{"InstanceInformationFilterList":[]}',
        ),
        make(
            "repeated_header_names",
            headers=JSON_HEADERS + [("X-Dup", "one"), ("x-dup", "  two   too ")],
            body=b"{}",
        ),
        make(
            "date_header",
            headers=JSON_HEADERS + [("Date", "placeholder, replaced by botocore")],
            body=b"{}",
        ),
        make(
            "path_normalization",
            url="https://localhost:8443/foo%20bar/x!y~z/./a/../b//c/",
            region="eu-west-3",
            headers=JSON_HEADERS,
            body=describe,
        ),
        make(
            "content_sha256_header",
            headers=JSON_HEADERS
            + [("X-Amz-Content-SHA256", hashlib.sha256(describe).hexdigest())],
            body=describe,
        ),
        # Validly signed, but Bosun must refuse it: the body is not covered.
        make(
            "unsigned_payload",
            headers=JSON_HEADERS,
            body=describe,
            context={"payload_signing_enabled": False},
        ),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sigv4_fixtures.json")
    with open(out, "w") as f:
        json.dump(
            {"generator": f"botocore {botocore.__version__}", "fixtures": fixtures},
            f,
            indent=2,
            ensure_ascii=False,
        )
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures to {out}")


if __name__ == "__main__":
    main()
