//! Node power rules (issue 16): MAC addresses, Wake-on-LAN magic packets, IPv4 subnets, and
//! which way a stopped node is woken (a power-controller document or Wake-on-LAN through an
//! Online relay on its subnet). No IO: the server feeds in what nodes reported.

mod method;
mod relays;

pub use method::{wake_method, WakeMethod, TAG_WAKE_DOCUMENT, TAG_WAKE_PORT, TAG_WAKE_VIA};
pub use relays::{choose_relays, RelayCandidate, WakeRelay};

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// UDP port Wake-on-LAN packets go to unless the node's `bosun:wake-port` tag says otherwise
/// (port 9, "discard", is the conventional one; 7 is the other common choice).
pub const DEFAULT_WAKE_PORT: u16 = 9;

/// One network interface a node reported: its name, hardware address and IPv4 addresses in
/// CIDR notation (`10.0.0.5/24`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub name: String,
    /// `aa:bb:cc:dd:ee:ff`, lower case; empty when the interface has none.
    #[serde(default)]
    pub mac_address: String,
    #[serde(default)]
    pub ipv4_addresses: Vec<String>,
}

/// Why a power rule refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowerError {
    #[error(
        "{0} is not a MAC address (expected six hexadecimal octets such as aa:bb:cc:dd:ee:ff)"
    )]
    BadMac(String),
    #[error("{0} is not an IPv4 address with a prefix length (such as 10.0.0.5/24)")]
    BadCidr(String),
    #[error("{0}")]
    NoWakeMethod(String),
    #[error("{0}")]
    NoRelay(String),
    #[error("{0}")]
    BadTag(String),
}

/// A 48-bit hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Parse `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (either case).
    pub fn parse(text: &str) -> Result<Mac, PowerError> {
        let bad = || PowerError::BadMac(text.to_string());
        let sep = if text.contains('-') { '-' } else { ':' };
        let parts: Vec<&str> = text.split(sep).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(parts) {
            if p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(Mac(out))
    }

    /// All zeros (loopback, some virtual interfaces): no card answers to it.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Length of a Wake-on-LAN magic packet.
pub const MAGIC_PACKET_LEN: usize = 102;

/// The magic packet that wakes the card with `mac`: six `0xFF` bytes, then the MAC 16 times.
pub fn magic_packet(mac: Mac) -> [u8; MAGIC_PACKET_LEN] {
    let mut packet = [0xFFu8; MAGIC_PACKET_LEN];
    for chunk in packet[6..].chunks_exact_mut(6) {
        chunk.copy_from_slice(&mac.0);
    }
    packet
}

/// An IPv4 address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, PowerError> {
        let bad = || PowerError::BadCidr(text.to_string());
        let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }

    fn mask(&self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p)),
        }
    }

    /// The subnet's network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// The subnet's broadcast address (all host bits set). A /31 or /32 has no broadcast
    /// address of its own; its peer's address or itself is returned as computed.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    /// The subnet as text: `10.0.0.0/24`.
    pub fn subnet(&self) -> String {
        format!("{}/{}", self.network(), self.prefix)
    }

    /// Whether both are on the same subnet: same prefix length and network.
    pub fn same_subnet(&self, other: &Cidr) -> bool {
        self.prefix == other.prefix && self.network() == other.network()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The UDP port a node's magic packets go to: its `bosun:wake-port` tag, else port 9.
pub fn wake_port(tags: &[(String, String)]) -> Result<u16, PowerError> {
    match tags.iter().find(|(k, _)| k == TAG_WAKE_PORT) {
        None => Ok(DEFAULT_WAKE_PORT),
        Some((_, v)) => v.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
            PowerError::BadTag(format!(
                "the tag {TAG_WAKE_PORT}={v} is not a UDP port (1-65535)"
            ))
        }),
    }
}

#[cfg(test)]
mod tests;
