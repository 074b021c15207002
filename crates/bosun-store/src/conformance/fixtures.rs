//! Records the conformance cases build on: valid, minimal, in one region.

use crate::{
    ActivationRecord, Answer, AuditRecord, ClaimRequest, CommandRecord, DocumentRecord,
    DocumentVersionRecord, InvocationRecord, NewInstance, ParameterVersion, PluginRecord,
    PutLimits, StoredAnswer,
};

pub const REGION: &str = "us-east-1";
pub const OTHER_REGION: &str = "eu-west-1";

pub fn activation(id: &str, limit: i64) -> ActivationRecord {
    ActivationRecord {
        region: REGION.into(),
        activation_id: id.into(),
        description: format!("activation {id}"),
        default_instance_name: "web".into(),
        iam_role: "r".into(),
        registration_limit: limit,
        registrations_count: 0,
        expiration_ms: 10_000,
        created_ms: 1,
    }
}

pub fn node(i: usize, activation_id: &str) -> NewInstance {
    NewInstance {
        region: REGION.into(),
        instance_id: format!("mi-{i:017x}"),
        activation_id: activation_id.into(),
        public_key: format!("key-{i}"),
        name: format!("node-{i}"),
        iam_role: "r".into(),
        registration_ms: 2,
        info: crate::NodeFacts {
            computer_name: format!("host-{i}"),
            ip_address: "10.0.0.1".into(),
            platform_type: "Linux".into(),
            platform_name: "Debian GNU/Linux".into(),
            platform_version: "12".into(),
            agent_version: "0.1.0".into(),
            network_interfaces: vec![bosun_core::power::NetworkInterface {
                name: "eth0".into(),
                mac_address: format!("02:00:00:00:00:{:02x}", i % 256),
                ipv4_addresses: vec!["10.0.0.1/24".into()],
            }],
            boot_id: format!("boot-{i}"),
            packages: Vec::new(),
        },
    }
}

pub fn audit_record(i: i64, action: &str) -> AuditRecord {
    AuditRecord {
        time_ms: i,
        principal: "admin".into(),
        action: action.into(),
        region: REGION.into(),
        resource: "*".into(),
        request_id: format!("r{i}"),
        source: "127.0.0.1".into(),
        outcome: "Allowed".into(),
        detail: String::new(),
    }
}

pub fn command(id: &str, requested_ms: i64) -> CommandRecord {
    CommandRecord {
        region: REGION.into(),
        command_id: id.into(),
        document_name: "AWS-RunShellScript".into(),
        document_version: "1".into(),
        document_hash: "h".into(),
        comment: "a comment".into(),
        request_json: "{}".into(),
        steps_json: "[]".into(),
        requested_ms,
        expires_ms: requested_ms + 3_600_000,
        timeout_seconds: 3600,
        max_concurrency: "50".into(),
        max_errors: "0".into(),
        status: "Pending".into(),
        status_details: "Pending".into(),
        target_count: 0,
        completed_count: 0,
        error_count: 0,
        delivery_timed_out_count: 0,
        cancel_requested: false,
        notification: None,
    }
}

pub fn invocation(command_id: &str, instance_id: &str, seq: i64) -> InvocationRecord {
    InvocationRecord {
        command_id: command_id.into(),
        instance_id: instance_id.into(),
        seq,
        instance_name: format!("name-{instance_id}"),
        status: "Pending".into(),
        status_details: "Pending".into(),
        dispatched_ms: None,
        acked: false,
        response_code: -1,
        start_ms: None,
        end_ms: None,
    }
}

pub fn plugin(command_id: &str, instance_id: &str, seq: i64) -> PluginRecord {
    PluginRecord {
        command_id: command_id.into(),
        instance_id: instance_id.into(),
        seq,
        name: format!("step{seq}"),
        status: "Pending".into(),
        status_details: "Pending".into(),
        response_code: -1,
        start_ms: None,
        end_ms: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_bytes: 0,
        stderr_bytes: 0,
        detail: String::new(),
    }
}

pub fn document(name: &str) -> DocumentRecord {
    DocumentRecord {
        region: REGION.into(),
        name: name.into(),
        document_type: "Command".into(),
        target_type: String::new(),
        display_name: String::new(),
        created_ms: 1,
        default_version: 1,
        latest_version: 1,
    }
}

pub fn document_version(content: &str, version_name: &str) -> DocumentVersionRecord {
    DocumentVersionRecord {
        version: 1,
        version_name: version_name.into(),
        content: content.into(),
        format: "JSON".into(),
        schema_version: "2.2".into(),
        hash: format!("h-{content}"),
        requires_json: "[]".into(),
        created_ms: 1,
    }
}

pub fn parameter(key: &str, n: i64) -> ParameterVersion {
    ParameterVersion {
        region: REGION.into(),
        key: key.into(),
        name: key.into(),
        version: n,
        param_type: "String".into(),
        value: format!("v{n}"),
        key_id: None,
        description: None,
        allowed_pattern: None,
        tier: "Standard".into(),
        policies: None,
        data_type: "text".into(),
        modified_ms: n,
        modified_user: "u".into(),
        labels: vec![],
    }
}

pub const LIMITS: PutLimits = PutLimits {
    max_versions: 3,
    max_standard: 2,
    max_advanced: 2,
};

pub fn claim<'a>(call_id: &'a str, owner: &'a str, now_ms: i64) -> ClaimRequest<'a> {
    ClaimRequest {
        call_id,
        owner,
        live_owners: &[],
        now_ms,
        expires_ms: now_ms + 1000,
    }
}

pub fn answer(call_id: &str, now_ms: i64, body: &[u8]) -> Answer {
    Answer {
        call_id: call_id.into(),
        owner: "p1".into(),
        now_ms,
        expires_ms: now_ms + 1000,
        answer: StoredAnswer {
            status: 200,
            error_type: None,
            sealed_body: body.to_vec(),
        },
    }
}

pub fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
