"""The operation sequence Terraform's AWS provider issues for aws_sns_topic and
aws_sns_topic_subscription (create, read, update, delete; research §6.2 in
shared/reference/events-notifications.md), run with boto3 against a Bosun endpoint.

Usage: sns_terraform.py ENDPOINT_URL. Prints {"steps": N, "failures": [...]} as JSON.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
sns = boto3.client("sns", endpoint_url=endpoint, region_name="us-east-1")
failures = []
steps = 0


def check(what, ok, detail=""):
    global steps
    steps += 1
    if not ok:
        failures.append({"step": what, "detail": str(detail)})


def code_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


# aws_sns_topic: create = CreateTopic(Name, Tags), then one SetTopicAttributes per attribute.
created = sns.create_topic(Name="tf-alerts", Tags=[{"Key": "team", "Value": "ops"}])
arn = created["TopicArn"]
check("create returns the ARN", arn == "arn:aws:sns:us-east-1:000000000000:tf-alerts", arn)
policy = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish", "Resource": arn}],
}
sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Ops")
sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))

# read = GetTopicAttributes (a non-empty map; Policy with valid principals) + ListTagsForResource.
attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
check("attributes are a non-empty map", len(attrs) > 0, attrs)
check("TopicArn attribute", attrs.get("TopicArn") == arn, attrs)
check("DisplayName attribute", attrs.get("DisplayName") == "Ops", attrs)
read_policy = json.loads(attrs.get("Policy", "{}"))
check("Policy round-trips", read_policy == policy, attrs.get("Policy"))
check("Owner attribute", attrs.get("Owner") == "000000000000", attrs)
tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
check("tags read back", tags == [{"Key": "team", "Value": "ops"}], tags)

# update: SetTopicAttributes per changed attribute; tags through Tag/UntagResource.
sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Operators")
sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
check("updated DisplayName", attrs.get("DisplayName") == "Operators", attrs)
tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
check("updated tags", tags == [{"Key": "env", "Value": "prod"}], tags)

# aws_sns_topic_subscription (http, no endpoint_auto_confirms): create does not wait.
sub = sns.subscribe(
    TopicArn=arn,
    Protocol="http",
    Endpoint="http://127.0.0.1:9/hook",
    Attributes={"RawMessageDelivery": "false"},
    ReturnSubscriptionArn=True,
)["SubscriptionArn"]
check("subscribe returns a real ARN", sub.startswith(arn + ":"), sub)
# read works on a pending subscription and says so.
sattrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
check("pending subscription readable", sattrs.get("PendingConfirmation") == "true", sattrs)
for key, want in [("Protocol", "http"), ("Endpoint", "http://127.0.0.1:9/hook"), ("TopicArn", arn),
                  ("Owner", "000000000000"), ("RawMessageDelivery", "false"), ("SubscriptionArn", sub)]:
    check("subscription attribute " + key, sattrs.get(key) == want, sattrs)
# update: SetSubscriptionAttributes per attribute.
sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
sattrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
check("RawMessageDelivery updated", sattrs.get("RawMessageDelivery") == "true", sattrs)
# delete: Unsubscribe, then GetSubscriptionAttributes until NotFound.
code, _ = code_of(lambda: sns.unsubscribe(SubscriptionArn=sub))
check("unsubscribe succeeds", code is None, code)
code, status = code_of(lambda: sns.get_subscription_attributes(SubscriptionArn=sub))
check("deleted subscription is NotFound (404)", (code, status) == ("NotFound", 404), (code, status))

# aws_sns_topic delete: DeleteTopic; NotFound afterwards; deleting again is fine.
sns.delete_topic(TopicArn=arn)
code, status = code_of(lambda: sns.get_topic_attributes(TopicArn=arn))
check("deleted topic is NotFound (404)", (code, status) == ("NotFound", 404), (code, status))
code, _ = code_of(lambda: sns.delete_topic(TopicArn=arn))
check("deleting again succeeds", code is None, code)

print(json.dumps({"steps": steps, "failures": failures}))
