//! Acyclic tree for tests/module_cycles.rs: one -> two, one -> three,
//! two -> three, and nothing back.

pub mod one;
pub mod two;
pub(crate) mod three;

/// Inline module: it has no files, so it is not one of the analysed modules.
mod inline {
    pub fn h() {}
}
