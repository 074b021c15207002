//! Tests of the JSON and text payloads against the shapes real clients send.

use super::*;
use serde_json::json;

#[test]
fn acknowledge_uses_aws_field_names() {
    let ack = AcknowledgeContent {
        acknowledged_message_type: "output_stream_data".into(),
        acknowledged_message_id: "dd01e56b-ff48-483e-a508-b5f073f31b16".into(),
        acknowledged_message_sequence_number: 4,
        is_sequential_message: true,
    };
    assert_eq!(
        serde_json::to_value(&ack).unwrap(),
        json!({
            "AcknowledgedMessageType": "output_stream_data",
            "AcknowledgedMessageId": "dd01e56b-ff48-483e-a508-b5f073f31b16",
            "AcknowledgedMessageSequenceNumber": 4,
            "IsSequentialMessage": true
        })
    );
    let minimal: AcknowledgeContent =
        serde_json::from_str(r#"{"AcknowledgedMessageSequenceNumber":2}"#).unwrap();
    assert_eq!(minimal.acknowledged_message_sequence_number, 2);
    assert!(minimal.is_sequential_message);
}

#[test]
fn channel_closed_reads_aws_shape_with_string_date() {
    let closed: ChannelClosed = serde_json::from_value(json!({
        "MessageId": "m", "CreatedDate": "1700000000000", "DestinationId": "mi-1",
        "SessionId": "s-1", "MessageType": "channel_closed", "SchemaVersion": 1,
        "Output": "Session terminated"
    }))
    .unwrap();
    assert_eq!(closed.created_date, "1700000000000");
    assert_eq!(closed.output, "Session terminated");
    let back = serde_json::to_value(&closed).unwrap();
    assert_eq!(back["SchemaVersion"], 1);
    assert_eq!(back["SessionId"], "s-1");
}

#[test]
fn open_data_channel_accepts_every_client_shape() {
    let stock: OpenDataChannelInput = serde_json::from_str(
        r#"{"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t","ClientId":"c","ClientVersion":"1.2.0.0"}"#,
    )
    .unwrap();
    assert_eq!(stock.client_id.as_deref(), Some("c"));
    let npm: OpenDataChannelInput =
        serde_json::from_str(r#"{"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t"}"#)
            .unwrap();
    assert_eq!(npm.client_id, None);
    let pyssm: OpenDataChannelInput = serde_json::from_str(
        r#"{"MessageSchemaVersion":1,"TokenValue":"t","ClientId":"pyssm-client"}"#,
    )
    .unwrap();
    assert_eq!(pyssm.message_schema_version, "1");
    assert!(
        serde_json::from_str::<OpenDataChannelInput>(r#"{"MessageSchemaVersion":"1.0"}"#).is_err(),
        "the token is required"
    );
}

#[test]
fn size_and_exit_code_payloads() {
    let size: TerminalSize = serde_json::from_str(r#"{"cols":120,"rows":30}"#).unwrap();
    assert_eq!(
        size,
        TerminalSize {
            cols: 120,
            rows: 30
        }
    );
    assert_eq!(
        serde_json::to_string(&size).unwrap(),
        r#"{"cols":120,"rows":30}"#
    );
    assert_eq!(encode_exit_code(3), b"EXIT_CODE: 3");
    assert_eq!(decode_exit_code(b"EXIT_CODE: 3"), Some(3));
    assert_eq!(decode_exit_code(b"EXIT_CODE: -9\n"), Some(-9));
    assert_eq!(decode_exit_code(b"137"), Some(137));
    assert_eq!(decode_exit_code(b"EXIT_CODE: x"), None);
}

#[test]
fn handshake_request_for_a_port_session() {
    let props = PortSessionProperties {
        port_number: Some("80".into()),
        forwarding_type: Some("LocalPortForwarding".into()),
        local_port_number: Some("8080".into()),
        ..Default::default()
    };
    let request = HandshakeRequest {
        agent_version: "3.3.987.0".into(),
        requested_client_actions: vec![RequestedClientAction {
            action_type: ACTION_TYPE_SESSION_TYPE.into(),
            action_parameters: serde_json::to_value(SessionTypeParameters {
                session_type: "Port".into(),
                properties: serde_json::to_value(&props).unwrap(),
            })
            .unwrap(),
        }],
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "AgentVersion": "3.3.987.0",
            "RequestedClientActions": [{
                "ActionType": "SessionType",
                "ActionParameters": {
                    "SessionType": "Port",
                    "Properties": {"portNumber": "80", "type": "LocalPortForwarding", "localPortNumber": "8080"}
                }
            }]
        })
    );
    let params: SessionTypeParameters = serde_json::from_value(
        request.requested_client_actions[0]
            .action_parameters
            .clone(),
    )
    .unwrap();
    let back: PortSessionProperties = serde_json::from_value(params.properties).unwrap();
    assert_eq!(back, props);
}

#[test]
fn shell_session_type_has_null_properties_and_kms_parameters_read() {
    let params = SessionTypeParameters {
        session_type: "Standard_Stream".into(),
        properties: Value::Null,
    };
    assert_eq!(
        serde_json::to_value(&params).unwrap(),
        json!({"SessionType": "Standard_Stream", "Properties": null})
    );
    let kms: KmsEncryptionParameters =
        serde_json::from_value(json!({"KMSKeyId": "k", "Challenge": "Y2hhbGxlbmdl"})).unwrap();
    assert_eq!(kms.kms_key_id, "k");
}

#[test]
fn handshake_response_from_stock_plugin_and_aws_ssm_bridge() {
    let stock: HandshakeResponse = serde_json::from_str(
        r#"{"ClientVersion":"1.2.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}"#,
    )
    .unwrap();
    assert_eq!(stock.errors, Vec::<String>::new());
    let action = &stock.processed_client_actions[0];
    assert_eq!(
        ActionStatus::from_i64(action.action_status),
        Some(ActionStatus::Success)
    );
    let bridge: HandshakeResponse = serde_json::from_str(
        r#"{"ClientVersion":"1.2.764.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1}],"Errors":[]}"#,
    )
    .unwrap();
    assert_eq!(bridge.processed_client_actions[0].error, "");
    assert_eq!(ActionStatus::from_i64(3), Some(ActionStatus::Unsupported));
    assert_eq!(ActionStatus::from_i64(0), None);
}

#[test]
fn handshake_complete_and_agent_state() {
    let complete = HandshakeComplete {
        handshake_time_to_complete_ns: 1_500_000,
        customer_message: String::new(),
    };
    assert_eq!(
        serde_json::to_value(&complete).unwrap(),
        json!({"HandshakeTimeToComplete": 1500000, "CustomerMessage": ""})
    );
    let state = AgentSessionState {
        schema_version: 1,
        session_state: "Connected".into(),
        session_id: "s".into(),
    };
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        json!({"SchemaVersion": 1, "SessionState": "Connected", "SessionId": "s"})
    );
}
