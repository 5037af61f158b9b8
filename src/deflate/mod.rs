//! permessage-deflate (RFC 7692) below the session: our own inflater that
//! reports what a judge needs (back-reference distances, references across
//! messages, bounded output), a compressor for windows zlib cannot make, and
//! the negotiation rules. Knows nothing of sockets or cases.

pub mod compress;
pub mod inflate;
pub mod short_window;

pub mod negotiate;
