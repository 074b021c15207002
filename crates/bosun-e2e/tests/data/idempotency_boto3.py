"""Repeated identical calls through boto3, as a script does them in a tight loop.

Usage: idempotency_boto3.py ENDPOINT SCENARIO [ARG...]; credentials and region come from
AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE. Prints one JSON object.

boto3 sends `amz-sdk-invocation-id` (a new one per call, the same across that call's retries)
and signs with one-second resolution, so identical calls in one second carry identical
signatures: each must still act once.
"""

import json
import sys

import boto3


def client(endpoint):
    return boto3.session.Session().client("ssm", endpoint_url=endpoint)


def exists(ssm, name):
    try:
        ssm.get_parameter(Name=name)
        return True
    except ssm.exceptions.ParameterNotFound:
        return False


def put_delete(ssm, name, rounds):
    """put/delete/put/delete...: the state after each call, as the next read sees it."""
    seen = []
    for _ in range(rounds):
        ssm.put_parameter(Name=name, Value="v", Type="String")
        seen.append(["put", exists(ssm, name)])
        ssm.delete_parameter(Name=name)
        seen.append(["delete", exists(ssm, name)])
    return {"seen": seen}


def create_activations(ssm, count):
    out = [
        ssm.create_activation(IamRole="BosunNode", RegistrationLimit=1)
        for _ in range(count)
    ]
    return {
        "ids": [a["ActivationId"] for a in out],
        "codes": [a["ActivationCode"] for a in out],
    }


def overwrite(ssm, name, count):
    versions = [
        ssm.put_parameter(Name=name, Value="same", Type="String", Overwrite=True)[
            "Version"
        ]
        for _ in range(count)
    ]
    return {"versions": versions, "final": ssm.get_parameter(Name=name)["Parameter"]["Version"]}


def send_commands(ssm, instance_id, script, count):
    ids = [
        ssm.send_command(
            InstanceIds=[instance_id],
            DocumentName="AWS-RunShellScript",
            Parameters={"commands": [script]},
        )["Command"]["CommandId"]
        for _ in range(count)
    ]
    return {"command_ids": ids}


def main():
    endpoint, scenario, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    ssm = client(endpoint)
    if scenario == "put-delete":
        result = put_delete(ssm, args[0], int(args[1]))
    elif scenario == "create-activations":
        result = create_activations(ssm, int(args[0]))
    elif scenario == "overwrite":
        result = overwrite(ssm, args[0], int(args[1]))
    elif scenario == "send-commands":
        result = send_commands(ssm, args[0], args[1], int(args[2]))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
