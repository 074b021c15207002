//! Schema migrations, applied in order and recorded in `user_version`.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE activations (
    region TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    description TEXT NOT NULL,
    default_instance_name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_limit INTEGER NOT NULL,
    registrations_count INTEGER NOT NULL DEFAULT 0,
    expiration_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, activation_id)
);
CREATE TABLE instances (
    region TEXT NOT NULL,
    instance_id TEXT NOT NULL PRIMARY KEY,
    activation_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    name TEXT NOT NULL,
    iam_role TEXT NOT NULL,
    registration_ms INTEGER NOT NULL,
    computer_name TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    platform_type TEXT NOT NULL,
    platform_name TEXT NOT NULL,
    platform_version TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    last_ping_ms INTEGER NOT NULL,
    deregistered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instances_by_region ON instances (region, instance_id);
CREATE TABLE tags (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (region, resource_type, resource_id, key)
);
CREATE TABLE users (
    name TEXT NOT NULL PRIMARY KEY,
    created_ms INTEGER NOT NULL
);
CREATE TABLE access_keys (
    access_key_id TEXT NOT NULL PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    active INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
CREATE TABLE user_policies (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_name)
);
CREATE TABLE audit (
    seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    principal TEXT NOT NULL,
    action TEXT NOT NULL,
    region TEXT NOT NULL,
    resource TEXT NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE commands (
    region TEXT NOT NULL,
    command_id TEXT NOT NULL PRIMARY KEY,
    document_name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    document_hash TEXT NOT NULL,
    comment TEXT NOT NULL,
    request_json TEXT NOT NULL,
    steps_json TEXT NOT NULL,
    requested_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    target_count INTEGER NOT NULL,
    completed_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    delivery_timed_out_count INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX commands_by_region ON commands (region, requested_ms);
CREATE INDEX commands_active ON commands (active) WHERE active = 1;
CREATE TABLE invocations (
    command_id TEXT NOT NULL REFERENCES commands(command_id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    instance_name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    dispatched_ms INTEGER,
    acked INTEGER NOT NULL DEFAULT 0,
    response_code INTEGER NOT NULL DEFAULT -1,
    start_ms INTEGER,
    end_ms INTEGER,
    PRIMARY KEY (command_id, instance_id)
);
CREATE INDEX invocations_by_instance ON invocations (instance_id, status);
CREATE TABLE plugins (
    command_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    response_code INTEGER NOT NULL DEFAULT -1,
    start_ms INTEGER,
    end_ms INTEGER,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    stdout_bytes INTEGER NOT NULL DEFAULT 0,
    stderr_bytes INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (command_id, instance_id, seq),
    FOREIGN KEY (command_id, instance_id) REFERENCES invocations(command_id, instance_id) ON DELETE CASCADE
);
"#,
    r#"
CREATE TABLE documents (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    document_type TEXT NOT NULL,
    target_type TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    default_version INTEGER NOT NULL,
    latest_version INTEGER NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE document_versions (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    version_name TEXT NOT NULL,
    content TEXT NOT NULL,
    format TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    hash TEXT NOT NULL,
    requires_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, name, version),
    FOREIGN KEY (region, name) REFERENCES documents(region, name) ON DELETE CASCADE
);
CREATE TABLE document_shares (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL,
    shared_version TEXT NOT NULL,
    PRIMARY KEY (region, name, account_id),
    FOREIGN KEY (region, name) REFERENCES documents(region, name) ON DELETE CASCADE
);
"#,
    r#"
CREATE TABLE parameters (
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    tier TEXT NOT NULL,
    has_policies INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (region, key)
);
CREATE INDEX parameters_with_policies ON parameters (has_policies) WHERE has_policies = 1;
CREATE TABLE parameter_versions (
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    key_id TEXT,
    description TEXT,
    allowed_pattern TEXT,
    tier TEXT NOT NULL,
    policies TEXT,
    data_type TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    modified_user TEXT NOT NULL,
    PRIMARY KEY (region, key, version),
    FOREIGN KEY (region, key) REFERENCES parameters(region, key) ON DELETE CASCADE
);
CREATE TABLE parameter_labels (
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (region, key, label),
    FOREIGN KEY (region, key, version) REFERENCES parameter_versions(region, key, version) ON DELETE CASCADE
);
CREATE TABLE parameter_policy_events (
    seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    policy_type TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    detail TEXT NOT NULL,
    UNIQUE (region, key, version, policy_type)
);
"#,
    // Secret access keys sealed by the server; `secret_access_key` keeps only the plaintext of
    // databases from before, until the server seals it at start (and then holds '').
    r#"
ALTER TABLE access_keys ADD COLUMN secret_sealed TEXT;
"#,
    // Idempotent retries (`idempotency.rs`): one row per mutating call sent with an SDK
    // invocation id, kept for the retention window.
    r#"
CREATE TABLE idempotency (
    call_id TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    answered INTEGER NOT NULL,
    status INTEGER,
    error_type TEXT,
    sealed_body BLOB,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_by_expiry ON idempotency (expires_ms);
"#,
    // State Manager associations (`associations.rs`): the latest definition and run state, and
    // every version of the definition.
    r#"
CREATE TABLE associations (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_name TEXT NOT NULL,
    schedule_expression TEXT NOT NULL,
    apply_only_at_cron_interval INTEGER NOT NULL,
    schedule_offset INTEGER NOT NULL,
    duration_hours INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    status_name TEXT NOT NULL,
    status_message TEXT NOT NULL,
    status_date_ms INTEGER NOT NULL,
    overview_status TEXT NOT NULL,
    overview_detailed_status TEXT NOT NULL,
    overview_counts_json TEXT NOT NULL,
    last_execution_ms INTEGER,
    last_successful_execution_ms INTEGER,
    PRIMARY KEY (region, association_id)
);
CREATE UNIQUE INDEX associations_by_document_and_node ON associations (region, name, instance_id)
    WHERE instance_id <> '';
CREATE TABLE association_versions (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_name TEXT NOT NULL,
    schedule_expression TEXT NOT NULL,
    apply_only_at_cron_interval INTEGER NOT NULL,
    schedule_offset INTEGER NOT NULL,
    duration_hours INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, association_id, version),
    FOREIGN KEY (region, association_id) REFERENCES associations(region, association_id) ON DELETE CASCADE
);
"#,
    // Compliance (`compliance.rs`): each resource's items per compliance type, and the content
    // hash of the upload that stored them.
    r#"
CREATE TABLE compliance_items (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    compliance_type TEXT NOT NULL,
    item_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    details TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    execution_type TEXT NOT NULL,
    execution_time_ms INTEGER NOT NULL,
    PRIMARY KEY (region, resource_type, resource_id, compliance_type, item_id)
);
CREATE TABLE compliance_uploads (
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    compliance_type TEXT NOT NULL,
    content_hash TEXT,
    PRIMARY KEY (region, resource_type, resource_id, compliance_type)
);
"#, // Executions of associations (`association_runs.rs`): one per fired slot, unique per
    // (association, slot) so a slot never fires twice.
    r#"
CREATE TABLE association_executions (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    association_version INTEGER NOT NULL,
    slot_ms INTEGER NOT NULL,
    command_id TEXT NOT NULL,
    status TEXT NOT NULL,
    detailed_status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_update_ms INTEGER NOT NULL,
    resource_counts_json TEXT NOT NULL,
    PRIMARY KEY (region, association_id, execution_id),
    FOREIGN KEY (region, association_id) REFERENCES associations(region, association_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX association_executions_by_slot ON association_executions (region, association_id, slot_ms);
CREATE INDEX association_executions_by_status ON association_executions (status);
"#,
    // Each node's latest outcome of each association (`association_status.rs`).
    r#"
CREATE TABLE association_node_status (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    association_version INTEGER NOT NULL,
    document_version TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    execution_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    detailed_status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    execution_summary TEXT NOT NULL,
    additional_info TEXT NOT NULL,
    PRIMARY KEY (region, association_id, instance_id),
    FOREIGN KEY (region, association_id) REFERENCES associations(region, association_id) ON DELETE CASCADE
);
CREATE INDEX association_node_status_by_node ON association_node_status (region, instance_id);
"#, // Resource groups (`resource_groups.rs`): a tag query per named group; members are
    // computed, the group's tags are in `tags`.
    r#"
CREATE TABLE resource_groups (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    query_type TEXT NOT NULL,
    query TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, name)
);
"#,
    // The nodes each association version was applied to (`association_runs.rs`), so a node
    // that newly matches an association's targets gets it once.
    r#"
CREATE TABLE association_applied_nodes (
    region TEXT NOT NULL,
    association_id TEXT NOT NULL,
    association_version INTEGER NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    PRIMARY KEY (region, association_id, association_version, instance_id),
    FOREIGN KEY (region, association_id) REFERENCES associations(region, association_id) ON DELETE CASCADE
);
"#,
    // Replicas (`replicas.rs`): live server processes, the replica holding each agent's
    // connection, and each command's owner (lease + epoch).
    r#"
CREATE TABLE replicas (
    replica_id TEXT NOT NULL PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL,
    keyring_fingerprint TEXT NOT NULL
);
CREATE TABLE agent_sessions (
    instance_id TEXT NOT NULL PRIMARY KEY,
    replica_id TEXT NOT NULL,
    session_epoch INTEGER NOT NULL,
    connected_ms INTEGER NOT NULL
);
CREATE INDEX agent_sessions_by_replica ON agent_sessions (replica_id);
ALTER TABLE commands ADD COLUMN owner_replica TEXT;
ALTER TABLE commands ADD COLUMN owner_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN owner_until_ms INTEGER NOT NULL DEFAULT 0;
"#,
    // 14: Maintenance windows (`maintenance_windows.rs`): definitions, their targets and tasks;
    // a window's tags are in `tags`.
    r#"
CREATE TABLE maintenance_windows (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    schedule TEXT NOT NULL,
    schedule_timezone TEXT NOT NULL,
    schedule_offset INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    duration_hours INTEGER NOT NULL,
    cutoff_hours INTEGER NOT NULL,
    allow_unassociated_targets INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (region, window_id)
);
CREATE TABLE maintenance_window_targets (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_target_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    targets_json TEXT NOT NULL,
    owner_information TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, window_id, window_target_id),
    FOREIGN KEY (region, window_id) REFERENCES maintenance_windows(region, window_id) ON DELETE CASCADE
);
CREATE TABLE maintenance_window_tasks (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_task_id TEXT NOT NULL,
    task_arn TEXT NOT NULL,
    task_type TEXT NOT NULL,
    targets_json TEXT NOT NULL,
    service_role_arn TEXT NOT NULL,
    task_parameters_json TEXT NOT NULL,
    invocation_parameters_json TEXT NOT NULL,
    priority INTEGER NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    cutoff_behavior TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, window_id, window_task_id),
    FOREIGN KEY (region, window_id) REFERENCES maintenance_windows(region, window_id) ON DELETE CASCADE
);
"#,
    // 15: EventBridge rules (`event_rules.rs`) on the default bus and their targets; a rule's
    // tags are in `tags`.
    r#"
CREATE TABLE event_rules (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    event_pattern TEXT,
    state TEXT NOT NULL,
    description TEXT,
    role_arn TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE event_targets (
    region TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    target_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (region, rule_name, target_id),
    FOREIGN KEY (region, rule_name) REFERENCES event_rules(region, name) ON DELETE CASCADE
);
CREATE INDEX event_targets_by_arn ON event_targets (region, arn);
"#,
    // 16: The event outbox (`event_outbox.rs`): every emitted event, numbered in commit order
    // (AUTOINCREMENT: a pruned `seq` is never reused), and each consumer's cursor.
    r#"
CREATE TABLE event_outbox (
    seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    event_id TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX event_outbox_by_created ON event_outbox (created_ms);
CREATE TABLE event_cursors (
    consumer TEXT NOT NULL PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
"#,
    // 17: SNS-compatible topics (`topics.rs`): topics, subscriptions, and the delivery queue
    // (leased by the delivery task).
    r#"
CREATE TABLE sns_topics (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    policy TEXT NOT NULL,
    delivery_policy TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE sns_subscriptions (
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL,
    raw_message_delivery INTEGER NOT NULL,
    base_url TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, subscription_id),
    UNIQUE (region, topic_name, protocol, endpoint),
    FOREIGN KEY (region, topic_name) REFERENCES sns_topics(region, name) ON DELETE CASCADE
);
CREATE INDEX sns_subscriptions_by_topic ON sns_subscriptions (region, topic_name);
CREATE TABLE sns_deliveries (
    delivery_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    message_attributes TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms INTEGER NOT NULL,
    FOREIGN KEY (region, subscription_id) REFERENCES sns_subscriptions(region, subscription_id) ON DELETE CASCADE
);
CREATE INDEX sns_deliveries_due ON sns_deliveries (failed, next_attempt_ms);
"#,
    // 18: Maintenance window executions (`maintenance_window_runs.rs`): one per (window, slot),
    // their task executions (planned at the start) and each task's invocations (one per node).
    r#"
CREATE TABLE maintenance_window_executions (
    region TEXT NOT NULL,
    window_id TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    slot_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    cancel_requested INTEGER NOT NULL,
    duration_hours INTEGER NOT NULL,
    cutoff_hours INTEGER NOT NULL,
    PRIMARY KEY (region, window_execution_id)
);
CREATE UNIQUE INDEX maintenance_window_executions_by_slot ON maintenance_window_executions (region, window_id, slot_ms);
CREATE INDEX maintenance_window_executions_by_status ON maintenance_window_executions (status);
CREATE TABLE maintenance_window_task_executions (
    region TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    task_execution_id TEXT NOT NULL,
    window_task_id TEXT NOT NULL,
    task_arn TEXT NOT NULL,
    task_type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    cutoff_behavior TEXT NOT NULL,
    task_json TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    stopping TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    PRIMARY KEY (region, window_execution_id, task_execution_id),
    FOREIGN KEY (region, window_execution_id) REFERENCES maintenance_window_executions(region, window_execution_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX maintenance_window_task_executions_by_task ON maintenance_window_task_executions (region, window_execution_id, window_task_id);
CREATE TABLE maintenance_window_task_invocations (
    region TEXT NOT NULL,
    window_execution_id TEXT NOT NULL,
    task_execution_id TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    window_target_id TEXT NOT NULL,
    target_order INTEGER NOT NULL,
    via TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    parameters TEXT NOT NULL,
    owner_information TEXT NOT NULL,
    phase TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    PRIMARY KEY (region, window_execution_id, task_execution_id, invocation_id),
    FOREIGN KEY (region, window_execution_id, task_execution_id) REFERENCES maintenance_window_task_executions(region, window_execution_id, task_execution_id) ON DELETE CASCADE
);
"#,
    // 19: Session Manager sessions (`sessions.rs`): one row per session, its token hashes, its
    // limits and how it ended.
    r#"
CREATE TABLE sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    target TEXT NOT NULL,
    document_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    details TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    active INTEGER NOT NULL,
    output_url TEXT NOT NULL,
    max_duration_s INTEGER,
    idle_timeout_s INTEGER NOT NULL,
    client_token_hash TEXT NOT NULL,
    client_token_expires_ms INTEGER NOT NULL,
    agent_token_hash TEXT NOT NULL,
    agent_accepted INTEGER NOT NULL,
    replica_id TEXT NOT NULL,
    end_reason TEXT,
    agent_reason TEXT,
    exit_code INTEGER,
    signal TEXT,
    escaped_json TEXT,
    agent_error TEXT,
    agent_ended_ms INTEGER
);
CREATE INDEX sessions_by_start ON sessions (region, active, start_ms DESC, session_id);
"#,
    // 20: SendCommand's `NotificationConfig` (with `ServiceRoleArn`) kept with its command, as
    // JSON text (`''`: no notifications), read by the notification consumer of the outbox.
    "ALTER TABLE commands ADD COLUMN notification TEXT NOT NULL DEFAULT ''",
    // 21: a subscription's template (Bosun's `BosunTemplate*` attributes) as JSON text ('' for
    // AWS's mail and http bodies).
    "ALTER TABLE sns_subscriptions ADD COLUMN delivery_template TEXT NOT NULL DEFAULT ''",
    // 22: Automation executions and their step executions (`automation.rs`), with the lease of
    // the replica driving each running execution.
    r#"
CREATE TABLE automation_executions (
    execution_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    document_name TEXT NOT NULL,
    document_version TEXT NOT NULL,
    document_content TEXT NOT NULL,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    parameters_json TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    failure_message TEXT NOT NULL,
    executed_by TEXT NOT NULL,
    parent_id TEXT,
    targets_json TEXT NOT NULL,
    target_parameter_name TEXT NOT NULL,
    max_concurrency TEXT NOT NULL,
    max_errors TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    current_step_name TEXT NOT NULL,
    current_action TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    wake_ms INTEGER,
    stop_requested TEXT NOT NULL,
    signals_json TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_ms INTEGER NOT NULL
);
CREATE INDEX automation_executions_by_start ON automation_executions (region, start_ms DESC, execution_id);
CREATE INDEX automation_executions_running ON automation_executions (end_ms, owner);
CREATE INDEX automation_executions_by_token ON automation_executions (region, client_token);
CREATE TABLE automation_steps (
    execution_id TEXT NOT NULL REFERENCES automation_executions(execution_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step_execution_id TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_name TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    inputs_json TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    response_json TEXT NOT NULL,
    failure_message TEXT NOT NULL,
    start_ms INTEGER,
    end_ms INTEGER,
    wake_ms INTEGER,
    command_id TEXT NOT NULL,
    signal_base INTEGER NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
"#,
    // 23: what nodes report for waking and restarting them (issue 16): their network
    // interfaces (JSON text: name, MAC, IPv4 addresses with prefix) and boot id.
    "ALTER TABLE instances ADD COLUMN network_interfaces TEXT NOT NULL DEFAULT '[]';
ALTER TABLE instances ADD COLUMN boot_id TEXT NOT NULL DEFAULT ''",
    // 24: who registered each maintenance window task (an AUTOMATION task's runbook runs as
    // them).
    "ALTER TABLE maintenance_window_tasks ADD COLUMN registered_by TEXT NOT NULL DEFAULT ''",
    // 25: agent releases (issue 19): the binaries live in the blob store, their hash, size and
    // the release key's signature here; one default per platform and arch.
    r#"
CREATE TABLE agent_releases (
    version TEXT NOT NULL,
    platform TEXT NOT NULL,
    arch TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    signature TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version, platform, arch)
);
"#,
    // 26: files uploaded for package documents' attachments, by region and SHA-256, and the
    // Distributor packages each node reports installed (JSON text) (issue 19).
    "CREATE TABLE attachment_blobs (
    region TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    PRIMARY KEY (region, sha256)
);
ALTER TABLE instances ADD COLUMN packages TEXT NOT NULL DEFAULT '[]'",
    // 27: each node's ping status as last announced by an event (issue 17); empty until its
    // first report.
    "ALTER TABLE instances ADD COLUMN reported_ping_status TEXT NOT NULL DEFAULT ''",
    // 28: web console sessions, by the SHA-256 of their token (issue 20).
    "CREATE TABLE console_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_ms)",
    // 29: marks of SNS subscriptions' rate limits (a count per window) and dedupe keys (the
    // delivery holding each) (issue 17), deleted with their subscription.
    "CREATE TABLE sns_delivery_marks (
    region TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    mark TEXT NOT NULL,
    holder TEXT NOT NULL,
    count INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (region, subscription_id, mark),
    FOREIGN KEY (region, subscription_id) REFERENCES sns_subscriptions(region, subscription_id) ON DELETE CASCADE
);
CREATE INDEX sns_delivery_marks_expiry ON sns_delivery_marks (expires_ms)",
    // 30: `aws:ec2:image` puts accepted and not yet validated (issue 11), each the request as
    // the caller sent it, leased by the replica validating it.
    "CREATE TABLE parameter_pending_puts (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    principal TEXT NOT NULL,
    request_json TEXT NOT NULL,
    accepted_ms INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms INTEGER NOT NULL
);
CREATE INDEX parameter_pending_puts_key ON parameter_pending_puts (region, key, id)",
    // 31: why an SNS delivery's last attempt failed (issue 17), shown with dead letters.
    "ALTER TABLE sns_deliveries ADD COLUMN last_error TEXT NOT NULL DEFAULT ''",
    // 32: failed console sign-ins counted per window, per address and per access key id
    // (issue 20; `bosun_core::signin_limit`).
    "CREATE TABLE console_signin_failures (
    key TEXT NOT NULL,
    window_start_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (key, window_start_ms)
);
CREATE INDEX console_signin_failures_expiry ON console_signin_failures (expires_ms)",
    // 33: users' tags (IAM's TagUser), e.g. SSMSessionRunAs for Session Manager (issue 18).
    "CREATE TABLE user_tags (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_name, key)
)",
    // 34: EventBridge rule targets an event could not be delivered to, with the event, to list
    // and redrive (issue 17).
    "CREATE TABLE rule_target_failures (
    failure_id TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    envelope TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX rule_target_failures_region ON rule_target_failures (region, rule_name, created_ms)",
    // 35: agent release versions pinned for a region (`tag_key` and `tag_value` empty: tag
    // keys are never empty) or for a node tag within it (issue 19).
    "CREATE TABLE agent_release_pins (
    region TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    version TEXT NOT NULL,
    pinned_ms INTEGER NOT NULL,
    PRIMARY KEY (region, tag_key, tag_value)
)",
    // 36: sessions relayed by a replica other than the one that started them (issue 18): the
    // join request handed over, and where each replica is reached for data channels that land
    // on another one.
    "ALTER TABLE sessions ADD COLUMN handoff TEXT NOT NULL DEFAULT '';
ALTER TABLE replicas ADD COLUMN url TEXT NOT NULL DEFAULT ''",
];

/// Apply every migration newer than the database's `user_version`.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
