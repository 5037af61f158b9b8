//! three: depends on nothing; `pub(in crate::three)` is a self-reference.

pub struct Green;
pub struct Red;

pub(in crate::three) fn private() {}
