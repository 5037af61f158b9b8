//! HTTP/2 written and read by wsspec itself, below the `h2` crate: the
//! frames ([`frame`]), HPACK ([`hpack`]), header blocks joined from frames
//! and decoded ([`blocks`]) and a small client connection over any byte
//! stream ([`conn`]). `h2` refuses to send a malformed request and
//! quietly rejects a malformed response; RFC 8441 conformance cases need to
//! send both and to see exactly what came back, as the HTTP/1.1 cases write
//! and read raw bytes; [`tunnel`] opens a case's WebSocket that way and
//! carries it on. Nothing here checks what it is asked to write.

pub mod blocks;
pub mod conn;
pub mod frame;
pub mod hpack;
pub mod tunnel;
