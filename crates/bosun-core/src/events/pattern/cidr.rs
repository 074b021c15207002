//! IP addresses and CIDR ranges the way EventBridge reads them: a string that looks like an
//! IPv4 or IPv6 literal is compared as an address, so `cidr` and exact IP values match any
//! spelling of the same address.

use std::net::Ipv6Addr;

/// An address as bytes; IPv4 and IPv6 never compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IpKey {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IpRange {
    pub low: IpKey,
    pub high: IpKey,
}

impl IpRange {
    pub(crate) fn contains(&self, ip: &IpKey) -> bool {
        match (ip, &self.low) {
            (IpKey::V4(_), IpKey::V4(_)) | (IpKey::V6(_), IpKey::V6(_)) => {
                &self.low <= ip && ip <= &self.high
            }
            _ => false,
        }
    }
}

/// Dotted quad of decimal digits (`[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`).
fn looks_like_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Hex digits and colons with at least one colon (`[0-9a-fA-F:]*:[0-9a-fA-F:]*`).
fn looks_like_v6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

/// Whether the text has an IP literal's shape (it may still be an invalid address).
pub(crate) fn looks_like_ip(s: &str) -> bool {
    looks_like_v4(s) || looks_like_v6(s)
}

fn parse_v4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    for (slot, part) in out.iter_mut().zip(s.split('.')) {
        let digits = part.trim_start_matches('0');
        if digits.len() > 3 {
            return None;
        }
        let n: u16 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        *slot = u8::try_from(n).ok()?;
    }
    Some(out)
}

/// The address of an IP-shaped string, or `None` when it is not a valid address.
pub(crate) fn parse_ip(s: &str) -> Option<IpKey> {
    if looks_like_v4(s) {
        parse_v4(s).map(IpKey::V4)
    } else if looks_like_v6(s) {
        s.parse::<Ipv6Addr>().ok().map(|a| IpKey::V6(a.octets()))
    } else {
        None
    }
}

/// Parses a `cidr` pattern value, with AWS's reasons for refusing one.
pub(crate) fn parse_cidr(text: &str) -> Result<IpRange, String> {
    // Split on '/' dropping trailing empty pieces, as AWS's parser does.
    let mut pieces: Vec<&str> = text.split('/').collect();
    while pieces.len() > 1 && pieces.last() == Some(&"") {
        pieces.pop();
    }
    if pieces.len() != 2 {
        return Err("Malformed CIDR, one '/' required".into());
    }
    let bits_text = pieces[1].strip_prefix('+').unwrap_or(pieces[1]);
    let bits: i64 = match bits_text.parse::<i32>() {
        Ok(b) if !pieces[1].starts_with("+-") => i64::from(b),
        _ => return Err("Malformed CIDR, mask bits must be an integer".into()),
    };
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".into());
    }
    let address = pieces[0];
    let ip = if looks_like_ip(address) {
        parse_ip(address).ok_or_else(|| format!("Invalid IP address: {address}"))?
    } else {
        return Err(format!("Nonstandard IP address: {address}"));
    };
    let bits = bits as u32;
    let high = match ip {
        IpKey::V4(b) => {
            if bits > 31 {
                return Err("IPv4 mask bits must be < 32".into());
            }
            IpKey::V4(fill_host_bits(b, bits))
        }
        IpKey::V6(b) => {
            if bits > 127 {
                return Err("IPv6 mask bits must be < 128".into());
            }
            IpKey::V6(fill_host_bits(b, bits))
        }
    };
    // The low end is the address as written, not masked: AWS's parser does the same.
    Ok(IpRange { low: ip, high })
}

fn fill_host_bits<const N: usize>(mut bytes: [u8; N], network_bits: u32) -> [u8; N] {
    for (i, byte) in bytes.iter_mut().enumerate() {
        let start = (i as u32) * 8;
        if network_bits <= start {
            *byte = 0xff;
        } else if network_bits < start + 8 {
            *byte |= 0xffu8 >> (network_bits - start);
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_ranges_include_their_ends() {
        let r = parse_cidr("10.0.0.0/24").unwrap();
        assert!(r.contains(&parse_ip("10.0.0.0").unwrap()));
        assert!(r.contains(&parse_ip("10.0.0.255").unwrap()));
        assert!(!r.contains(&parse_ip("10.0.1.0").unwrap()));
        assert_eq!(parse_ip("10.0.0.256"), None);
    }

    #[test]
    fn v6_ranges_compare_any_spelling() {
        let r = parse_cidr("2001:db8:1234:1a00::/64").unwrap();
        assert!(r.contains(&parse_ip("2001:0db8:1234:1a00:0000:0000:0000:0001").unwrap()));
        assert!(!r.contains(&parse_ip("2001:0db8:123f:1a01::").unwrap()));
        assert!(!r.contains(&parse_ip("10.0.0.1").unwrap()));
    }

    #[test]
    fn malformed_cidrs_give_aws_reasons() {
        let err = |s: &str| parse_cidr(s).unwrap_err();
        assert_eq!(err("bad-filter"), "Malformed CIDR, one '/' required");
        assert_eq!(err("10.0.0.0/"), "Malformed CIDR, one '/' required");
        assert_eq!(
            err("bad-/64filter"),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(
            err("10.0.0.0/-1"),
            "Malformed CIDR, mask bits must not be negative"
        );
        assert_eq!(err("xx.11.xx/8"), "Nonstandard IP address: xx.11.xx");
        assert_eq!(err("10.0.0.300/8"), "Invalid IP address: 10.0.0.300");
        assert_eq!(err("10.0.0.0/32"), "IPv4 mask bits must be < 32");
        assert_eq!(err("::/128"), "IPv6 mask bits must be < 128");
    }
}
