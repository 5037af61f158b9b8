//! The compression ratio of a case, each way: how many permessage-deflate
//! messages wsspec sent and received, how many bytes they took on the wire
//! and how many they inflated to. Summed from the transcript's message
//! records while the transcript is whole (the results keep a bounded copy),
//! and shown by every report.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EventKind, Transcript};
use crate::wire::message::MessageRecord;

/// The compressed messages of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressedFlow {
    pub messages: u64,
    /// Compressed payload bytes on the wire (all frames).
    pub wire_bytes: u64,
    /// What those messages inflated to (up to the size limit).
    pub inflated_bytes: u64,
}

impl CompressedFlow {
    /// Wire bytes per inflated byte (0.05 is 20:1); none for nothing inflated.
    pub fn ratio(&self) -> Option<f64> {
        (self.inflated_bytes > 0).then(|| self.wire_bytes as f64 / self.inflated_bytes as f64)
    }

    fn add(&mut self, m: &MessageRecord) {
        if let Some(c) = &m.compressed {
            self.messages += 1;
            self.wire_bytes += c.wire_len;
            self.inflated_bytes += m.payload.len;
        }
    }
}

/// Both directions of a case that compressed anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressionTotals {
    pub sent: CompressedFlow,
    pub received: CompressedFlow,
}

impl CompressedFlow {
    fn add_flow(&mut self, other: &CompressedFlow) {
        self.messages += other.messages;
        self.wire_bytes += other.wire_bytes;
        self.inflated_bytes += other.inflated_bytes;
    }
}

impl CompressionTotals {
    /// Adds another case's totals (for a whole run).
    pub fn add(&mut self, other: &CompressionTotals) {
        self.sent.add_flow(&other.sent);
        self.received.add_flow(&other.received);
    }
}

impl Transcript {
    /// The compressed messages each way; none when neither side sent one.
    pub fn compression_totals(&self) -> Option<CompressionTotals> {
        let mut t = CompressionTotals::default();
        for kind in self.kinds() {
            match kind {
                EventKind::MessageSent { message } => t.sent.add(message),
                EventKind::MessageReceived { message } => t.received.add(message),
                _ => {}
            }
        }
        (t.sent.messages + t.received.messages > 0).then_some(t)
    }
}

impl fmt::Display for CompressedFlow {
    /// `1000 messages, 8.0 MiB → 401.2 KiB (4.9%)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.messages == 1 { "" } else { "s" };
        write!(
            f,
            "{} message{plural}, {} → {}",
            self.messages,
            size(self.inflated_bytes),
            size(self.wire_bytes)
        )?;
        match self.ratio() {
            Some(r) => write!(f, " ({:.1}%)", r * 100.0),
            None => Ok(()),
        }
    }
}

impl fmt::Display for CompressionTotals {
    /// `sent …; received …`, leaving out a direction with no message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.sent.messages > 0 {
            parts.push(format!("sent {}", self.sent));
        }
        if self.received.messages > 0 {
            parts.push(format!("received {}", self.received));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Bytes in B, KiB, MiB or GiB with one decimal.
fn size(n: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Event;
    use crate::wire::bytelog::ByteLog;
    use crate::wire::message::{CompressionRecord, InflateResult};
    use crate::wire::Opcode;

    fn message(len: usize, wire: Option<u64>) -> MessageRecord {
        MessageRecord {
            opcode: Opcode::BINARY,
            frames: 1,
            payload: ByteLog::of(&vec![7; len]),
            utf8_valid: None,
            compressed: wire.map(|wire_len| CompressionRecord {
                wire_len,
                max_distance: 1,
                refers_back: false,
                result: InflateResult::Complete,
                by_wsspec: false,
            }),
        }
    }

    fn transcript(kinds: Vec<EventKind>) -> Transcript {
        Transcript {
            case_id: "c".into(),
            events: kinds
                .into_iter()
                .map(|kind| Event { at_us: 0, kind })
                .collect(),
            duration_us: 0,
            detailed: true,
            omitted: None,
        }
    }

    #[test]
    fn each_way_sums_only_compressed_messages() {
        let t = transcript(vec![
            EventKind::MessageSent {
                message: message(2048, Some(100)),
            },
            EventKind::MessageSent {
                message: message(2048, Some(60)),
            },
            EventKind::MessageSent {
                message: message(500, None),
            },
            EventKind::MessageReceived {
                message: message(3 << 20, Some(3 << 19)),
            },
            EventKind::MessageReceived {
                message: message(10, None),
            },
        ]);
        let c = t.compression_totals().expect("compressed messages");
        assert_eq!(
            c.sent,
            CompressedFlow {
                messages: 2,
                wire_bytes: 160,
                inflated_bytes: 4096
            }
        );
        assert_eq!(c.received.messages, 1);
        assert_eq!(c.received.ratio(), Some(0.5));
        assert_eq!(
            c.to_string(),
            "sent 2 messages, 4.0 KiB → 160 B (3.9%); received 1 message, 3.0 MiB → 1.5 MiB (50.0%)"
        );
        let none = transcript(vec![EventKind::MessageSent {
            message: message(5, None),
        }]);
        assert_eq!(none.compression_totals(), None);
        let only_received = transcript(vec![EventKind::MessageReceived {
            message: message(0, Some(1)),
        }]);
        let c = only_received.compression_totals().expect("one message");
        assert_eq!(c.received.ratio(), None);
        assert_eq!(c.to_string(), "received 1 message, 0 B → 1 B");
        assert_eq!(size(5 << 30), "5.0 GiB");
        assert_eq!(size(1023), "1023 B");
    }
}
