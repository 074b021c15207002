//! The closed list of operations Bosun serves, whether each mutates state, and which resource
//! ARN a request acts on (for IAM policy checks).

use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::{
    activations, associations, automation, commands, compliance, document_writes, documents,
    instances, inventory, maintenance_windows, parameter_labels, parameter_put, parameter_search,
    parameters, send_command, sessions, tags, Ctx,
};

/// One operation Bosun implements.
pub struct Operation {
    pub name: &'static str,
    /// Mutating calls are audited, and their SDK retries get the first answer.
    pub mutating: bool,
    pub handler: fn(&Ctx, Value) -> Result<Value, ApiError>,
}

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "CreateAssociation",
        mutating: true,
        handler: associations::create_association,
    },
    Operation {
        name: "CreateAssociationBatch",
        mutating: true,
        handler: associations::create_association_batch,
    },
    Operation {
        name: "DescribeAssociation",
        mutating: false,
        handler: associations::describe_association,
    },
    Operation {
        name: "UpdateAssociation",
        mutating: true,
        handler: associations::update_association,
    },
    Operation {
        name: "DeleteAssociation",
        mutating: true,
        handler: associations::delete_association,
    },
    Operation {
        name: "ListAssociations",
        mutating: false,
        handler: associations::list_associations,
    },
    Operation {
        name: "ListAssociationVersions",
        mutating: false,
        handler: associations::list_association_versions,
    },
    Operation {
        name: "DescribeAssociationExecutions",
        mutating: false,
        handler: associations::describe_association_executions,
    },
    Operation {
        name: "DescribeAssociationExecutionTargets",
        mutating: false,
        handler: associations::describe_association_execution_targets,
    },
    Operation {
        name: "StartAssociationsOnce",
        mutating: true,
        handler: associations::start_associations_once,
    },
    Operation {
        name: "DescribeInstanceAssociationsStatus",
        mutating: false,
        handler: associations::describe_instance_associations_status,
    },
    Operation {
        name: "DescribeEffectiveInstanceAssociations",
        mutating: false,
        handler: associations::describe_effective_instance_associations,
    },
    Operation {
        name: "UpdateAssociationStatus",
        mutating: true,
        handler: associations::update_association_status,
    },
    Operation {
        name: "CreateMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::create_maintenance_window,
    },
    Operation {
        name: "UpdateMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::update_maintenance_window,
    },
    Operation {
        name: "GetMaintenanceWindow",
        mutating: false,
        handler: maintenance_windows::get_maintenance_window,
    },
    Operation {
        name: "DeleteMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::delete_maintenance_window,
    },
    Operation {
        name: "DescribeMaintenanceWindows",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_windows,
    },
    Operation {
        name: "RegisterTargetWithMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::register_target_with_maintenance_window,
    },
    Operation {
        name: "UpdateMaintenanceWindowTarget",
        mutating: true,
        handler: maintenance_windows::update_maintenance_window_target,
    },
    Operation {
        name: "DeregisterTargetFromMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::deregister_target_from_maintenance_window,
    },
    Operation {
        name: "DescribeMaintenanceWindowTargets",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_targets,
    },
    Operation {
        name: "RegisterTaskWithMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::register_task_with_maintenance_window,
    },
    Operation {
        name: "UpdateMaintenanceWindowTask",
        mutating: true,
        handler: maintenance_windows::update_maintenance_window_task,
    },
    Operation {
        name: "GetMaintenanceWindowTask",
        mutating: false,
        handler: maintenance_windows::get_maintenance_window_task,
    },
    Operation {
        name: "DeregisterTaskFromMaintenanceWindow",
        mutating: true,
        handler: maintenance_windows::deregister_task_from_maintenance_window,
    },
    Operation {
        name: "DescribeMaintenanceWindowTasks",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_tasks,
    },
    Operation {
        name: "DescribeMaintenanceWindowSchedule",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_schedule,
    },
    Operation {
        name: "DescribeMaintenanceWindowsForTarget",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_windows_for_target,
    },
    Operation {
        name: "DescribeMaintenanceWindowExecutions",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_executions,
    },
    Operation {
        name: "GetMaintenanceWindowExecution",
        mutating: false,
        handler: maintenance_windows::get_maintenance_window_execution,
    },
    Operation {
        name: "DescribeMaintenanceWindowExecutionTasks",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_execution_tasks,
    },
    Operation {
        name: "GetMaintenanceWindowExecutionTask",
        mutating: false,
        handler: maintenance_windows::get_maintenance_window_execution_task,
    },
    Operation {
        name: "DescribeMaintenanceWindowExecutionTaskInvocations",
        mutating: false,
        handler: maintenance_windows::describe_maintenance_window_execution_task_invocations,
    },
    Operation {
        name: "GetMaintenanceWindowExecutionTaskInvocation",
        mutating: false,
        handler: maintenance_windows::get_maintenance_window_execution_task_invocation,
    },
    Operation {
        name: "CancelMaintenanceWindowExecution",
        mutating: true,
        handler: maintenance_windows::cancel_maintenance_window_execution,
    },
    Operation {
        name: "PutComplianceItems",
        mutating: true,
        handler: compliance::put_compliance_items,
    },
    Operation {
        name: "ListComplianceItems",
        mutating: false,
        handler: compliance::list_compliance_items,
    },
    Operation {
        name: "ListComplianceSummaries",
        mutating: false,
        handler: compliance::list_compliance_summaries,
    },
    Operation {
        name: "ListResourceComplianceSummaries",
        mutating: false,
        handler: compliance::list_resource_compliance_summaries,
    },
    Operation {
        name: "CreateDocument",
        mutating: true,
        handler: document_writes::create_document,
    },
    Operation {
        name: "UpdateDocument",
        mutating: true,
        handler: document_writes::update_document,
    },
    Operation {
        name: "UpdateDocumentDefaultVersion",
        mutating: true,
        handler: document_writes::update_document_default_version,
    },
    Operation {
        name: "DeleteDocument",
        mutating: true,
        handler: document_writes::delete_document,
    },
    Operation {
        name: "ModifyDocumentPermission",
        mutating: true,
        handler: document_writes::modify_document_permission,
    },
    Operation {
        name: "ListDocumentVersions",
        mutating: false,
        handler: documents::list_document_versions,
    },
    Operation {
        name: "DescribeDocumentPermission",
        mutating: false,
        handler: documents::describe_document_permission,
    },
    Operation {
        name: "CancelCommand",
        mutating: true,
        handler: commands::cancel_command,
    },
    Operation {
        name: "DescribeDocument",
        mutating: false,
        handler: documents::describe_document,
    },
    Operation {
        name: "GetCommandInvocation",
        mutating: false,
        handler: commands::get_command_invocation,
    },
    Operation {
        name: "GetDocument",
        mutating: false,
        handler: documents::get_document,
    },
    Operation {
        name: "ListCommandInvocations",
        mutating: false,
        handler: commands::list_command_invocations,
    },
    Operation {
        name: "ListCommands",
        mutating: false,
        handler: commands::list_commands,
    },
    Operation {
        name: "ListDocuments",
        mutating: false,
        handler: documents::list_documents,
    },
    Operation {
        name: "SendCommand",
        mutating: true,
        handler: send_command::send_command,
    },
    Operation {
        name: "AddTagsToResource",
        mutating: true,
        handler: tags::add_tags_to_resource,
    },
    Operation {
        name: "CreateActivation",
        mutating: true,
        handler: activations::create_activation,
    },
    Operation {
        name: "DeleteActivation",
        mutating: true,
        handler: activations::delete_activation,
    },
    Operation {
        name: "DeregisterManagedInstance",
        mutating: true,
        handler: instances::deregister_managed_instance,
    },
    Operation {
        name: "DescribeActivations",
        mutating: false,
        handler: activations::describe_activations,
    },
    Operation {
        name: "DescribeInstanceInformation",
        mutating: false,
        handler: instances::describe_instance_information,
    },
    Operation {
        name: "ListInventoryEntries",
        mutating: false,
        handler: inventory::list_inventory_entries,
    },
    Operation {
        name: "ListTagsForResource",
        mutating: false,
        handler: tags::list_tags_for_resource,
    },
    Operation {
        name: "RemoveTagsFromResource",
        mutating: true,
        handler: tags::remove_tags_from_resource,
    },
    Operation {
        name: "UpdateManagedInstanceRole",
        mutating: true,
        handler: instances::update_managed_instance_role,
    },
    Operation {
        name: "DeleteParameter",
        mutating: true,
        handler: parameters::delete_parameter,
    },
    Operation {
        name: "DeleteParameters",
        mutating: true,
        handler: parameters::delete_parameters,
    },
    Operation {
        name: "DescribeParameters",
        mutating: false,
        handler: parameter_search::describe_parameters,
    },
    Operation {
        name: "GetParameter",
        mutating: false,
        handler: parameters::get_parameter,
    },
    Operation {
        name: "GetParameterHistory",
        mutating: false,
        handler: parameters::get_parameter_history,
    },
    Operation {
        name: "GetParameters",
        mutating: false,
        handler: parameters::get_parameters,
    },
    Operation {
        name: "GetParametersByPath",
        mutating: false,
        handler: parameter_search::get_parameters_by_path,
    },
    Operation {
        name: "LabelParameterVersion",
        mutating: true,
        handler: parameter_labels::label_parameter_version,
    },
    Operation {
        name: "PutParameter",
        mutating: true,
        handler: parameter_put::put_parameter,
    },
    Operation {
        name: "UnlabelParameterVersion",
        mutating: true,
        handler: parameter_labels::unlabel_parameter_version,
    },
    Operation {
        name: "StartSession",
        // An SDK retry gets the first session, not a second one: its answer (which holds the
        // session's token) is stored for retries sealed with a key only the call's own
        // request yields (`api::idempotency`). The handler writes the audit record, naming
        // the session.
        mutating: true,
        handler: sessions::start::start_session,
    },
    Operation {
        name: "ResumeSession",
        // A retry gets the first new token rather than retiring it (see StartSession).
        mutating: true,
        handler: sessions::manage::resume_session,
    },
    Operation {
        name: "TerminateSession",
        mutating: true,
        handler: sessions::manage::terminate_session,
    },
    Operation {
        name: "DescribeSessions",
        mutating: false,
        handler: sessions::describe::describe_sessions,
    },
    Operation {
        name: "GetConnectionStatus",
        mutating: false,
        handler: sessions::manage::get_connection_status,
    },
    Operation {
        name: "StartAutomationExecution",
        mutating: true,
        handler: automation::start::start_automation_execution,
    },
    Operation {
        name: "GetAutomationExecution",
        mutating: false,
        handler: automation::describe::get_automation_execution,
    },
    Operation {
        name: "DescribeAutomationExecutions",
        mutating: false,
        handler: automation::describe::describe_automation_executions,
    },
    Operation {
        name: "DescribeAutomationStepExecutions",
        mutating: false,
        handler: automation::describe::describe_automation_step_executions,
    },
    Operation {
        name: "StopAutomationExecution",
        mutating: true,
        handler: automation::control::stop_automation_execution,
    },
    Operation {
        name: "SendAutomationSignal",
        mutating: true,
        handler: automation::control::send_automation_signal,
    },
];

/// Whether a permitted, non-mutating call may run on the request's async thread: its handler
/// reads a bounded amount of the store (a key, a name, at most a page of one resource) on read
/// connections, which never wait for the writer, and writes nothing, not even an audit record.
/// Decrypting a SecureString writes a `kms:Decrypt` audit record, so reads that ask for
/// decryption run on the blocking pool, as do reads that scan a whole region (by path, describe
/// and list calls), which would hold an async thread for as long as the region is large.
pub fn runs_inline(op: &Operation, input: &Value) -> bool {
    match op.name {
        "GetParameter" | "GetParameters" | "GetParameterHistory" => {
            input.get("WithDecryption").and_then(Value::as_bool) != Some(true)
        }
        "GetDocument"
        | "DescribeDocument"
        | "DescribeDocumentPermission"
        | "ListTagsForResource" => true,
        _ => false,
    }
}

/// Operations whose only resources are the managed nodes they act on, which the handler finds
/// (a command's nodes): the handler authorizes the action on each of them
/// ([`crate::api::Ctx::authorize_nodes`]) instead of the pipeline checking `*`, so a policy
/// scoped to some nodes works, and a deny on one node refuses the call.
///
/// `CreateAssociationBatch` too: each entry names its own document, which the handler
/// authorizes with the entry's nodes, failing only that entry when denied. And
/// `StartAssociationsOnce`, which names several associations: each one's ARN is authorized.
pub fn authorized_per_node(op: &str) -> bool {
    matches!(
        op,
        "CancelCommand"
            | "CreateAssociationBatch"
            | "PutComplianceItems"
            | "StartAssociationsOnce"
            // Authorized on the execution's window, looked up by the handler.
            | "GetMaintenanceWindowExecution"
            | "DescribeMaintenanceWindowExecutionTasks"
            | "GetMaintenanceWindowExecutionTask"
            | "DescribeMaintenanceWindowExecutionTaskInvocations"
            | "GetMaintenanceWindowExecutionTaskInvocation"
            | "CancelMaintenanceWindowExecution"
            // Authorized on the node and the document (AWS checks both).
            | "StartSession"
    )
}

/// Whether a mutating operation records its answer for retries in the same store transaction
/// as its change ([`crate::api::Ctx::record_in_change`]) on every path that changes anything.
/// Its calls need no claim, only a look-up (a crash leaves the change and its answer, or
/// neither), which saves a write per call.
pub fn answers_in_change(op: &Operation) -> bool {
    op.name == "SendCommand"
}

pub fn find(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

/// The resource ARN an IAM policy is checked against for this request ("*" for operations
/// that are not resource-scoped).
pub fn resource_arn(ctx_scope: &bosun_core::arn::Scope, op: &str, body: &Value) -> String {
    let s = |k: &str| body.get(k).and_then(Value::as_str);
    match op {
        "ResumeSession" | "TerminateSession" => s("SessionId")
            .map(|id| ctx_scope.ssm_arn(&format!("session/{id}")))
            .unwrap_or_else(|| "*".into()),
        "StartAutomationExecution" => s("DocumentName")
            .map(|d| automation::definition_arn(ctx_scope, d, s("DocumentVersion")))
            .unwrap_or_else(|| "*".into()),
        "GetAutomationExecution"
        | "DescribeAutomationStepExecutions"
        | "StopAutomationExecution"
        | "SendAutomationSignal" => s("AutomationExecutionId")
            .map(|id| automation::execution_arn(ctx_scope, id))
            .unwrap_or_else(|| "*".into()),
        "GetConnectionStatus" => s("Target")
            .map(|id| ctx_scope.managed_instance_arn(id))
            .unwrap_or_else(|| "*".into()),
        "DeregisterManagedInstance"
        | "UpdateManagedInstanceRole"
        | "DescribeInstanceAssociationsStatus"
        | "DescribeEffectiveInstanceAssociations"
        | "ListInventoryEntries"
        | "UpdateAssociationStatus" => s("InstanceId")
            .map(|id| ctx_scope.managed_instance_arn(id))
            .unwrap_or_else(|| "*".into()),
        "SendCommand" => s("DocumentName")
            .map(|d| ctx_scope.ssm_arn(&format!("document/{d}")))
            .unwrap_or_else(|| "*".into()),
        "CreateAssociation" => s("Name")
            .map(|d| document_resource(ctx_scope, d))
            .unwrap_or_else(|| "*".into()),
        "DescribeAssociation"
        | "DeleteAssociation"
        | "UpdateAssociation"
        | "ListAssociationVersions"
        | "DescribeAssociationExecutions"
        | "DescribeAssociationExecutionTargets" => match (s("AssociationId"), s("Name")) {
            (Some(id), _) => ctx_scope.ssm_arn(&format!("association/{id}")),
            (None, Some(d)) => document_resource(ctx_scope, d),
            _ => "*".into(),
        },
        "DescribeDocument"
        | "GetDocument"
        | "CreateDocument"
        | "UpdateDocument"
        | "DeleteDocument"
        | "UpdateDocumentDefaultVersion"
        | "ListDocumentVersions"
        | "DescribeDocumentPermission"
        | "ModifyDocumentPermission" => s("Name")
            .map(|d| ctx_scope.ssm_arn(&format!("document/{d}")))
            .unwrap_or_else(|| "*".into()),
        "PutParameter"
        | "GetParameter"
        | "DeleteParameter"
        | "GetParameterHistory"
        | "LabelParameterVersion"
        | "UnlabelParameterVersion" => s("Name")
            .map(|n| parameter_resource(ctx_scope, n))
            .unwrap_or_else(|| "*".into()),
        "GetParameters" | "DeleteParameters" => body
            .get("Names")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(|n| parameter_resource(ctx_scope, n))
            .unwrap_or_else(|| "*".into()),
        "GetParametersByPath" => s("Path")
            .map(|p| ctx_scope.ssm_arn(&format!("parameter/{}", p.trim_matches('/'))))
            .unwrap_or_else(|| "*".into()),
        "UpdateMaintenanceWindow"
        | "GetMaintenanceWindow"
        | "DeleteMaintenanceWindow"
        | "RegisterTargetWithMaintenanceWindow"
        | "UpdateMaintenanceWindowTarget"
        | "DeregisterTargetFromMaintenanceWindow"
        | "DescribeMaintenanceWindowTargets"
        | "RegisterTaskWithMaintenanceWindow"
        | "UpdateMaintenanceWindowTask"
        | "GetMaintenanceWindowTask"
        | "DeregisterTaskFromMaintenanceWindow"
        | "DescribeMaintenanceWindowTasks"
        | "DescribeMaintenanceWindowExecutions" => s("WindowId")
            .map(|id| ctx_scope.ssm_arn(&format!("maintenancewindow/{id}")))
            .unwrap_or_else(|| "*".into()),
        "DescribeMaintenanceWindowSchedule" => s("WindowId")
            .map(|id| ctx_scope.ssm_arn(&format!("maintenancewindow/{id}")))
            .unwrap_or_else(|| "*".into()),
        "DeleteActivation" => s("ActivationId")
            .map(|id| ctx_scope.activation_arn(id))
            .unwrap_or_else(|| "*".into()),
        "AddTagsToResource" | "RemoveTagsFromResource" | "ListTagsForResource" => {
            match (s("ResourceType"), s("ResourceId")) {
                (Some("ManagedInstance"), Some(id)) => ctx_scope.managed_instance_arn(id),
                (Some("Parameter"), Some(id)) => parameter_resource(ctx_scope, id),
                (Some(t), Some(id)) => {
                    ctx_scope.ssm_arn(&format!("{}/{id}", t.to_ascii_lowercase()))
                }
                _ => "*".into(),
            }
        }
        _ => "*".into(),
    }
}

/// The IAM resource of a document given by name or ARN.
fn document_resource(scope: &bosun_core::arn::Scope, name_or_arn: &str) -> String {
    let name = crate::documents::bare_name(name_or_arn);
    scope.ssm_arn(&format!("document/{name}"))
}

/// The IAM resource of a parameter reference (a name, `name:selector`, or an ARN).
pub fn parameter_resource(scope: &bosun_core::arn::Scope, input: &str) -> String {
    if input.starts_with("arn:") {
        // Drop a `:version` / `:label` selector after the resource part.
        let fields: Vec<&str> = input.splitn(7, ':').collect();
        return fields[..fields.len().min(6)].join(":");
    }
    let name = input.split(':').next().unwrap_or(input);
    scope.ssm_arn(&bosun_core::parameters::name::arn_resource(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::aws_operations::AWS_SSM_OPERATIONS;

    #[test]
    fn parameter_resources_drop_selectors_and_leading_slashes() {
        let scope = bosun_core::arn::Scope::new("us-east-1", "000000000000");
        let arn = "arn:aws:ssm:us-east-1:000000000000:parameter/a/b";
        assert_eq!(parameter_resource(&scope, "/a/b:prod"), arn);
        assert_eq!(parameter_resource(&scope, &format!("{arn}:3")), arn);
        assert_eq!(
            parameter_resource(&scope, "/top"),
            "arn:aws:ssm:us-east-1:000000000000:parameter/top"
        );
    }

    #[test]
    fn every_operation_is_an_aws_operation_and_listed_once() {
        for op in OPERATIONS {
            assert!(
                AWS_SSM_OPERATIONS.contains(&op.name),
                "{} is not in the AWS model",
                op.name
            );
            assert_eq!(OPERATIONS.iter().filter(|o| o.name == op.name).count(), 1);
            // The generated model (tools/gen-ssm-model.py reads this list) validates it.
            assert!(
                bosun_core::model::input_shape(op.name).is_some(),
                "{}: regenerate bosun-core's model/ssm_shapes.rs",
                op.name
            );
        }
    }

    #[test]
    fn only_reads_run_inline_and_decryption_never_does() {
        let plain = serde_json::json!({});
        let decrypting = serde_json::json!({"WithDecryption": true});
        let mut inline = OPERATIONS.iter().filter(|op| runs_inline(op, &plain));
        assert!(inline.all(|op| !op.mutating), "a mutating call runs inline");
        for name in ["GetParameter", "GetParameters", "GetParameterHistory"] {
            let op = find(name).unwrap();
            assert!(runs_inline(op, &plain), "{name} without decryption");
            assert!(!runs_inline(op, &decrypting), "{name} decrypts and audits");
        }
        for name in [
            "GetParametersByPath",
            "DescribeParameters",
            "DescribeInstanceInformation",
        ] {
            assert!(
                !runs_inline(find(name).unwrap(), &plain),
                "{name} scans a region"
            );
        }
    }
}
