//! SNS `email` and `email-json` subscriptions as pure rules: the endpoint check, the texts of
//! AWS's confirmation and notification mails, and AWS's retry schedule for SMTP endpoints.

/// The Subject of a notification published without one (AWS's default).
pub const DEFAULT_SUBJECT: &str = "AWS Notification Message";
/// The Subject of every subscription confirmation mail.
pub const CONFIRMATION_SUBJECT: &str = "AWS Notification - Subscription Confirmation";
/// The sender's display name of confirmation mails, and of notifications from a topic
/// without a `DisplayName`.
pub const DEFAULT_FROM_NAME: &str = "AWS Notifications";

/// Whether `endpoint` can be an email subscription's address: `local@domain`, one `@`, no
/// spaces or control characters, a domain with a dot and no empty label. (The mailer parses
/// it again with the SMTP library before sending.)
pub fn is_email_address(endpoint: &str) -> bool {
    let Some((local, domain)) = endpoint.split_once('@') else {
        return false;
    };
    let clean = |s: &str| {
        !s.is_empty()
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "@<>()[],;:\\\"".contains(c))
    };
    clean(local)
        && clean(domain)
        && endpoint.len() <= 254
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// The plain-text body of an `email` subscription's confirmation mail.
pub fn confirmation_text(topic_arn: &str, subscribe_url: &str) -> String {
    format!(
        "You have chosen to subscribe to the topic: \n{topic_arn}\n\n\
         To confirm this subscription, click or visit the link below (If this was in error no action is necessary): \n\
         {subscribe_url}\n\n\
         Please do not reply directly to this email. If you wish to remove yourself from receiving all future SNS subscription confirmation requests please ask the operator of this Bosun server.\n"
    )
}

/// The plain-text body of an `email` notification: the message, then AWS's footer with the
/// subscription's unsubscribe link.
pub fn notification_text(message: &str, unsubscribe_url: &str) -> String {
    format!(
        "{message}\n\n--\n\
         If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         {unsubscribe_url}\n\n\
         Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact the operator of this Bosun server.\n"
    )
}

/// AWS's retry policy for customer-managed endpoints (SMTP): 50 attempts over about six
/// hours — after the first, 2 retries 10 s apart, 10 with exponential backoff from 10 s to
/// 600 s, then the rest 600 s apart.
pub const MAX_ATTEMPTS: i64 = 50;
const PRE_BACKOFF: i64 = 2;
const BACKOFF: i64 = 10;
const MIN_DELAY_MS: i64 = 10_000;
const MAX_DELAY_MS: i64 = 600_000;

/// How long to wait after the `failed`-th failed attempt (1 = the first attempt failed);
/// `None` when the attempts are used up and the delivery becomes a dead letter.
pub fn retry_delay_ms(failed: i64) -> Option<i64> {
    if !(1..MAX_ATTEMPTS).contains(&failed) {
        return None;
    }
    if failed <= PRE_BACKOFF {
        return Some(MIN_DELAY_MS);
    }
    let step = failed - PRE_BACKOFF - 1;
    if step < BACKOFF {
        // MIN * (MAX/MIN)^(step/(BACKOFF-1)): 10 s, 15.8 s, …, 600 s.
        let ratio = (MAX_DELAY_MS as f64) / (MIN_DELAY_MS as f64);
        let delay = (MIN_DELAY_MS as f64) * ratio.powf(step as f64 / (BACKOFF - 1) as f64);
        return Some(delay.round() as i64);
    }
    Some(MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        for ok in ["ops@example.com", "a.b+c@mail.example.co.jp", "x@127.0.0.1"] {
            assert!(is_email_address(ok), "{ok}");
        }
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "ops@example..com",
            "o ps@example.com",
            "ops@exa@mple.com",
            "ops@example.com\r\nBcc: x@y.z",
            "<ops@example.com>",
        ] {
            assert!(!is_email_address(bad), "{bad:?}");
        }
    }

    #[test]
    fn texts_carry_their_links() {
        let c = confirmation_text("arn:aws:sns:us-east-1:0:t", "https://b/?Token=x");
        assert!(c.starts_with(
            "You have chosen to subscribe to the topic: \narn:aws:sns:us-east-1:0:t\n"
        ));
        assert!(c.contains("\nhttps://b/?Token=x\n"));
        let n = notification_text("運用チーム各位", "https://b/?Action=Unsubscribe");
        assert!(n.starts_with("運用チーム各位\n\n--\n"));
        assert!(n.contains("unsubscribe:\nhttps://b/?Action=Unsubscribe\n"));
    }

    #[test]
    fn retries_follow_the_smtp_policy_and_end() {
        assert_eq!(retry_delay_ms(0), None);
        assert_eq!(retry_delay_ms(1), Some(10_000));
        assert_eq!(retry_delay_ms(2), Some(10_000));
        assert_eq!(retry_delay_ms(3), Some(10_000));
        assert_eq!(retry_delay_ms(4), Some(15_761));
        assert_eq!(retry_delay_ms(12), Some(600_000));
        assert_eq!(retry_delay_ms(13), Some(600_000));
        assert_eq!(retry_delay_ms(49), Some(600_000));
        assert_eq!(retry_delay_ms(50), None);
        let delays: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|n| retry_delay_ms(n).unwrap())
            .collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "never shorter");
        let total_hours = delays.iter().sum::<i64>() as f64 / 3_600_000.0;
        assert!((6.0..7.0).contains(&total_hours), "{total_hours}");
    }
}
