//! Enforces parameter policies in the background: deletes expired parameters and records
//! `ExpirationNotification` / `NoChangeNotification` actions (listed by `bosun param events`),
//! each with its `Parameter Store Policy Action` event written in the same transaction. The
//! decisions are `bosun_core::parameters::policies::due`.

use std::sync::Arc;

use bosun_core::events::envelope::Origin;
use bosun_core::events::envelope_parameter_policies::{
    action_reason, parameter_policy_action, PolicyParameter,
};
use bosun_core::parameters::policies;
use bosun_store::new_event_id;

use crate::state::{now_ms, AppState};

/// Check every parameter with policies once.
pub fn sweep(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let mut fired = 0;
    let account = state.store.event_account();
    for v in state.store.parameters_with_policies()? {
        let Some(text) = v.policies.as_deref() else {
            continue;
        };
        let list = policies::parse(text, i64::MIN).unwrap_or_default();
        let done = state.store.fired_policies(&v.region, &v.key, v.version)?;
        for p in policies::due(&list, v.modified_ms, now, &done) {
            let detail = serde_json::json!({
                "parameter-name": v.name,
                "parameter-version": v.version,
                "policy-type": p.type_name(),
                "policy-content": p.text,
                "due-time-ms": policies::due_at(&list, p, v.modified_ms),
            })
            .to_string();
            let id = new_event_id();
            let event = parameter_policy_action(
                Origin {
                    account: &account,
                    region: &v.region,
                    id: &id,
                    now_ms: now,
                },
                &PolicyParameter {
                    name: &v.name,
                    parameter_type: &v.param_type,
                    modified_ms: v.modified_ms,
                },
                p,
                &action_reason(&list, p, v.modified_ms),
            );
            if state
                .store
                .fire_parameter_policy(&v, p.type_name(), now, &detail, &event)?
            {
                tracing::info!(region = %v.region, parameter = %v.name, version = v.version, policy = p.type_name(), "parameter policy fired");
                fired += 1;
            }
        }
    }
    Ok(fired)
}

/// Run [`sweep`] every `policy_interval` until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(state.config.policy_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || sweep(&s, now_ms())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "parameter policy sweep failed"),
            Err(e) => tracing::error!(error = %e, "parameter policy sweep panicked"),
        }
    }
}
