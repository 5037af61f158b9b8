//! wsspec: a WebSocket protocol conformance harness.
//!
//! The pipeline runs one way: [`case`] (YAML → cases) → [`run`] (cases over
//! [`wire`] → [`transcript`]) → [`judge`] (transcript → verdict) → [`report`].
//! [`suite`] is the orchestrator that strings the stages together; no stage
//! calls the next. [`reference`] is the embedded known-good echo server.
//! [`Runner`] is the way in for Rust tests that check a server with wsspec.

pub mod allow;
pub mod api;
pub mod case;
pub mod cli;
pub mod conclude;
pub mod deflate;
pub mod http2;
pub mod judge;
pub mod reference;
pub mod report;
pub mod results;
pub mod run;
pub mod serve;
pub mod snapshot;
pub mod suite;
pub mod tls;
pub mod transcript;
pub mod wire;

#[cfg(test)]
mod sentence_tests;

pub use api::{RunError, Runner};
