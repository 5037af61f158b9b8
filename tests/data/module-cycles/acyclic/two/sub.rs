//! two::sub: names a type of three inline, in a signature.

pub fn paint(colour: crate::three::Green) -> crate::three::Green {
    colour
}
