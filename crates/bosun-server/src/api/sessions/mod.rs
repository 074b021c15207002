//! Session Manager's API: `StartSession` ([`start`]), `ResumeSession`, `TerminateSession` and
//! `GetConnectionStatus` ([`manage`]), `DescribeSessions` ([`describe`]). The data channel the
//! answers point at is `crate::sessions`.

pub mod describe;
pub mod manage;
pub mod start;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::state::{random_bytes, AppState};

/// `arn:aws:ssm:<region>:<account>:session/<id>`.
pub fn session_arn(state: &AppState, region: &str, session_id: &str) -> String {
    bosun_core::arn::Scope::new(region, state.config.account_id.clone())
        .ssm_arn(&format!("session/{session_id}"))
}

/// A new secret token (32 random bytes) and its stored hash.
pub(crate) fn new_token() -> (String, String) {
    let token = B64.encode(random_bytes::<32>());
    let hash = crate::sessions::token_hash(&token);
    (token, hash)
}

/// `ws(s)://<host the request came to>/v1/data-channel/<id>?role=publish_subscribe`.
pub(crate) fn stream_url(base_url: &str, session_id: &str) -> String {
    let ws = match base_url.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base_url.trim_start_matches("http://")),
    };
    format!(
        "{ws}{}?role=publish_subscribe",
        bosun_proto::session::data_channel_path(session_id)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_urls_follow_the_scheme_and_host_of_the_request() {
        assert_eq!(
            super::stream_url("https://ssm.example:8443", "alice-0123456789abcdef0"),
            "wss://ssm.example:8443/v1/data-channel/alice-0123456789abcdef0?role=publish_subscribe"
        );
        assert!(super::stream_url("http://127.0.0.1:1", "x").starts_with("ws://127.0.0.1:1/"));
        let (a, ha) = super::new_token();
        let (b, _) = super::new_token();
        assert_ne!(a, b);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a));
    }
}
