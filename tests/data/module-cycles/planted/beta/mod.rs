//! beta: calls back into alpha (planted edge beta -> alpha) and carries
//! decoys that mention gamma without depending on it: [`crate::gamma`].

// use crate::gamma::x;
/* block comment: crate::gamma::x /* nested: crate::gamma::x */ still a
   comment: crate::gamma::x */

/// Doc comment decoy: `crate::gamma::x()`.
pub struct X;

pub fn labels<'a>(name: &'a str) -> Vec<&'a str> {
    let quote = '"';
    let apostrophe = '\'';
    let byte = b'"';
    let bytes = b"crate::gamma::x";
    let raw_bytes = br#"crate::gamma::x"#;
    let _ = (quote, apostrophe, byte, bytes, raw_bytes);
    vec![
        name,
        "crate::gamma::x",
        r"crate::gamma::x",
        r#"a "quoted" crate::gamma::x"#,
        r##"a "# crate::gamma::x"##,
        "escaped \" crate::gamma::x",
        "multi-line
         crate::gamma::x",
    ]
}

pub fn g() -> X {
    'outer: loop {
        break 'outer;
    }
    crate::alpha::f()
}
