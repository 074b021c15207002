//! How many failed console sign-ins Bosun lets through before it refuses more for a while
//! (Bosun's own rule; AWS's console sign-in limits are not published). Failures are counted in
//! fixed windows, per client address and per access key id, in the store so every replica counts
//! together; once a count reaches its limit, sign-ins from that address or for that key are
//! refused until the window ends — a right secret too, or guessing would go on. A key's limit is
//! higher than an address's, so one noisy address cannot lock a key's owner out, while guesses
//! spread over many addresses are still bounded. The API (SigV4) is not affected.

/// The counting window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures from one client address per window.
pub const PER_ADDRESS: u32 = 10;
/// Failures for one access key id per window, from any address.
pub const PER_KEY: u32 = 50;

/// The start of the window holding `now_ms`.
pub fn window_start(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(WINDOW_MS)
}

/// When the window holding `now_ms` ends (a refusal's retry time).
pub fn window_end(now_ms: i64) -> i64 {
    window_start(now_ms) + WINDOW_MS
}

/// The store key counting an address's failures.
pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// The store key counting an access key id's failures.
pub fn key_id_key(access_key_id: &str) -> String {
    format!("key:{access_key_id}")
}

/// Whether counts of `address_failures` and `key_failures` refuse the next sign-in.
pub fn refused(address_failures: u32, key_failures: u32) -> bool {
    address_failures >= PER_ADDRESS || key_failures >= PER_KEY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_end_where_the_next_starts() {
        let t = 1_796_512_488_123;
        assert_eq!(window_start(t) % WINDOW_MS, 0);
        assert!(window_start(t) <= t && t < window_end(t));
        assert_eq!(window_start(window_end(t)), window_end(t));
        assert_eq!(window_start(window_end(t) - 1), window_start(t));
    }

    #[test]
    fn an_address_is_refused_before_a_key() {
        assert!(!refused(PER_ADDRESS - 1, PER_KEY - 1));
        assert!(refused(PER_ADDRESS, 0));
        assert!(refused(0, PER_KEY));
    }

    // One noisy address must not be able to lock a key's owner out.
    const _: () = assert!(PER_ADDRESS < PER_KEY);
}
