"""The calls Terraform's AWS provider makes for aws_cloudwatch_event_rule and
aws_cloudwatch_event_target (create, read, update, delete), through boto3, checking each answer
the way the provider reads it.

Usage: events_terraform.py ENDPOINT; credentials and region come from
AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE. Prints one JSON object; fails with a traceback.
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

PATTERN = json.dumps({
    "source": ["aws.ssm"],
    "detail-type": ["EC2 Command Invocation Status-change Notification"],
    "detail": {"status": ["Failed"], "document-name": ["AWS-UpdateSSMAgent"]},
})
TOPIC = "arn:aws:sns:us-east-1:000000000000:ops-mail"


def code(err):
    return err.response["Error"]["Code"], err.response["Error"]["Message"]


def read_rule(ev, name):
    """The provider's read: DescribeRule, then the tags interceptor's ListTagsForResource."""
    rule = ev.describe_rule(Name=name, EventBusName="default")
    tags = ev.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    assert rule["State"] in ("ENABLED", "DISABLED"), rule
    return rule, {t["Key"]: t["Value"] for t in tags}


def read_target(ev, rule, target_id):
    """The provider's read: ListTargetsByRule (Limit 100, paged), filtered by Id."""
    found, token = None, None
    while True:
        kw = {"Rule": rule, "EventBusName": "default", "Limit": 100}
        if token:
            kw["NextToken"] = token
        page = ev.list_targets_by_rule(**kw)
        found = found or next((t for t in page["Targets"] if t["Id"] == target_id), None)
        token = page.get("NextToken")
        if not token:
            return found


def main():
    ev = boto3.session.Session().client("events", endpoint_url=sys.argv[1])
    seen = {}

    # aws_cloudwatch_event_rule: create (PutRule with Tags), wait until found, read.
    created = ev.put_rule(Name="tf-rule", EventPattern=PATTERN, Description="failures",
                          State="ENABLED", Tags=[{"Key": "team", "Value": "ops"}])
    rule, tags = read_rule(ev, "tf-rule")
    assert rule["Arn"] == created["RuleArn"], (rule, created)
    assert json.loads(rule["EventPattern"]) == json.loads(PATTERN), rule
    assert tags == {"team": "ops"}, tags
    seen["rule_arn"] = rule["Arn"]

    # aws_cloudwatch_event_target: create (one target, any FailedEntries fail the apply), read.
    put = ev.put_targets(Rule="tf-rule", EventBusName="default", Targets=[{
        "Id": "terraform-20261203000000000001", "Arn": TOPIC,
        "InputTransformer": {"InputPathsMap": {"node": "$.detail.instance-id"},
                             "InputTemplate": '"Failed on <node>"'}}])
    assert put["FailedEntryCount"] == 0 and put["FailedEntries"] == [], put
    target = read_target(ev, "tf-rule", "terraform-20261203000000000001")
    assert target["Arn"] == TOPIC, target
    assert target["InputTransformer"]["InputTemplate"] == '"Failed on <node>"', target

    # Update: PutRule with the full input, then tag diffs; PutTargets with the same Id.
    ev.put_rule(Name="tf-rule", EventPattern=PATTERN, Description="all failures",
                State="DISABLED")
    ev.tag_resource(ResourceARN=rule["Arn"], Tags=[{"Key": "env", "Value": "prod"}])
    ev.untag_resource(ResourceARN=rule["Arn"], TagKeys=["team"])
    rule, tags = read_rule(ev, "tf-rule")
    assert (rule["Description"], rule["State"]) == ("all failures", "DISABLED"), rule
    assert tags == {"env": "prod"}, tags
    ev.put_targets(Rule="tf-rule", EventBusName="default", Targets=[{
        "Id": "terraform-20261203000000000001", "Arn": TOPIC, "Input": '{"fixed": true}'}])
    target = read_target(ev, "tf-rule", "terraform-20261203000000000001")
    assert target == {"Id": "terraform-20261203000000000001", "Arn": TOPIC,
                      "Input": '{"fixed": true}'}, target

    # Destroy, rule first as a parallel walk may: refused with the text the provider retries on.
    try:
        ev.delete_rule(Name="tf-rule", EventBusName="default", Force=False)
        raise AssertionError("a rule with targets was deleted")
    except ClientError as e:
        c, m = code(e)
        assert c == "ValidationException" and "Rule can't be deleted since it has targets" in m, (c, m)
        seen["delete_refused"] = m
    removed = ev.remove_targets(Rule="tf-rule", EventBusName="default",
                                Ids=["terraform-20261203000000000001"], Force=False)
    assert removed["FailedEntryCount"] == 0, removed
    ev.delete_rule(Name="tf-rule", EventBusName="default", Force=False)

    # Reads after destroy: ResourceNotFoundException means gone, for both resources.
    for call in (lambda: ev.describe_rule(Name="tf-rule", EventBusName="default"),
                 lambda: read_target(ev, "tf-rule", "terraform-20261203000000000001")):
        try:
            call()
            raise AssertionError("a deleted rule was found")
        except ClientError as e:
            c, m = code(e)
            assert c == "ResourceNotFoundException", (c, m)
            seen["gone"] = m
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
