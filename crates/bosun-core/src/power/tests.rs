//! Tests of the node power rules.

use proptest::prelude::*;

use super::*;

fn iface(mac: &str, addrs: &[&str]) -> NetworkInterface {
    NetworkInterface {
        name: "eth0".into(),
        mac_address: mac.into(),
        ipv4_addresses: addrs.iter().map(|a| a.to_string()).collect(),
    }
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn macs_parse_in_both_notations_and_print_lower_case() {
    let m = Mac::parse("AA:bb:0C:dd:ee:0f").unwrap();
    assert_eq!(m.0, [0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x0f]);
    assert_eq!(m.to_string(), "aa:bb:0c:dd:ee:0f");
    assert_eq!(Mac::parse("aa-bb-0c-dd-ee-0f").unwrap(), m);
    for bad in [
        "",
        "aa:bb:cc:dd:ee",
        "aa:bb:cc:dd:ee:ff:00",
        "aa:bb:cc:dd:ee:fg",
        "a:bb:cc:dd:ee:ff0",
        "+a:bb:cc:dd:ee:ff",
    ] {
        assert!(Mac::parse(bad).is_err(), "{bad}");
    }
    assert!(Mac::parse("00:00:00:00:00:00").unwrap().is_zero());
}

#[test]
fn a_magic_packet_is_six_ff_then_the_mac_sixteen_times() {
    let mac = Mac([1, 2, 3, 4, 5, 6]);
    let p = magic_packet(mac);
    assert_eq!(p.len(), 102);
    assert_eq!(&p[..6], &[0xFF; 6]);
    for i in 0..16 {
        assert_eq!(&p[6 + 6 * i..12 + 6 * i], &[1, 2, 3, 4, 5, 6]);
    }
}

#[test]
fn subnets_and_broadcasts() {
    let c = Cidr::parse("192.168.1.77/24").unwrap();
    assert_eq!(c.broadcast().to_string(), "192.168.1.255");
    assert_eq!(c.subnet(), "192.168.1.0/24");
    assert_eq!(
        Cidr::parse("127.0.0.1/8").unwrap().broadcast().to_string(),
        "127.255.255.255"
    );
    assert_eq!(
        Cidr::parse("10.1.2.3/0").unwrap().broadcast().to_string(),
        "255.255.255.255"
    );
    assert_eq!(
        Cidr::parse("10.1.2.3/32").unwrap().broadcast().to_string(),
        "10.1.2.3"
    );
    assert!(c.same_subnet(&Cidr::parse("192.168.1.3/24").unwrap()));
    assert!(!c.same_subnet(&Cidr::parse("192.168.2.3/24").unwrap()));
    assert!(!c.same_subnet(&Cidr::parse("192.168.1.3/25").unwrap()));
    for bad in ["10.0.0.1", "10.0.0.1/33", "10.0.0/24", "x/8", "10.0.0.1/-1"] {
        assert!(Cidr::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_wake_port_is_nine_unless_tagged() {
    assert_eq!(wake_port(&[]).unwrap(), 9);
    assert_eq!(
        wake_port(&tags(&[("bosun:wake-port", "4009")])).unwrap(),
        4009
    );
    for bad in ["0", "70000", "nine", ""] {
        assert!(
            wake_port(&tags(&[("bosun:wake-port", bad)])).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_controller_document_wins_over_wake_on_lan() {
    let ifs = [iface("aa:bb:cc:dd:ee:ff", &["10.0.0.5/24"])];
    let t = tags(&[
        ("bosun:wake-document", "PowerOn"),
        ("bosun:wake-via", "mi-0123456789abcdef0"),
    ]);
    assert_eq!(
        wake_method("mi-b", &t, &ifs).unwrap(),
        WakeMethod::Controller {
            document: "PowerOn".into(),
            controller: "mi-0123456789abcdef0".into()
        }
    );
    assert_eq!(
        wake_method("mi-b", &[], &ifs).unwrap(),
        WakeMethod::WakeOnLan {
            macs: vec![Mac([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])]
        }
    );
}

#[test]
fn half_a_controller_or_a_self_controller_is_refused() {
    let only_doc = tags(&[("bosun:wake-document", "PowerOn")]);
    let e = wake_method("mi-b", &only_doc, &[]).unwrap_err().to_string();
    assert!(e.contains("bosun:wake-via"), "{e}");
    let itself = tags(&[
        ("bosun:wake-document", "PowerOn"),
        ("bosun:wake-via", "mi-b"),
    ]);
    assert!(wake_method("mi-b", &itself, &[]).is_err());
    let not_a_node = tags(&[
        ("bosun:wake-document", "PowerOn"),
        ("bosun:wake-via", "my-laptop"),
    ]);
    assert!(wake_method("mi-b", &not_a_node, &[]).is_err());
}

#[test]
fn no_method_names_the_tags_to_set() {
    let zero_mac = [iface("00:00:00:00:00:00", &["10.0.0.5/24"]), iface("", &[])];
    let e = wake_method("mi-b", &[], &zero_mac).unwrap_err();
    assert!(matches!(e, PowerError::NoWakeMethod(_)));
    let text = e.to_string();
    assert!(
        text.starts_with("no wake method configured for mi-b"),
        "{text}"
    );
    assert!(text.contains("bosun:wake-document") && text.contains("bosun:wake-via"));
}

#[test]
fn relays_are_online_other_nodes_on_the_targets_subnets() {
    let target = [iface(
        "aa:bb:cc:dd:ee:ff",
        &["10.0.0.5/24", "192.168.7.2/24"],
    )];
    let offline = [iface("", &["10.0.0.6/24"])];
    let other_net = [iface("", &["10.0.1.6/24"])];
    let good = [iface("", &["10.0.0.200/24"])];
    let candidates = [
        RelayCandidate {
            node_id: "mi-t",
            online: true,
            interfaces: &target,
        },
        RelayCandidate {
            node_id: "mi-off",
            online: false,
            interfaces: &offline,
        },
        RelayCandidate {
            node_id: "mi-far",
            online: true,
            interfaces: &other_net,
        },
        RelayCandidate {
            node_id: "mi-ok",
            online: true,
            interfaces: &good,
        },
    ];
    let relays = choose_relays("mi-t", &target, &candidates).unwrap();
    assert_eq!(
        relays,
        [WakeRelay {
            node_id: "mi-ok".into(),
            subnet: "10.0.0.0/24".into(),
            broadcast: "10.0.0.255".parse().unwrap()
        }]
    );
    let e = choose_relays("mi-t", &target, &candidates[..3])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "no Online node on subnet 10.0.0.0/24, 192.168.7.0/24 to send the Wake-on-LAN packet \
         for mi-t"
    );
    assert!(choose_relays("mi-t", &[iface("aa:bb:cc:dd:ee:ff", &[])], &candidates).is_err());
}

proptest! {
    #[test]
    fn any_mac_round_trips_and_fills_its_packet(bytes in any::<[u8; 6]>()) {
        let mac = Mac(bytes);
        prop_assert_eq!(Mac::parse(&mac.to_string()).unwrap(), mac);
        prop_assert_eq!(Mac::parse(&mac.to_string().to_uppercase().replace(':', "-")).unwrap(), mac);
        let p = magic_packet(mac);
        prop_assert!(p[..6].iter().all(|b| *b == 0xFF));
        prop_assert!(p[6..].chunks(6).all(|c| c == bytes));
    }

    #[test]
    fn the_broadcast_is_in_the_subnet_with_every_host_bit_set(addr in any::<u32>(), prefix in 0u8..=32) {
        let c = Cidr { addr: addr.into(), prefix };
        let b = Cidr { addr: c.broadcast(), prefix };
        prop_assert!(c.same_subnet(&b));
        let host_bits = if prefix == 0 { u32::MAX } else { u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0) };
        prop_assert_eq!(u32::from(c.broadcast()) & host_bits, host_bits);
        prop_assert_eq!(Cidr::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn a_relay_is_never_the_target_nor_offline(online in proptest::collection::vec(any::<bool>(), 1..6), target in 0usize..6) {
        let ifs = [iface("aa:bb:cc:dd:ee:01", &["10.9.0.1/16"])];
        let ids: Vec<String> = (0..online.len()).map(|i| format!("mi-{i}")).collect();
        let candidates: Vec<RelayCandidate> = ids.iter().zip(&online).map(|(id, on)| RelayCandidate { node_id: id, online: *on, interfaces: &ifs }).collect();
        let target = format!("mi-{target}");
        match choose_relays(&target, &ifs, &candidates) {
            Ok(relays) => {
                for r in relays {
                    prop_assert_ne!(&r.node_id, &target);
                    let i: usize = r.node_id[3..].parse().unwrap();
                    prop_assert!(online[i]);
                }
            }
            Err(_) => prop_assert!(candidates.iter().all(|c| !c.online || c.node_id == target)),
        }
    }
}
