//! Tests of pseudo-parameter checks and substitution.

use super::*;
use proptest::prelude::*;

fn values() -> PseudoValues {
    PseudoValues {
        window_id: "mw-0123456789abcdef0".into(),
        window_task_id: "11111111-1111-4111-8111-111111111111".into(),
        window_target_id: Some("22222222-2222-4222-8222-222222222222".into()),
        window_execution_id: "33333333-3333-4333-8333-333333333333".into(),
        task_execution_id: "44444444-4444-4444-8444-444444444444".into(),
        invocation_id: "55555555-5555-4555-8555-555555555555".into(),
        target_type: ResourceType::ResourceGroup,
        target_id: None,
        resource_id: None,
    }
}

#[test]
fn run_command_refuses_target_id_and_resource_id() {
    let err = check(TaskType::RunCommand, ["echo ok", "echo {{ RESOURCE_ID }}"]).unwrap_err();
    assert_eq!(err.parameter, PseudoParameter::ResourceId);
    assert_eq!(
        err.to_string(),
        "{{RESOURCE_ID}} cannot be used in a RUN_COMMAND task: it is only replaced in \
         AUTOMATION, LAMBDA and STEP_FUNCTIONS tasks"
    );
    assert!(check(TaskType::RunCommand, ["{{TARGET_ID}}"]).is_err());
    assert!(check(TaskType::Automation, ["{{TARGET_ID}} {{RESOURCE_ID}}"]).is_ok());
    let allowed: String = PseudoParameter::ALL
        .into_iter()
        .filter(|p| p.supported_by(TaskType::RunCommand))
        .map(|p| format!("{{{{{}}}}}", p.name()))
        .collect();
    assert_eq!(check(TaskType::RunCommand, [allowed.as_str()]), Ok(()));
}

#[test]
fn substitution_replaces_ours_and_keeps_the_rest() {
    let text = "run {{WINDOW_ID}}/{{ WINDOW_EXECUTION_ID }} on {{TARGET_TYPE}} \
                {{WINDOW_TARGET_ID}} {{ commands }} {{ssm:/a/b}} {{TARGET_ID}} {{window_id}}";
    assert_eq!(
        substitute(text, &values()),
        "run mw-0123456789abcdef0/33333333-3333-4333-8333-333333333333 on RESOURCE_GROUP \
         22222222-2222-4222-8222-222222222222 {{ commands }} {{ssm:/a/b}} {{TARGET_ID}} \
         {{window_id}}"
    );
    let by_id = PseudoValues {
        window_target_id: None,
        target_type: ResourceType::Instance,
        ..values()
    };
    assert_eq!(
        substitute("[{{WINDOW_TARGET_ID}}] {{TARGET_TYPE}}", &by_id),
        "[] INSTANCE"
    );
    assert_eq!(
        substitute("{{{WINDOW_ID}}}", &values()),
        "{mw-0123456789abcdef0}"
    );
    assert_eq!(substitute("{{WINDOW_ID", &values()), "{{WINDOW_ID");
}

#[test]
fn parameters_are_substituted_value_by_value() {
    let params = BTreeMap::from([(
        "commands".to_string(),
        vec!["echo {{INVOCATION_ID}}".to_string(), "true".to_string()],
    )]);
    let out = substitute_parameters(&params, &values());
    assert_eq!(
        out["commands"],
        ["echo 55555555-5555-4555-8555-555555555555", "true"]
    );
}

/// Texts made of pseudo-parameters, stray braces, other references and plain words.
fn pieces() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{{WINDOW_ID}}".to_string()),
        Just("{{ TARGET_TYPE }}".to_string()),
        Just("{{RESOURCE_ID}}".to_string()),
        Just("{{INVOCATION_ID}}".to_string()),
        Just("{{ commands }}".to_string()),
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{".to_string()),
        Just("WINDOW_ID".to_string()),
        "[a-z _]{0,4}",
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

proptest! {
    /// Text without a pseudo-parameter comes back unchanged, and substitution never leaves a
    /// pseudo-parameter that has a value.
    #[test]
    fn substitution_is_exact(text in pieces()) {
        let out = substitute(&text, &values());
        if find(&text).is_empty() {
            prop_assert_eq!(&out, &text);
        }
        prop_assert!(find(&out).iter().all(|p| matches!(p, PseudoParameter::TargetId | PseudoParameter::ResourceId)));
    }
}
