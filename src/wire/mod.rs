//! Bytes on the wire, and nothing else. This module owns the WebSocket frame
//! encoder (which writes *any* frame a case describes, including invalid ones:
//! reserved opcodes, RSV bits, lying or non-minimal length fields, a mask bit
//! without masking), the streaming frame decoder (which accepts whatever a peer
//! sends and records it faithfully, enforcing only resource caps), message
//! assembly as an observation, incremental UTF-8 checking, bounded byte logs,
//! the HTTP/1.1 upgrade handshake and the one bounded reader of HTTP heads,
//! HTTP/2 field blocks as text lines for transcripts,
//! and the seeded PRNG that makes every run send identical bytes. It knows
//! nothing of cases, verdicts or sockets' scheduling.

pub mod bytelog;
pub mod decode;
pub mod field_lines;
pub mod frame;
pub mod handshake;
pub mod head;
pub mod message;
pub mod opcode;
pub mod outgoing;
pub mod prng;
pub mod utf8;

pub use bytelog::ByteLog;
pub use decode::{DecodeEvent, Decoder, FrameHead, LengthForm};
pub use frame::{encode_frame, FrameEncoding};
pub use opcode::Opcode;
pub use prng::Prng;
