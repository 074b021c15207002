//! Maintenance Window identifiers: the window id (`mw-` + 17 hex digits) and the UUIDs of
//! window targets, tasks, window executions, task executions and task invocations.
//!
//! Source: botocore's model. `MaintenanceWindowId`: `^mw-[0-9a-f]{17}$`. `MaintenanceWindowTargetId`,
//! `MaintenanceWindowTaskId`, `MaintenanceWindowExecutionId`, `MaintenanceWindowExecutionTaskId`
//! and `MaintenanceWindowExecutionTaskInvocationId`: 36 characters,
//! `^[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}$`. Bosun
//! makes lower-case version-4 UUIDs and accepts either case, as the pattern does.

/// The model pattern of every Maintenance Window UUID (for `ValidationException` texts).
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}\\-[0-9a-fA-F]{4}\\-[0-9a-fA-F]{4}\\-[0-9a-fA-F]{4}\\-[0-9a-fA-F]{12}$";
/// The model pattern of a window id.
pub const WINDOW_ID_PATTERN: &str = "^mw-[0-9a-f]{17}$";

/// A new window id from 9 random bytes.
pub fn window_id(random: [u8; 9]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("mw-{}", &hex[..17])
}

/// True for a well-formed window id.
pub fn is_window_id(s: &str) -> bool {
    s.len() == 20
        && s.starts_with("mw-")
        && s[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A new id for a window target, task, window execution, task execution or invocation.
pub fn new_uuid(random: [u8; 16]) -> String {
    crate::ids::uuid_v4(random)
}

/// True for a string the model's UUID pattern accepts (either case).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_have_the_model_shapes() {
        let w = window_id([0xab; 9]);
        assert_eq!(w, "mw-ababababababababa");
        assert!(is_window_id(&w));
        assert!(!is_window_id("mw-ABABABABABABABABA"));
        assert!(!is_window_id("mw-abababababababab"));
        assert!(is_uuid(&new_uuid([7; 16])));
        assert!(is_uuid("B60FB56E-776C-4E5C-84EE-123456789012"));
        assert!(!is_uuid("b60fb56e-776c-4e5c-84ee-12345678901"));
        assert!(!is_uuid("b60fb56e_776c-4e5c-84ee-123456789012"));
        assert!(!is_uuid("g60fb56e-776c-4e5c-84ee-123456789012"));
    }

    proptest! {
        /// The validator agrees with the model's pattern, and every generated id passes it.
        #[test]
        fn validators_match_the_model_patterns(
            s in prop_oneof!["[0-9a-gA-G-]{30,40}", "[0-9a-gA-G]{8}-[0-9a-fA-F]{4}-[0-9a-f]{4}[-_][0-9a-fA-F]{4}-[0-9A-G]{11,13}"], random in any::<[u8; 16]>(),
            w in any::<[u8; 9]>(),
        ) {
            let re = regex::Regex::new(UUID_PATTERN).unwrap();
            prop_assert_eq!(is_uuid(&s), re.is_match(&s));
            prop_assert!(is_uuid(&new_uuid(random)));
            let wid = window_id(w);
            prop_assert!(regex::Regex::new(WINDOW_ID_PATTERN).unwrap().is_match(&wid));
            prop_assert!(is_window_id(&wid));
        }
    }
}
