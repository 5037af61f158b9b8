//! two: its only edge (to three) comes from a submodule file.

mod sub;

pub struct Pair;

pub fn call_inline() {
    crate::inline::h();
}
