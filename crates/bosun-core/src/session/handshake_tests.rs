//! Tests of the handshake rules.

use super::*;
use serde_json::json;

#[test]
fn only_port_and_non_interactive_sessions_handshake_without_kms() {
    assert!(!SessionType::StandardStream.requires_handshake(false));
    assert!(!SessionType::InteractiveCommands.requires_handshake(false));
    assert!(SessionType::NonInteractiveCommands.requires_handshake(false));
    assert!(SessionType::Port.requires_handshake(false));
    assert!(SessionType::StandardStream.requires_handshake(true));
    for ty in [
        SessionType::StandardStream,
        SessionType::InteractiveCommands,
        SessionType::NonInteractiveCommands,
        SessionType::Port,
    ] {
        assert_eq!(SessionType::parse(ty.as_str()), Some(ty));
    }
}

#[test]
fn a_port_request_carries_the_properties() {
    let request = session_type_request(
        "3.3.987.0",
        SessionType::Port,
        json!({"portNumber": "22", "type": "LocalPortForwarding", "localPortNumber": "2222"}),
    );
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"AgentVersion": "3.3.987.0", "RequestedClientActions": [{
            "ActionType": "SessionType",
            "ActionParameters": {"SessionType": "Port", "Properties":
                {"portNumber": "22", "type": "LocalPortForwarding", "localPortNumber": "2222"}}
        }]})
    );
}

#[test]
fn the_stock_plugin_answer_passes_the_agent_check() {
    let request = session_type_request(
        "3.3.987.0",
        SessionType::NonInteractiveCommands,
        Value::Null,
    );
    let stock: HandshakeResponse = serde_json::from_str(
        r#"{"ClientVersion":"1.2.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}"#,
    )
    .unwrap();
    assert_eq!(check_handshake_response(&request, &stock), Ok(()));
}

#[test]
fn missing_or_failed_actions_fail_the_handshake() {
    let request = session_type_request("3.3.987.0", SessionType::Port, Value::Null);
    let empty: HandshakeResponse =
        serde_json::from_str(r#"{"ClientVersion":"1.2.0.0","ProcessedClientActions":null}"#)
            .unwrap();
    assert_eq!(
        check_handshake_response(&request, &empty),
        Err(HandshakeError::ActionNotProcessed("SessionType".into()))
    );
    let failed: HandshakeResponse = serde_json::from_str(
        r#"{"ClientVersion":"1","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":2,"Error":"no"}]}"#,
    )
    .unwrap();
    assert_eq!(
        check_handshake_response(&request, &failed),
        Err(HandshakeError::ActionFailed {
            action_type: "SessionType".into(),
            status: 2,
            error: "no".into()
        })
    );
}

#[test]
fn bosuns_client_answers_known_types_and_refuses_kms() {
    let mut request = session_type_request("3.3.987.0", SessionType::StandardStream, Value::Null);
    let answer = answer_handshake_request(&request, "1.2.0.0");
    assert_eq!(check_handshake_response(&request, &answer), Ok(()));
    assert_eq!(answer.client_version, "1.2.0.0");
    request
        .requested_client_actions
        .push(RequestedClientAction {
            action_type: ACTION_TYPE_KMS_ENCRYPTION.into(),
            action_parameters: json!({"KMSKeyId": "k", "Challenge": "c"}),
        });
    let answer = answer_handshake_request(&request, "1.2.0.0");
    assert_eq!(answer.processed_client_actions[1].action_status, 3);
    assert!(check_handshake_response(&request, &answer).is_err());
    let odd = session_type_request("3.3.987.0", SessionType::Port, Value::Null);
    let mut odd_value = serde_json::to_value(&odd).unwrap();
    odd_value["RequestedClientActions"][0]["ActionParameters"]["SessionType"] = json!("Weird");
    let odd: HandshakeRequest = serde_json::from_value(odd_value).unwrap();
    assert_eq!(
        answer_handshake_request(&odd, "1").processed_client_actions[0].action_status,
        2
    );
}

#[test]
fn the_handshake_times_out_after_fifteen_seconds() {
    assert!(!handshake_timed_out(1_000, 15_999));
    assert!(handshake_timed_out(1_000, 16_000));
    assert_eq!(
        HandshakeError::TimedOut.to_string(),
        HANDSHAKE_TIMED_OUT_MESSAGE
    );
}
