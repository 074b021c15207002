//! Where a port session connects: `localhost`, or a remote host resolved once and checked
//! against `denied_remote_networks` on every address (the checked addresses are the ones
//! dialled, so a second DNS answer cannot rebind the session somewhere denied).

use std::net::{IpAddr, SocketAddr};

use bosun_proto::session::PortTarget;

/// Whether `ip` is inside `cidr` (`a.b.c.d/n`, `x::y/n`, or a bare address). `None`: not a CIDR.
pub fn in_cidr(ip: IpAddr, cidr: &str) -> Option<bool> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, Some(b.parse::<u8>().ok()?)),
        None => (cidr, None),
    };
    let net: IpAddr = net.trim().parse().ok()?;
    // An IPv4-mapped IPv6 address is checked as the IPv4 address it is.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return None;
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Some(u32::from(a) & mask == u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return None;
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            Some(u128::from(a) & mask == u128::from(n) & mask)
        }
        _ => Some(false),
    }
}

/// The addresses to dial, or why the session must be refused.
pub async fn resolve(target: &PortTarget, denied: &[String]) -> Result<Vec<SocketAddr>, String> {
    let port = target.port_number;
    let Some(host) = target.host.as_deref().filter(|h| !h.is_empty()) else {
        return tokio::net::lookup_host(("localhost", port))
            .await
            .map(|a| a.collect())
            .map_err(|e| format!("cannot resolve localhost: {e}"));
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve the remote host {host:?}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("the remote host {host:?} has no address"));
    }
    for addr in &addrs {
        for cidr in denied {
            match in_cidr(addr.ip(), cidr) {
                Some(true) => {
                    return Err(format!(
                        "port forwarding to {host:?} is denied: its address {} is in the denied \
                         network {cidr}",
                        addr.ip()
                    ))
                }
                Some(false) => {}
                None => return Err(format!("invalid denied network {cidr:?}")),
            }
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            in_cidr(ip("169.254.169.254"), "169.254.169.254/32"),
            Some(true)
        );
        assert_eq!(in_cidr(ip("10.1.2.3"), "10.0.0.0/8"), Some(true));
        assert_eq!(in_cidr(ip("11.1.2.3"), "10.0.0.0/8"), Some(false));
        assert_eq!(in_cidr(ip("::ffff:10.1.2.3"), "10.0.0.0/8"), Some(true));
        assert_eq!(in_cidr(ip("fd00::1"), "fd00::/8"), Some(true));
        assert_eq!(in_cidr(ip("1.2.3.4"), "0.0.0.0/0"), Some(true));
        assert_eq!(in_cidr(ip("1.2.3.4"), "fd00::/8"), Some(false));
        assert_eq!(in_cidr(ip("1.2.3.4"), "1.2.3.4/33"), None);
        assert_eq!(in_cidr(ip("1.2.3.4"), "nope"), None);
    }

    #[tokio::test]
    async fn denied_remote_addresses_are_refused() {
        let target = PortTarget {
            port_number: 80,
            host: Some("127.0.0.1".into()),
            forwarding_type: None,
            local_port_number: None,
        };
        let e = resolve(&target, &["127.0.0.0/8".into()]).await.unwrap_err();
        assert!(e.contains("is in the denied network 127.0.0.0/8"), "{e}");
        let ok = resolve(&target, &["10.0.0.0/8".into()]).await.unwrap();
        assert_eq!(ok, vec!["127.0.0.1:80".parse().unwrap()]);
    }
}
