//! Property: whatever the network does to frames and acks (loss, duplication, reordering,
//! reconnects, pauses), the receiver delivers the sender's stream exactly once, in order.

use proptest::prelude::*;
use proptest::sample::Index;
use uuid::Uuid;

use super::*;
use crate::session::frame::ClientMessage;
use crate::session::message_type::MessageType;
use crate::session::payloads::AcknowledgeContent;

#[derive(Debug, Clone)]
enum NetworkStep {
    Send,
    DeliverData(Index),
    DropData(Index),
    DuplicateData(Index),
    DeliverAck(Index),
    DropAck(Index),
    Tick(u64),
    Reconnect,
    Pause(bool),
}

fn arb_step() -> impl Strategy<Value = NetworkStep> {
    prop_oneof![
        3 => Just(NetworkStep::Send),
        4 => any::<Index>().prop_map(NetworkStep::DeliverData),
        1 => any::<Index>().prop_map(NetworkStep::DropData),
        1 => any::<Index>().prop_map(NetworkStep::DuplicateData),
        3 => any::<Index>().prop_map(NetworkStep::DeliverAck),
        1 => any::<Index>().prop_map(NetworkStep::DropAck),
        2 => (0u64..1500).prop_map(NetworkStep::Tick),
        1 => Just(NetworkStep::Reconnect),
        1 => any::<bool>().prop_map(NetworkStep::Pause),
    ]
}

struct Harness {
    sender: OutgoingStream,
    receiver: IncomingStream,
    to_receiver: Vec<ClientMessage>,
    to_sender: Vec<AcknowledgeContent>,
    unsent: std::vec::IntoIter<Vec<u8>>,
    delivered: Vec<Vec<u8>>,
    now_ms: u64,
    next_id: u128,
}

impl Harness {
    fn send_next(&mut self) {
        if self.sender.unacknowledged() >= 64 {
            return;
        }
        if let Some(payload) = self.unsent.next() {
            self.next_id += 1;
            let id = Uuid::from_u128(self.next_id);
            if let Some(frame) = self.sender.send(1, payload, id, self.now_ms).unwrap() {
                self.to_receiver.push(frame);
            }
        }
    }

    fn deliver_data(&mut self, at: usize) {
        let frame = self.to_receiver.remove(at);
        let received = self.receiver.receive(frame);
        self.to_sender.extend(received.acknowledge);
        self.delivered
            .extend(received.deliver.into_iter().map(|f| f.payload));
    }

    fn deliver_ack(&mut self, at: usize) {
        let ack = self.to_sender.remove(at);
        self.sender.on_acknowledge(&ack, self.now_ms);
        self.sender.set_paused(false);
    }

    fn tick(&mut self, ms: u64) {
        self.now_ms += ms;
        let due = self.sender.due_retransmissions(self.now_ms, 1000).unwrap();
        self.to_receiver.extend(due);
    }

    fn apply(&mut self, step: &NetworkStep) {
        match step {
            NetworkStep::Send => self.send_next(),
            NetworkStep::DeliverData(i) if !self.to_receiver.is_empty() => {
                self.deliver_data(i.index(self.to_receiver.len()));
            }
            NetworkStep::DropData(i) if !self.to_receiver.is_empty() => {
                self.to_receiver.remove(i.index(self.to_receiver.len()));
            }
            NetworkStep::DuplicateData(i) if !self.to_receiver.is_empty() => {
                let copy = self.to_receiver[i.index(self.to_receiver.len())].clone();
                self.to_receiver.push(copy);
            }
            NetworkStep::DeliverAck(i) if !self.to_sender.is_empty() => {
                self.deliver_ack(i.index(self.to_sender.len()));
            }
            NetworkStep::DropAck(i) if !self.to_sender.is_empty() => {
                self.to_sender.remove(i.index(self.to_sender.len()));
            }
            NetworkStep::Tick(ms) => self.tick(*ms),
            NetworkStep::Reconnect => {
                self.to_receiver.clear();
                self.to_sender.clear();
                self.sender.on_reconnect();
            }
            NetworkStep::Pause(paused) => self.sender.set_paused(*paused),
            _ => {}
        }
    }

    /// A loss-free network from here on: everything must get through.
    fn settle(&mut self) {
        self.sender.set_paused(false);
        for _ in 0..10_000 {
            for _ in 0..64 {
                self.send_next();
            }
            while !self.to_receiver.is_empty() {
                self.deliver_data(0);
            }
            while !self.to_sender.is_empty() {
                self.deliver_ack(0);
            }
            if self.sender.unacknowledged() == 0 && self.unsent.len() == 0 {
                return;
            }
            self.tick(1000);
        }
    }
}

proptest! {
    #[test]
    fn the_stream_arrives_exactly_once_in_order(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..40),
        steps in proptest::collection::vec(arb_step(), 0..300),
        window in 1i64..12,
    ) {
        let mut harness = Harness {
            sender: OutgoingStream::new(MessageType::OutputStreamData, OutgoingConfig::default()),
            receiver: IncomingStream::new(IncomingConfig { window, ack_stale_duplicates: true }),
            to_receiver: Vec::new(),
            to_sender: Vec::new(),
            unsent: payloads.clone().into_iter(),
            delivered: Vec::new(),
            now_ms: 1_000,
            next_id: 0,
        };
        for step in &steps {
            harness.apply(step);
            prop_assert!(harness.receiver.buffered() < window as usize);
        }
        harness.settle();
        prop_assert_eq!(harness.sender.unacknowledged(), 0);
        prop_assert_eq!(&harness.delivered, &payloads);
        prop_assert_eq!(harness.receiver.expected_sequence_number(), payloads.len() as i64);
    }
}
