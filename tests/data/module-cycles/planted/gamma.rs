//! gamma: depends on no other module.

pub fn x() -> u8 {
    0
}
