//! Identifier formats that mirror AWS SSM's: managed node ids, activation ids and codes.
//!
//! Generators take random bytes from the caller so that this crate stays free of IO.

/// The prefix AWS gives hybrid (non-EC2) managed nodes.
pub const MANAGED_INSTANCE_PREFIX: &str = "mi-";

/// Build a managed node id (`mi-` + 17 lower-case hex digits) from 9 random bytes.
pub fn managed_instance_id(random: [u8; 9]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{MANAGED_INSTANCE_PREFIX}{}", &hex[..17])
}

/// Build a maintenance window id (`mw-` + 17 lower-case hex digits) from 9 random bytes.
pub fn maintenance_window_id(random: [u8; 9]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("mw-{}", &hex[..17])
}

/// True for a well-formed hybrid managed node id: `^mi-[0-9a-f]{17}$`.
pub fn is_managed_instance_id(s: &str) -> bool {
    s.len() == 20
        && s.starts_with(MANAGED_INSTANCE_PREFIX)
        && s[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for any instance id the API accepts in `InstanceId` fields:
/// `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`.
pub fn is_instance_id(s: &str) -> bool {
    let word = |t: &str| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(rest) = s.strip_prefix("mi-") {
        return rest.len() == 17 && word(rest);
    }
    if let Some(rest) = s.strip_prefix("i-") {
        return (rest.len() == 8 || rest.len() == 17) && word(rest);
    }
    false
}

/// Format 16 random bytes as a lower-case RFC 4122 version-4 UUID.
pub fn uuid_v4(random: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// True for a lower-case UUID, the form AWS uses for activation and command ids.
pub fn is_lower_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// The alphabet of activation codes: letters and digits, no look-alikes dropped on purpose,
/// so a code keeps ~5.9 bits of entropy per character.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Build a 20-character activation code from 20 random bytes (AWS codes are 20 characters).
pub fn activation_code(random: [u8; 20]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// Hash an activation code for storage; only the hash is ever kept.
pub fn hash_activation_code(code: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("bosun-activation-code-v1:{code}").as_bytes(),
    ))
}

/// A new access key id in AWS's shape: `AKIA` + 16 upper-case letters and digits.
pub fn access_key_id(random: [u8; 16]) -> String {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let body: String = random
        .iter()
        .map(|b| UPPER[usize::from(*b) % UPPER.len()] as char)
        .collect();
    format!("AKIA{body}")
}

/// A new secret access key: 40 characters of base64-like text from 30 random bytes.
pub fn secret_access_key(random: [u8; 30]) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(40);
    for chunk in random.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(ALPHA[((n >> shift) & 63) as usize] as char);
        }
    }
    out
}

/// True for a folder name made only of `[A-Za-z0-9._-]` that is not `.` or `..`.
pub fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The folder name of a document step (server blobs and agent orchestration folders alike):
/// the step name without `:`, as the SSM agent names plugin folders
/// (`aws:runShellScript` → `awsrunShellScript`), hex-encoded when that is not a plain name.
pub fn step_dir_name(step: &str) -> String {
    let plain: String = step.chars().filter(|c| *c != ':').collect();
    if is_plain_name(&plain) {
        plain
    } else {
        format!("x{}", hex::encode(step))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn step_names_become_safe_folder_names() {
        assert_eq!(step_dir_name("aws:runShellScript"), "awsrunShellScript");
        assert_eq!(step_dir_name("my-step_1.x"), "my-step_1.x");
        assert!(step_dir_name("../etc").starts_with('x'));
        assert!(step_dir_name("..").starts_with('x'));
        assert!(!is_plain_name("a/b"));
    }

    use super::*;

    #[test]
    fn managed_instance_ids_have_aws_shape() {
        let id = managed_instance_id([0xab; 9]);
        assert_eq!(id, "mi-ababababababababa");
        assert!(is_managed_instance_id(&id));
        assert!(is_instance_id(&id));
        assert!(!is_managed_instance_id("mi-ABABABABABABABABA"));
        assert!(!is_managed_instance_id("mi-abababababababab"));
        assert!(is_instance_id("i-0123456789abcdef0"));
        assert!(is_instance_id("i-01234567"));
        assert!(!is_instance_id("i-0123"));
        assert!(!is_instance_id("x-0123456789abcdef0"));
    }

    #[test]
    fn uuids_are_lower_case_v4() {
        let u = uuid_v4([0xab; 16]);
        assert!(is_lower_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!(!is_lower_uuid(&u.to_uppercase()));
    }

    #[test]
    fn codes_and_keys_have_expected_lengths() {
        assert_eq!(activation_code([200; 20]).len(), 20);
        let akid = access_key_id([1; 16]);
        assert_eq!(akid.len(), 20);
        assert!(akid.starts_with("AKIA"));
        assert_eq!(secret_access_key([9; 30]).len(), 40);
        assert_ne!(hash_activation_code("a"), hash_activation_code("b"));
    }
}
