//! one: imports from two and three through one grouped, multi-line use tree,
//! and refers to itself (a self-reference is not an edge).

use crate::{
    three::{Green, Red},
    two::Pair,
};

pub fn helper() -> (Green, Red) {
    (Green, Red)
}

pub fn both() -> Pair {
    let _ = crate::one::helper();
    Pair
}
