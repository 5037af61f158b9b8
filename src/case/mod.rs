//! Cases: the YAML model, loading with located diagnostics, matrix expansion,
//! selection by id, and the corpus embedded in the binary. Knows nothing of
//! sockets; the runner reads a [`Case`] and the judge reads its expectations.

pub mod cost;
pub mod de;
pub mod filter;
pub mod limits;
pub mod load;
pub mod matrix;
pub mod model;
pub mod partition;
pub mod payload_kinds;
pub mod wstest_pattern;
pub mod yaml;

pub use filter::Selection;
pub use load::{LoadError, Source};
pub use model::*;
pub use yaml::Loc;

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// The version of the embedded corpus (cases/VERSION): bumped whenever a
/// case's bytes or judgement change.
pub const CORPUS_VERSION: &str = env!("WSSPEC_CORPUS_VERSION");

/// A loaded case with where it came from.
#[derive(Debug, Clone)]
pub struct Case {
    pub spec: CaseSpec,
    pub group: String,
    pub group_title: String,
    /// The RFC section the case checks.
    pub rfc: String,
    pub file: String,
    pub loc: Loc,
}

/// The embedded corpus as sources.
pub fn embedded_sources() -> Vec<Source> {
    CORPUS
        .iter()
        .map(|(name, text)| Source {
            name: name.to_string(),
            text: text.to_string(),
        })
        .collect()
}
