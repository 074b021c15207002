//! `Parameter Store Policy Action`: a parameter policy (`Expiration`, `ExpirationNotification`,
//! `NoChangeNotification`) took its action. The detail's fields are those of AWS's published
//! schema `aws.ssm@ParameterStorePolicyAction`: `policy-type`, `parameter-name` (as stored,
//! with its leading slash), `parameter-type`, `action-status` (`SUCCESS`: Bosun emits only the
//! actions it carried out), `policy-content` (the policy's JSON as text) and `action-reason`.
//! The reason's wording is Bosun's (AWS documents only the field).

use serde_json::json;

use super::envelope::{envelope, envelope_time, Event, Origin};
use crate::parameters::policies::{Policy, PolicyKind};

/// The detail-type.
pub const PARAMETER_STORE_POLICY_ACTION: &str = "Parameter Store Policy Action";

/// The parameter version whose policy acted.
#[derive(Debug, Clone, Copy)]
pub struct PolicyParameter<'a> {
    pub name: &'a str,
    pub parameter_type: &'a str,
    /// When this version was written (epoch ms).
    pub modified_ms: i64,
}

/// `action-reason` for `policy` of a version modified at `modified_ms`, among `policies`
/// (an `ExpirationNotification` names the `Expiration` it warns of).
pub fn action_reason(policies: &[Policy], policy: &Policy, modified_ms: i64) -> String {
    match policy.kind {
        PolicyKind::Expiration { .. } => "Parameter expired and was deleted".to_string(),
        PolicyKind::ExpirationNotification { .. } => {
            match policies.iter().find_map(|p| match p.kind {
                PolicyKind::Expiration { at_ms } => Some(at_ms),
                _ => None,
            }) {
                Some(at) => format!("Parameter expires at {}", envelope_time(at)),
                None => "Parameter has an expiration notification".to_string(),
            }
        }
        PolicyKind::NoChangeNotification { .. } => format!(
            "Parameter has not changed since {}",
            envelope_time(modified_ms)
        ),
    }
}

/// The event for `policy` of `parameter`, whose action is `reason`.
pub fn parameter_policy_action(
    origin: Origin<'_>,
    parameter: &PolicyParameter<'_>,
    policy: &Policy,
    reason: &str,
) -> Event {
    let detail = json!({
        "policy-type": policy.type_name(),
        "parameter-name": parameter.name,
        "parameter-type": parameter.parameter_type,
        "action-status": "SUCCESS",
        "policy-content": policy.text,
        "action-reason": reason,
    });
    let resources = vec![format!(
        "arn:aws:ssm:{}:{}:{}",
        origin.region,
        origin.account,
        crate::parameters::name::arn_resource(parameter.name)
    )];
    envelope(origin, PARAMETER_STORE_POLICY_ACTION, resources, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::policies::parse;

    const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn origin() -> Origin<'static> {
        Origin {
            account: "123456789012",
            region: "us-east-1",
            id: "89d9f8c1-5f8c-9a0c-f687-8912db6f4c2b",
            now_ms: NOW,
        }
    }

    fn policies() -> Vec<Policy> {
        parse(
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2026-01-01T00:00:00Z"}},
                {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Hours"}},
                {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Days"}}]"#,
            i64::MIN,
        )
        .unwrap()
    }

    const PARAM: PolicyParameter<'static> = PolicyParameter {
        name: "/MyParameter",
        parameter_type: "SecureString",
        modified_ms: NOW - 86_400_000,
    };

    #[test]
    fn an_expiration_is_aws_s_shape() {
        let list = policies();
        let reason = action_reason(&list, &list[0], PARAM.modified_ms);
        let e = parameter_policy_action(origin(), &PARAM, &list[0], &reason);
        assert_eq!(e.detail_type, PARAMETER_STORE_POLICY_ACTION);
        assert_eq!(e.region, "us-east-1");
        let v = &e.envelope;
        assert_eq!(v["source"], "aws.ssm");
        assert_eq!(v["version"], "0");
        assert_eq!(v["time"], "2026-01-01T00:00:00Z");
        assert_eq!(
            v["resources"],
            json!(["arn:aws:ssm:us-east-1:123456789012:parameter/MyParameter"])
        );
        assert_eq!(
            v["detail"],
            json!({
                "policy-type": "Expiration",
                "parameter-name": "/MyParameter",
                "parameter-type": "SecureString",
                "action-status": "SUCCESS",
                "policy-content": list[0].text,
                "action-reason": "Parameter expired and was deleted",
            })
        );
        let content: serde_json::Value =
            serde_json::from_str(v["detail"]["policy-content"].as_str().unwrap()).unwrap();
        assert_eq!(content["Type"], "Expiration", "the policy as JSON text");
    }

    #[test]
    fn notifications_say_what_they_warn_of() {
        let list = policies();
        assert_eq!(
            action_reason(&list, &list[1], PARAM.modified_ms),
            "Parameter expires at 2026-01-01T00:00:00Z"
        );
        assert_eq!(
            action_reason(&list, &list[2], PARAM.modified_ms),
            "Parameter has not changed since 2025-12-31T00:00:00Z"
        );
        let e = parameter_policy_action(origin(), &PARAM, &list[2], "r");
        assert_eq!(e.envelope["detail"]["policy-type"], "NoChangeNotification");
        assert_eq!(e.envelope["detail"]["action-reason"], "r");
    }
}
