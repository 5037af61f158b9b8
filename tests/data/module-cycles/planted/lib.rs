//! Planted tree for tests/module_cycles.rs: alpha and beta import each other;
//! gamma depends on nothing and nothing really depends on gamma.

mod alpha;
pub mod beta;
pub(crate) mod gamma;
