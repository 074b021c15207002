//! Wake-on-LAN on behalf of the server: when a sleeping node shares this node's subnet, the
//! server asks this agent (`SendWakePacket`) to broadcast the node's magic packet there, since
//! a broadcast does not cross routers and the server may sit elsewhere.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

use anyhow::Context;
use bosun_core::power::{magic_packet, Mac};

/// How many times the packet is sent: UDP may drop one, and a card wakes on any copy.
const COPIES: usize = 3;

/// Send the magic packet for `mac` to `broadcast:port` with `SO_BROADCAST`.
pub fn send_wake_packet(mac: &str, broadcast: &str, port: u16) -> anyhow::Result<()> {
    let mac = Mac::parse(mac)?;
    let ip: Ipv4Addr = broadcast
        .parse()
        .with_context(|| format!("{broadcast} is not an IPv4 address"))?;
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).context("opening a UDP socket")?;
    socket
        .set_broadcast(true)
        .context("allowing broadcast on the UDP socket")?;
    let packet = magic_packet(mac);
    for _ in 0..COPIES {
        socket
            .send_to(&packet, SocketAddrV4::new(ip, port))
            .with_context(|| format!("sending the magic packet to {ip}:{port}"))?;
    }
    Ok(())
}

/// Handle the server's request off the read loop, logging the outcome (the server judges the
/// wake by the sleeping node coming Online, so there is nothing to report back).
pub fn handle(mac: String, broadcast: String, port: u16) {
    match send_wake_packet(&mac, &broadcast, port) {
        Ok(()) => tracing::info!(%mac, %broadcast, port, "sent a Wake-on-LAN packet"),
        Err(e) => {
            tracing::warn!(%mac, %broadcast, port, error = %format!("{e:#}"), "could not send a Wake-on-LAN packet")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packet_reaches_a_listener_on_the_broadcast_address() {
        let listener = UdpSocket::bind(("127.255.255.255", 0)).unwrap();
        listener
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        send_wake_packet("02:00:00:00:00:0b", "127.255.255.255", port).unwrap();
        let mut buf = [0u8; 200];
        let (n, _) = listener.recv_from(&mut buf).unwrap();
        assert_eq!(n, 102);
        assert_eq!(&buf[..6], &[0xFF; 6]);
        assert_eq!(&buf[6..12], &[2, 0, 0, 0, 0, 0x0b]);
        assert_eq!(&buf[96..102], &[2, 0, 0, 0, 0, 0x0b]);
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(send_wake_packet("nope", "127.255.255.255", 9).is_err());
        assert!(send_wake_packet("02:00:00:00:00:0b", "example", 9).is_err());
    }
}
