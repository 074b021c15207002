"""AWS error conformance: real boto3 calls against a Bosun server, each checked for AWS's error
code and, where AWS's text is on record, its exact message (or a recorded part of it).

Usage: aws_errors.py ENDPOINT_URL  (credentials from the usual AWS environment/files).
Prints JSON: {"cases": N, "exact": M, "failures": [...]}.

Every case names its source. Abbreviations:
- MOTO_T(test): moto's SSM test suite (tests/test_ssm/*.py), whose asserted texts record AWS's
  answers; MOTO_M(fn): moto's SSM model code (moto/ssm/models.py) where no test asserts it.
- MODEL(shape): botocore's SSM service-2.json constraint; the message wording is AWS's
  model-validation format, whose sources are tabled in `bosun_core::model` (mod.rs).
- DOCS(op): the error codes botocore's model lists for the operation, with the meaning its
  documentation gives; code only.
Where the sources disagree or no text is on record, only the code is checked (message=None).
Client-side validation is off so boto3 sends what AWS's server would have to refuse.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CMD_DOC = '{"schemaVersion":"2.2","description":"d","mainSteps":[{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["%s"]}}]}'
MISSING_CMD = "11111111-2222-3333-4444-555555555555"
NODE = "mi-0123456789abcdef0"

NAME_RULES = ('Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist '
              'of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and '
              'the following 3 symbols .-_')
RESERVED_PREFIX = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'
PATH_RULES = ('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a '
              'forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only '
              'letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special '
              'characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". '
              'Valid example: /get/parameters2-/by1./path0_.')
RESERVED_PATH = ('Filters for common parameters can\'t be prefixed with "aws" or "ssm" (case-insensitive). When '
                 'using global parameters, please specify within a global namespace.')
NO_DOC = "The specified document does not exist."
BAD_DOC_VERSION = "The document version is not valid or does not exist."


def MOTO_T(name):
    return "moto tests/test_ssm: " + name


def MOTO_M(name):
    return "moto moto/ssm/models.py: " + name


def MODEL(shape):
    return "botocore ssm service-2.json " + shape + "; format: bosun_core::model table"


def DOCS(op):
    return "botocore ssm service-2.json errors of " + op


def ve(entry):
    return "1 validation error detected: " + entry


CASES = []


def case(id, op, params, code, message=None, source=None, contains=None):
    assert source, id
    CASES.append(dict(id=id, op=op, params=params, code=code, message=message, contains=contains, source=source))


def setup(c):
    c.put_parameter(Name="/conf/str", Value="v1", Type="String")
    c.put_parameter(Name="/conf/str", Value="v2", Type="String", Overwrite=True)
    c.put_parameter(Name="/conf/sec", Value="s", Type="SecureString")
    c.put_parameter(Name="conf-plain", Value="p", Type="String")
    c.label_parameter_version(Name="/conf/str", ParameterVersion=1, Labels=["prod"])
    c.create_document(Name="ConfDoc", DocumentType="Command", Content=CMD_DOC % "echo hi", VersionName="Base")
    c.create_document(Name="SharedDoc", DocumentType="Command", Content=CMD_DOC % "echo shared")
    c.modify_document_permission(Name="SharedDoc", PermissionType="Share", AccountIdsToAdd=["111122223333"])
    c.put_parameter(Name="/conf/gone", Value="g", Type="String")
    c.delete_parameter(Name="/conf/gone")


# --- Parameter Store -------------------------------------------------------------------------
case("get-missing", "get_parameter", {"Name": "/conf/missing"}, "ParameterNotFound", "",
     "issue 11 (AWS answers GetParameter of a missing name with an empty message)")
case("get-missing-selector", "get_parameter", {"Name": "/conf/missing:1"}, "ParameterNotFound", None,
     MOTO_T("test_get_parameter_with_version_and_labels"))
case("get-version-missing", "get_parameter", {"Name": "/conf/str:9"}, "ParameterVersionNotFound",
     "Systems Manager could not find version 9 of /conf/str. Verify the version and try again.",
     MOTO_T("test_get_parameter_with_version_and_labels"))
case("put-exists", "put_parameter", {"Name": "/conf/str", "Value": "x", "Type": "String"}, "ParameterAlreadyExists",
     "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
     MOTO_T("test_put_parameter"))
case("put-exists-no-type", "put_parameter", {"Name": "/conf/str", "Value": "x"}, "ParameterAlreadyExists",
     "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
     MOTO_T("test_update_parameter_already_exists_error"))
case("put-empty-value", "put_parameter", {"Name": "/conf/new", "Value": "", "Type": "String"}, "ValidationException",
     ve("Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"),
     "ministryofjustice/modernisation-platform#8116 (2024 Go SDK answer; older 2021 records quote the value)")
case("put-tags-overwrite", "put_parameter",
     {"Name": "/conf/str", "Value": "x", "Type": "String", "Overwrite": True, "Tags": [{"Key": "a", "Value": "b"}]},
     "ValidationException",
     "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove "
     "overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
     MOTO_M("put_parameter") + "; prefix in public user reports")
for n in ["ssm_test", "SSM_TEST", "aws_test", "AWS_TEST"]:
    case("put-prefix-" + n, "put_parameter", {"Name": n, "Value": "x", "Type": "String"}, "ValidationException",
         RESERVED_PREFIX, MOTO_T("test_put_parameter_invalid_names"))
for n in ["/ssm_test/path/to/var", "/SSM/PATH/TO/VAR"]:
    case("put-ssm-path-" + n, "put_parameter", {"Name": n, "Value": "x", "Type": "String"}, "ValidationException",
         NAME_RULES, MOTO_T("test_put_parameter_invalid_names"))
for n in ["/aws_test/path/to/var", "/AWS/PATH/TO/VAR"]:
    case("put-aws-path-" + n, "put_parameter", {"Name": n, "Value": "x", "Type": "String"}, "AccessDeniedException",
         "No access to reserved parameter name: %s." % n, MOTO_T("test_put_parameter_invalid_names"))
case("put-colon-name", "put_parameter", {"Name": "/conf/sha256:abc", "Value": "x", "Type": "String"},
     "ValidationException", NAME_RULES,
     "live ap-northeast-1 probe quoted in a public project's source; LocalStack InvalidParameterNameException")
case("put-no-type", "put_parameter", {"Name": "/conf/notype", "Value": "x"}, "ValidationException",
     "A parameter type is required when you create a parameter.", MOTO_T("test_put_parameter_no_type"))
case("put-bad-type", "put_parameter", {"Name": "/conf/badtype", "Value": "x", "Type": "str"}, "ValidationException",
     None, MOTO_T("test_put_parameter_invalid_type") + " (records enum order [SecureString, StringList, String]; "
     "Bosun prints the model's order)")
for dt in ["not_text", "not_ec2", "something weird"]:
    case("put-data-type-" + dt, "put_parameter", {"Name": "/conf/dt", "Value": "x", "Type": "String", "DataType": dt},
         "ValidationException", "The following data type is not supported: %s (Data type names are all lowercase.)" % dt,
         MOTO_T("test_put_parameter_invalid_data_type"))
case("delete-missing", "delete_parameter", {"Name": "/conf/missing"}, "ParameterNotFound", None,
     MOTO_T("test_delete_nonexistent_parameter"))
case("delete-deleted", "delete_parameter", {"Name": "/conf/gone"}, "ParameterNotFound", None, DOCS("DeleteParameter"))
case("history-missing", "get_parameter_history", {"Name": "/conf/missing"}, "ParameterNotFound", None,
     DOCS("GetParameterHistory"))
case("getparams-too-many", "get_parameters", {"Names": ["p%d" % i for i in range(11)]}, "ValidationException",
     None, MOTO_T("test_get_parameters_errors"), contains="at 'names' failed to satisfy constraint: Member must have "
     "length less than or equal to 10")
case("label-missing-param", "label_parameter_version", {"Name": "/conf/missing", "Labels": ["a"]},
     "ParameterNotFound", None, MOTO_T("test_label_parameter_version_invalid_name"))
case("label-missing-version", "label_parameter_version",
     {"Name": "/conf/str", "ParameterVersion": 9, "Labels": ["a"]}, "ParameterVersionNotFound",
     "Systems Manager could not find version 9 of /conf/str. Verify the version and try again.",
     MOTO_T("test_label_parameter_version_invalid_parameter_version"))
case("label-eleven", "label_parameter_version",
     {"Name": "/conf/str", "ParameterVersion": 2, "Labels": ["l%d" % i for i in range(11)]},
     "ValidationException", None, MODEL("ParameterLabelList max 10"))
case("unlabel-missing-param", "unlabel_parameter_version",
     {"Name": "/conf/missing", "ParameterVersion": 1, "Labels": ["a"]}, "ParameterNotFound", None,
     MOTO_T("test_unlabel_parameter_version_invalid_name"))
case("unlabel-missing-version", "unlabel_parameter_version",
     {"Name": "/conf/str", "ParameterVersion": 9, "Labels": ["a"]}, "ParameterVersionNotFound",
     "Systems Manager could not find version 9 of /conf/str. Verify the version and try again.",
     MOTO_T("test_unlabel_parameter_version_invalid_parameter_version"))

# --- DescribeParameters / GetParametersByPath filters ------------------------------------------
F = MOTO_T("test_describe_parameters_invalid_parameter_filters")
case("filter-both-kinds", "describe_parameters",
     {"Filters": [{"Key": "Name", "Values": ["test"]}], "ParameterFilters": [{"Key": "Name", "Values": ["test"]}]},
     "ValidationException", "You can use either Filters or ParameterFilters in a single request.",
     MOTO_T("test_describe_parameters_needs_param"))
case("filter-bad-key", "describe_parameters", {"ParameterFilters": [{"Key": "key"}]}, "ValidationException", None, F,
     contains="at 'parameterFilters.1.member.key' failed to satisfy constraint: Member must satisfy regular "
     "expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier")
case("filter-long-tag", "describe_parameters", {"ParameterFilters": [{"Key": "tag:" + "t" * 129}]},
     "ValidationException", None, F, contains="Member must have length less than or equal to 132")
case("filter-long-option", "describe_parameters", {"ParameterFilters": [{"Key": "Name", "Option": "over 10 chars"}]},
     "ValidationException", None, F, contains="Member must have length less than or equal to 10")
case("filter-many-values", "describe_parameters", {"ParameterFilters": [{"Key": "Name", "Values": ["test"] * 51}]},
     "ValidationException", None, F, contains="Member must have length less than or equal to 50")
case("filter-long-value", "describe_parameters", {"ParameterFilters": [{"Key": "Name", "Values": ["t" * 1025]}]},
     "ValidationException", None, F,
     contains="Member must have length less than or equal to 1024, Member must have length greater than or equal to 1")
case("filter-two-errors", "describe_parameters",
     {"ParameterFilters": [{"Key": "Name", "Option": "over 10 chars"}, {"Key": "key"}]}, "ValidationException",
     None, F, contains="2 validation errors detected:")
case("filter-label", "describe_parameters", {"ParameterFilters": [{"Key": "Label"}]}, "InvalidFilterKey",
     "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier].", F)
case("filter-no-values", "describe_parameters", {"ParameterFilters": [{"Key": "Name"}]}, "InvalidFilterValue",
     "The following filter values are missing : null for filter key Name.", F)
case("filter-duplicated", "describe_parameters",
     {"ParameterFilters": [{"Key": "Name", "Values": ["test"]}, {"Key": "Name", "Values": ["test test"]}]},
     "InvalidFilterKey",
     "The following filter is duplicated in the request: Name. A request can contain only one occurrence of a "
     "specific filter.", F + "; code from " + MOTO_M("_validate_parameter_filters"))
case("filter-path-aws", "describe_parameters", {"ParameterFilters": [{"Key": "Path", "Values": ["/aws", "/ssm"]}]},
     "ValidationException", RESERVED_PATH, F)
case("filter-path-ssm", "describe_parameters", {"ParameterFilters": [{"Key": "Path", "Values": ["/ssm/x"]}]},
     "ValidationException", RESERVED_PATH, F)
case("filter-path-option", "describe_parameters",
     {"ParameterFilters": [{"Key": "Path", "Option": "Equals", "Values": ["test"]}]}, "InvalidFilterOption",
     "The following filter option is not valid: Equals. Valid options include: [Recursive, OneLevel].", F)
case("filter-tier-value", "describe_parameters", {"ParameterFilters": [{"Key": "Tier", "Values": ["test"]}]},
     "InvalidFilterOption",
     "The following filter value is not valid: test. Valid values include: [Standard, Advanced, Intelligent-Tiering].", F)
case("filter-type-value", "describe_parameters", {"ParameterFilters": [{"Key": "Type", "Values": ["test"]}]},
     "InvalidFilterOption",
     "The following filter value is not valid: test. Valid values include: [String, StringList, SecureString].", F)
case("filter-name-option", "describe_parameters",
     {"ParameterFilters": [{"Key": "Name", "Option": "option", "Values": ["test"]}]}, "InvalidFilterOption",
     "The following filter option is not valid: option. Valid options include: [BeginsWith, Equals].", F)
case("filter-type-option", "describe_parameters",
     {"ParameterFilters": [{"Key": "Type", "Option": "Contains", "Values": ["String"]}]}, "InvalidFilterOption",
     "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals].",
     MOTO_M("_validate_parameter_filters"))
for v in ["/###", "//", "test"]:
    case("filter-path-invalid-" + v, "describe_parameters", {"ParameterFilters": [{"Key": "Path", "Values": [v]}]},
         "ValidationException", PATH_RULES, MOTO_T("test_describe_parameters_invalid_path"))
for k in ["Name", "Path", "Tier"]:
    case("bypath-key-" + k, "get_parameters_by_path",
         {"Path": "/conf", "ParameterFilters": [{"Key": k, "Values": ["/error"]}]}, "InvalidFilterKey",
         "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId]." % k,
         MOTO_T("test_get_parameters_by_path"))

# --- Documents ----------------------------------------------------------------------------------
D = MOTO_T("test_ssm_docs.py")
case("doc-get-missing", "get_document", {"Name": "NoSuchDoc"}, "InvalidDocument", NO_DOC, D)
case("doc-describe-missing", "describe_document", {"Name": "NoSuchDoc"}, "InvalidDocument", NO_DOC, D)
case("doc-delete-missing", "delete_document", {"Name": "NoSuchDoc"}, "InvalidDocument", NO_DOC, D)
case("doc-update-missing", "update_document", {"Name": "NoSuchDoc", "Content": CMD_DOC % "echo x"},
     "InvalidDocument", NO_DOC, D)
case("doc-versions-missing", "list_document_versions", {"Name": "NoSuchDoc"}, "InvalidDocument", NO_DOC, D)
case("doc-permission-missing", "describe_document_permission", {"Name": "NoSuchDoc", "PermissionType": "Share"},
     "InvalidDocument", NO_DOC, MOTO_T("test_ssm_doc_permissions.py"))
case("doc-create-exists", "create_document",
     {"Name": "ConfDoc", "DocumentType": "Command", "Content": CMD_DOC % "echo 2"}, "DocumentAlreadyExists",
     "The specified document already exists.", D)
case("doc-update-bad-version", "update_document",
     {"Name": "ConfDoc", "DocumentVersion": "7", "Content": CMD_DOC % "echo 3"}, "InvalidDocumentVersion",
     BAD_DOC_VERSION, D)
case("doc-get-bad-version", "get_document", {"Name": "ConfDoc", "DocumentVersion": "7"}, "InvalidDocumentVersion",
     None, DOCS("GetDocument"))
case("doc-update-same-content", "update_document",
     {"Name": "ConfDoc", "DocumentVersion": "$LATEST", "Content": CMD_DOC % "echo hi"}, "DuplicateDocumentContent",
     "The content of the association document matches another document. Change the content of the document and "
     "try again.", MOTO_T("test_update_document"))
case("doc-update-duplicate-version-name", "update_document",
     {"Name": "ConfDoc", "DocumentVersion": "$LATEST", "Content": CMD_DOC % "echo named", "VersionName": "Base"},
     "DuplicateDocumentVersionName", "The specified version name is a duplicate.", MOTO_T("test_update_document"))
case("doc-delete-default-version", "delete_document", {"Name": "ConfDoc", "DocumentVersion": "1"},
     "InvalidDocumentOperation", "Default version of the document can't be deleted.", D)
case("doc-delete-shared", "delete_document", {"Name": "SharedDoc"}, "InvalidDocumentOperation",
     "You attempted to delete a document while it is still shared. You must stop sharing the document before you "
     "can delete it.", MOTO_M("delete_document") + "; the model's InvalidDocumentOperation documentation")
case("doc-bad-json", "create_document", {"Name": "BadDoc", "Content": "{not json"}, "InvalidDocumentContent", None, D)
case("doc-permission-type", "modify_document_permission",
     {"Name": "ConfDoc", "PermissionType": "Foo", "AccountIdsToAdd": ["111122223333"]}, "InvalidPermissionType",
     None, MOTO_T("test_ssm_doc_permissions.py") + "; " + DOCS("ModifyDocumentPermission"))
case("doc-default-missing-version", "update_document_default_version", {"Name": "ConfDoc", "DocumentVersion": "9"},
     "InvalidDocumentVersion", None, DOCS("UpdateDocumentDefaultVersion"))
case("doc-default-missing-doc", "update_document_default_version", {"Name": "NoSuchDoc", "DocumentVersion": "1"},
     "InvalidDocument", None, DOCS("UpdateDocumentDefaultVersion"))

# --- Tags ---------------------------------------------------------------------------------------
for op, extra in [("add_tags_to_resource", {"Tags": [{"Key": "a", "Value": "b"}]}),
                  ("remove_tags_from_resource", {"TagKeys": ["a"]}), ("list_tags_for_resource", {})]:
    case("tags-type-" + op, op, dict({"ResourceType": "foo", "ResourceId": "bar"}, **extra), "InvalidResourceType",
         None, MOTO_T("test_tags_invalid_resource_type") + "; issue 11's conformance suite")
    case("tags-param-missing-" + op, op, dict({"ResourceType": "Parameter", "ResourceId": "bar"}, **extra),
         "InvalidResourceId", None, MOTO_T("test_tags_invalid_resource_id"))
    case("tags-doc-missing-" + op, op, dict({"ResourceType": "Document", "ResourceId": "NoSuchDoc"}, **extra),
         "InvalidResourceId", None, DOCS("AddTagsToResource"))
case("tags-deleted-param", "list_tags_for_resource", {"ResourceType": "Parameter", "ResourceId": "/conf/gone"},
     "InvalidResourceId", None, MOTO_T("test_tags_in_list_tags_from_resource_parameter"))

# --- Run Command --------------------------------------------------------------------------------
case("cmd-invocations-missing", "list_command_invocations", {"CommandId": MISSING_CMD}, "InvalidCommandId", None,
     DOCS("ListCommandInvocations"))
case("cmd-list-missing", "list_commands", {"CommandId": MISSING_CMD}, "InvalidCommandId", None, DOCS("ListCommands"))
case("cmd-get-missing", "get_command_invocation", {"CommandId": MISSING_CMD, "InstanceId": NODE}, "InvalidCommandId",
     None, MOTO_M("get_command_by_id"))
case("cmd-cancel-missing", "cancel_command", {"CommandId": MISSING_CMD}, "InvalidCommandId", None,
     DOCS("CancelCommand"))
case("cmd-send-missing-doc", "send_command", {"DocumentName": "NoSuchDoc", "InstanceIds": [NODE]}, "InvalidDocument",
     None, DOCS("SendCommand"))

# --- Model validation (AWS's format, generated from botocore's model on the server) ----------------
def model_case(id, op, params, entry, shape):
    case("model-" + id, op, params, "ValidationException", ve(entry), MODEL(shape))


LONG = "p" * 2049
model_case("getparam-name", "get_parameter", {"Name": LONG},
           "Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048" % LONG,
           "PSParameterName max 2048 (wording: youyo/awslogin#20)")
model_case("putparam-no-name", "put_parameter", {"Value": "x", "Type": "String"},
           "Value null at 'name' failed to satisfy constraint: Member must not be null",
           "PutParameterRequest.Name required (wording: serverless/serverless#2036)")


def le(value, path, n):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d" % (value, path, n)


def ge(value, path, n):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d" % (value, path, n)


def vle(value, path, n):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d" % (value, path, n)


def vge(value, path, n):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d" % (value, path, n)


def pat(value, path, pattern):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s" % (value, path, pattern)


def enum(value, path, values):
    return "Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]" % (value, path, values)


def null(path):
    return "Value null at '%s' failed to satisfy constraint: Member must not be null" % path


def jlist(items):
    return "[" + ", ".join(items) + "]"


ELEVEN = ["n%d" % i for i in range(11)]
FIFTY_ONE = ["mi-%017x" % i for i in range(51)]
SIX_TARGETS = [{"Key": "tag:a", "Values": ["b"]}] * 6
RUN = {"DocumentName": "AWS-RunShellScript", "InstanceIds": [NODE]}
model_case("getparams-empty", "get_parameters", {"Names": []}, ge("[]", "names", 1), "ParameterNameList min 1")
model_case("putparam-description", "put_parameter",
           {"Name": "/m/x", "Value": "x", "Type": "String", "Description": "d" * 1025},
           le("d" * 1025, "description", 1024), "ParameterDescription max 1024")
model_case("putparam-tier", "put_parameter", {"Name": "/m/x", "Value": "x", "Type": "String", "Tier": "Cheap"},
           enum("Cheap", "tier", "Standard, Advanced, Intelligent-Tiering"), "ParameterTier enum")
model_case("deleteparams-many", "delete_parameters", {"Names": ELEVEN}, le(jlist(ELEVEN), "names", 10),
           "ParameterNameList max 10")
model_case("deleteparams-empty", "delete_parameters", {"Names": []}, ge("[]", "names", 1), "ParameterNameList min 1")
model_case("history-maxresults-0", "get_parameter_history", {"Name": "/conf/str", "MaxResults": 0},
           vge("0", "maxResults", 1), "MaxResults min 1 (range wording: bosun_core::model table)")
model_case("history-maxresults-51", "get_parameter_history", {"Name": "/conf/str", "MaxResults": 51},
           vle("51", "maxResults", 50), "MaxResults max 50")
model_case("describeparams-maxresults", "describe_parameters", {"MaxResults": 51}, vle("51", "maxResults", 50),
           "MaxResults max 50")
model_case("bypath-maxresults", "get_parameters_by_path", {"Path": "/conf", "MaxResults": 11},
           vle("11", "maxResults", 10), "GetParametersByPathMaxResults max 10")
model_case("getparam-empty-name", "get_parameter", {"Name": ""}, ge("", "name", 1), "PSParameterName min 1")
model_case("label-no-labels", "label_parameter_version", {"Name": "/conf/str"}, null("labels"),
           "LabelParameterVersionRequest.Labels required")
model_case("send-timeout", "send_command", dict(RUN, TimeoutSeconds=29), vge("29", "timeoutSeconds", 30),
           "TimeoutSeconds min 30")
model_case("send-docname", "send_command", {"DocumentName": "bad name!", "InstanceIds": [NODE]},
           pat("bad name!", "documentName", r"^[a-zA-Z0-9_\-.:/]{3,128}$"), "DocumentARN pattern")
model_case("send-comment", "send_command", dict(RUN, Comment="c" * 101), le("c" * 101, "comment", 100),
           "Comment max 100")
model_case("send-maxconcurrency", "send_command", dict(RUN, MaxConcurrency="abc"),
           pat("abc", "maxConcurrency", r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"), "MaxConcurrency pattern")
model_case("send-maxerrors", "send_command", dict(RUN, MaxErrors="1x"),
           pat("1x", "maxErrors", r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"), "MaxErrors pattern")
model_case("send-instances", "send_command", {"DocumentName": "AWS-RunShellScript", "InstanceIds": FIFTY_ONE},
           le(jlist(FIFTY_ONE), "instanceIds", 50), "InstanceIdList max 50")
model_case("send-targets", "send_command", {"DocumentName": "AWS-RunShellScript", "Targets": SIX_TARGETS},
           le(jlist(["{Key=tag:a, Values=[b]}"] * 6), "targets", 5), "Targets max 5")
model_case("send-no-doc", "send_command", {"InstanceIds": [NODE]}, null("documentName"),
           "SendCommandRequest.DocumentName required")
model_case("send-bucket", "send_command", dict(RUN, OutputS3BucketName="b"), ge("b", "outputS3BucketName", 3),
           "S3BucketName min 3")
model_case("listcmds-max", "list_commands", {"MaxResults": 51}, vle("51", "maxResults", 50), "CommandMaxResults max 50")
model_case("listinv-max", "list_command_invocations", {"MaxResults": 51}, vle("51", "maxResults", 50),
           "CommandMaxResults max 50")
model_case("getinv-cmdid", "get_command_invocation", {"CommandId": "a" * 35, "InstanceId": NODE},
           ge("a" * 35, "commandId", 36), "CommandId min 36")
model_case("getinv-instance", "get_command_invocation", {"CommandId": MISSING_CMD, "InstanceId": "bogus"},
           pat("bogus", "instanceId", r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)"), "InstanceId pattern")
model_case("getinv-plugin", "get_command_invocation", {"CommandId": MISSING_CMD, "InstanceId": NODE, "PluginName": "x"},
           ge("x", "pluginName", 4), "CommandPluginName min 4")
model_case("cancel-cmdid", "cancel_command", {"CommandId": "short"}, ge("short", "commandId", 36), "CommandId min 36")
model_case("createdoc-name", "create_document", {"Name": "a b", "Content": "{}"},
           pat("a b", "name", r"^[a-zA-Z0-9_\-.]{3,128}$"), "DocumentName pattern")
model_case("createdoc-format", "create_document", {"Name": "DocX", "Content": "{}", "DocumentFormat": "XML"},
           enum("XML", "documentFormat", "YAML, JSON, TEXT"), "DocumentFormat enum")
model_case("createdoc-no-content", "create_document", {"Name": "DocX"}, null("content"),
           "CreateDocumentRequest.Content required")
model_case("createdoc-versionname", "create_document", {"Name": "DocX", "Content": "{}", "VersionName": "bad name"},
           pat("bad name", "versionName", r"^[a-zA-Z0-9_\-.]{1,128}$"), "DocumentVersionName pattern")
model_case("describedoc-name", "describe_document", {"Name": "x"},
           pat("x", "name", r"^[a-zA-Z0-9_\-.:/]{3,128}$"), "DocumentARN pattern")
model_case("listdocs-max", "list_documents", {"MaxResults": 0}, vge("0", "maxResults", 1), "MaxResults min 1")
model_case("deletedoc-name", "delete_document", {"Name": "a/b"},
           pat("a/b", "name", r"^[a-zA-Z0-9_\-.]{3,128}$"), "DocumentName pattern")
model_case("defaultversion-pattern", "update_document_default_version", {"Name": "ConfDoc", "DocumentVersion": "v1"},
           pat("v1", "documentVersion", r"(^[1-9][0-9]*$)"), "DocumentVersionNumber pattern")
model_case("listdocversions-max", "list_document_versions", {"Name": "ConfDoc", "MaxResults": 51},
           vle("51", "maxResults", 50), "MaxResults max 50")
model_case("tags-key-long", "add_tags_to_resource",
           {"ResourceType": "Parameter", "ResourceId": "/conf/str", "Tags": [{"Key": "k" * 129, "Value": "v"}]},
           le("k" * 129, "tags.1.member.key", 128), "TagKey max 128 (nested path: serverless/serverless#2036)")
model_case("tags-value-long", "add_tags_to_resource",
           {"ResourceType": "Parameter", "ResourceId": "/conf/str", "Tags": [{"Key": "k", "Value": "v" * 257}]},
           le("v" * 257, "tags.1.member.value", 256), "TagValue max 256")
model_case("tags-no-id", "list_tags_for_resource", {"ResourceType": "Parameter"}, null("resourceId"),
           "ListTagsForResourceRequest.ResourceId required")
model_case("tags-no-type", "list_tags_for_resource", {"ResourceId": "x"}, null("resourceType"),
           "ListTagsForResourceRequest.ResourceType required")
model_case("removetags-no-keys", "remove_tags_from_resource", {"ResourceType": "Parameter", "ResourceId": "/conf/str"},
           null("tagKeys"), "RemoveTagsFromResourceRequest.TagKeys required")
model_case("activation-no-role", "create_activation", {"Description": "d"}, null("iamRole"),
           "CreateActivationRequest.IamRole required")
model_case("activation-limit-0", "create_activation", {"IamRole": "r", "RegistrationLimit": 0},
           vge("0", "registrationLimit", 1), "RegistrationLimit min 1")
model_case("activation-limit-1001", "create_activation", {"IamRole": "r", "RegistrationLimit": 1001},
           vle("1001", "registrationLimit", 1000), "RegistrationLimit max 1000")
model_case("activation-description", "create_activation", {"IamRole": "r", "Description": "d" * 257},
           le("d" * 257, "description", 256), "ActivationDescription max 256")
model_case("activation-default-name", "create_activation", {"IamRole": "r", "DefaultInstanceName": "bad name!"},
           pat("bad name!", "defaultInstanceName", r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"), "DefaultInstanceName pattern")
model_case("deleteactivation-id", "delete_activation", {"ActivationId": "nope"},
           pat("nope", "activationId", r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
           "ActivationId pattern")
model_case("describeactivations-max", "describe_activations", {"MaxResults": 51}, vle("51", "maxResults", 50),
           "MaxResults max 50")
model_case("dii-max-4", "describe_instance_information", {"MaxResults": 4}, vge("4", "maxResults", 5),
           "MaxResultsEC2Compatible min 5")
model_case("dii-max-51", "describe_instance_information", {"MaxResults": 51}, vle("51", "maxResults", 50),
           "MaxResultsEC2Compatible max 50")
model_case("dii-filter-key", "describe_instance_information",
           {"InstanceInformationFilterList": [{"key": "Bogus", "valueSet": ["x"]}]},
           enum("Bogus", "instanceInformationFilterList.1.member.key",
                "InstanceIds, AgentVersion, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType, "
                "AssociationStatus"), "InstanceInformationFilterKey enum")
case("model-deregister-id", "deregister_managed_instance", {"InstanceId": "i-123"}, "ValidationException",
     "2 validation errors detected: " + pat("i-123", "instanceId", r"(^mi-[0-9a-f]{17}$)|(^eks_c:[0-9A-Za-z][A-Za-z0-9\-_]{0,99}_\w{17}$)")
     + "; " + ge("i-123", "instanceId", 20), MODEL("ManagedInstanceId pattern, min 20 (pattern before length)"))
model_case("listcompliance-max", "list_compliance_items", {"MaxResults": 51}, vle("51", "maxResults", 50),
           "MaxResults max 50")
model_case("putcompliance-type", "put_compliance_items",
           {"ResourceId": NODE, "ResourceType": "ManagedInstance", "ComplianceType": "bad type!",
            "ExecutionSummary": {"ExecutionTime": 0}, "Items": []},
           pat("bad type!", "complianceType", r"[A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+"), "ComplianceTypeName pattern")
model_case("describe-assoc-name", "describe_association", {"Name": "bad name!"},
           pat("bad name!", "name", r"^[a-zA-Z0-9_\-.:/]{3,128}$"), "DocumentARN pattern")
model_case("list-assoc-max", "list_associations", {"MaxResults": 0}, vge("0", "maxResults", 1), "MaxResults min 1")

# --- Service-level errors whose code the model documents (texts not on record) -----------------
U = MISSING_CMD
case("activation-missing", "delete_activation", {"ActivationId": U}, "InvalidActivationId", None,
     DOCS("DeleteActivation"))
case("deregister-missing", "deregister_managed_instance", {"InstanceId": NODE}, "InvalidInstanceId", None,
     DOCS("DeregisterManagedInstance"))
case("dii-filter-value", "describe_instance_information",
     {"Filters": [{"Key": "PingStatus", "Values": ["Sleepy"]}]}, "InvalidInstanceInformationFilterValue", None,
     DOCS("DescribeInstanceInformation"))
case("dii-filter-instance", "describe_instance_information",
     {"Filters": [{"Key": "InstanceIds", "Values": ["bogus"]}]}, "InvalidInstanceInformationFilterValue", None,
     DOCS("DescribeInstanceInformation"))
case("dii-filter-key-string", "describe_instance_information", {"Filters": [{"Key": "Bogus", "Values": ["x"]}]},
     "InvalidFilterKey", None, DOCS("DescribeInstanceInformation"))
for op, extra in [("describe_activations", {}), ("describe_parameters", {}), ("list_commands", {}),
                  ("list_documents", {}), ("get_parameters_by_path", {"Path": "/conf"}),
                  ("list_command_invocations", {}), ("describe_instance_information", {})]:
    case("next-token-" + op, op, dict({"NextToken": "garbage"}, **extra), "InvalidNextToken", None, DOCS(op))
case("listdocs-filter-key", "list_documents", {"Filters": [{"Key": "Bogus", "Values": ["x"]}]}, "InvalidFilterKey",
     None, DOCS("ListDocuments"))
case("put-pattern-mismatch", "put_parameter",
     {"Name": "/p/pat", "Value": "abc", "Type": "String", "AllowedPattern": "^[0-9]+$"},
     "ParameterPatternMismatchException", None, DOCS("PutParameter"))
case("put-bad-pattern", "put_parameter", {"Name": "/p/pat2", "Value": "abc", "Type": "String", "AllowedPattern": "(["},
     "InvalidAllowedPatternException", None, DOCS("PutParameter"))
case("put-unknown-alias", "put_parameter", {"Name": "/p/sl", "Value": "a", "Type": "SecureString", "KeyId": "alias/nope"},
     "InvalidKeyId", None, DOCS("PutParameter"))
case("put-type-change", "put_parameter", {"Name": "/conf/str", "Value": "x", "Type": "SecureString", "Overwrite": True},
     "HierarchyTypeMismatchException", None, DOCS("PutParameter"))
case("put-too-deep", "put_parameter", {"Name": "/p/" + "/".join(["l"] * 15), "Value": "x", "Type": "String"},
     "HierarchyLevelLimitExceededException", None, DOCS("PutParameter"))
case("put-bad-policies", "put_parameter", {"Name": "/p/pol", "Value": "x", "Type": "String", "Policies": "nope"},
     "InvalidPolicyAttributeException", None, DOCS("PutParameter"))
case("send-undeclared-parameter", "send_command", dict(RUN, Parameters={"nope": ["x"]}), "InvalidParameters", None,
     DOCS("SendCommand"))
case("send-missing-required", "send_command", dict(RUN), "InvalidParameters", None, DOCS("SendCommand"))
case("send-bad-doc-version", "send_command", {"DocumentName": "ConfDoc", "DocumentVersion": "9", "InstanceIds": [NODE]},
     "InvalidDocumentVersion", None, DOCS("SendCommand"))
case("tags-too-many", "add_tags_to_resource",
     {"ResourceType": "Parameter", "ResourceId": "/conf/str", "Tags": [{"Key": "k%d" % i, "Value": "v"} for i in range(51)]},
     "TooManyTagsError", None, DOCS("AddTagsToResource"))
case("tags-node-missing", "list_tags_for_resource", {"ResourceType": "ManagedInstance", "ResourceId": NODE},
     "InvalidResourceId", None, DOCS("ListTagsForResource"))
case("compliance-resource-type", "list_compliance_items", {"ResourceIds": [NODE], "ResourceTypes": ["Bogus"]},
     "InvalidResourceType", None, DOCS("ListComplianceItems"))
case("assoc-describe-missing", "describe_association", {"AssociationId": U}, "AssociationDoesNotExist", None,
     DOCS("DescribeAssociation"))
case("assoc-delete-missing", "delete_association", {"AssociationId": U}, "AssociationDoesNotExist", None,
     DOCS("DeleteAssociation"))
case("doc-permission-all-and-ids", "modify_document_permission",
     {"Name": "ConfDoc", "PermissionType": "Share", "AccountIdsToAdd": ["All", "111122223333"]},
     "DocumentPermissionLimit", "Accounts can either be all or a group of AWS accounts",
     MOTO_M("modify_document_permission"))


def run(url):
    c = boto3.client("ssm", endpoint_url=url, region_name="us-east-1",
                     config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    setup(c)
    failures, exact = [], 0
    for k in CASES:
        try:
            getattr(c, k["op"])(**k["params"])
            got = ("<success>", "")
        except ClientError as e:
            got = (e.response["Error"].get("Code"), e.response["Error"].get("Message", ""))
        ok = got[0] == k["code"]
        if k["message"] is not None:
            exact += 1
            ok = ok and got[1] == k["message"]
        if k["contains"] is not None:
            ok = ok and k["contains"] in got[1]
        if not ok:
            failures.append({"id": k["id"], "source": k["source"], "got_code": got[0], "got": got[1],
                             "want_code": k["code"], "want": k["message"], "want_part": k["contains"]})
    ids = [k["id"] for k in CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"
    return {"cases": len(CASES), "exact": exact, "failures": failures}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1]), indent=1))
