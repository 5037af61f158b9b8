//! alpha: imports a type from beta (planted edge alpha -> beta).

use crate::beta::X;

pub fn f() -> X {
    X
}
