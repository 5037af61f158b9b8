//! The bounds on what one case file may ask for, so that a small hostile file
//! (an alias bomb, a huge matrix, a payload of terabytes, nested repeats) is
//! refused while loading, at the node that crossed the bound, instead of
//! exhausting memory at `check` or `run`. Each limit has a name that errors
//! and cases/README.md ("Limits") use; every value sits far above what the
//! embedded corpus needs (see the tests at the bottom).

/// One named limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The name errors and cases/README.md use.
    pub name: &'static str,
    pub value: u64,
    /// What is counted, after the number: "YAML nodes per file".
    pub per: &'static str,
}

impl Limit {
    /// True when `n` passes the limit.
    pub fn exceeded_by(&self, n: u64) -> bool {
        n > self.value
    }

    /// The error message for `what` (a phrase such as "this alias would make
    /// the file 1000005 YAML nodes"), naming the limit.
    pub fn refuse(&self, what: impl std::fmt::Display) -> String {
        format!(
            "{what}, over the limit `{}` of {} {} (see Limits in cases/README.md)",
            self.name,
            shown(self.value),
            self.per
        )
    }
}

/// A count as written in errors: bytes that are a whole number of MiB or GiB
/// also get that unit in parentheses.
fn shown(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if n >= GIB && n % GIB == 0 {
        format!("{n} ({} GiB)", n / GIB)
    } else if n >= MIB && n % MIB == 0 {
        format!("{n} ({} MiB)", n / MIB)
    } else {
        n.to_string()
    }
}

/// YAML nodes in one file, counting each alias as the nodes it copies.
pub const YAML_NODES: Limit = Limit {
    name: "yaml_nodes",
    value: 250_000,
    per: "YAML nodes per file",
};

/// YAML nodes in the cases a file's templates expand to (matrices
/// multiplied out).
pub const EXPANDED_NODES: Limit = Limit {
    name: "expanded_nodes",
    value: 1_000_000,
    per: "YAML nodes in a file's expanded cases",
};

/// Bytes of scalar text in one file, counting each alias as the text it
/// copies; the expanded cases are held to the same count, separately.
pub const YAML_TEXT: Limit = Limit {
    name: "yaml_text",
    value: 64 << 20,
    per: "bytes of YAML text per file",
};

/// Cases one `matrix` may produce.
pub const MATRIX_CASES: Limit = Limit {
    name: "matrix_cases",
    value: 10_000,
    per: "cases per matrix",
};

/// Cases one file may hold, after matrix expansion.
pub const FILE_CASES: Limit = Limit {
    name: "file_cases",
    value: 20_000,
    per: "cases per file",
};

/// Bytes of one payload, whatever its form (`repeat`, `sample`, `concat`, a
/// close reason...).
pub const PAYLOAD_BYTES: Limit = Limit {
    name: "payload_bytes",
    value: 64 << 20,
    per: "bytes per payload",
};

/// Frames one step builds at once (fragments times the frame's `repeat`,
/// summed over `send_frames`), and sync flushes in one compressed message.
pub const STEP_FRAMES: Limit = Limit {
    name: "step_frames",
    value: 1_000_000,
    per: "frames (or flushes) per step",
};

/// Payload bytes one case may send or expect in total, every `repeat`
/// multiplied out.
pub const CASE_BYTES: Limit = Limit {
    name: "case_bytes",
    value: 1 << 30,
    per: "payload bytes per case",
};

/// Steps, frames and expected events of one case in total, every `repeat`
/// multiplied out.
pub const CASE_EVENTS: Limit = Limit {
    name: "case_events",
    value: 4_000_000,
    per: "steps, frames and expected events per case",
};

/// Every limit, in the order cases/README.md lists them.
pub const ALL: [Limit; 9] = [
    YAML_NODES,
    EXPANDED_NODES,
    YAML_TEXT,
    MATRIX_CASES,
    FILE_CASES,
    PAYLOAD_BYTES,
    STEP_FRAMES,
    CASE_BYTES,
    CASE_EVENTS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit_and_its_value() {
        assert_eq!(
            PAYLOAD_BYTES.refuse("this payload is 70000000 bytes"),
            "this payload is 70000000 bytes, over the limit `payload_bytes` of 67108864 (64 MiB) bytes per payload (see Limits in cases/README.md)"
        );
        assert_eq!(
            CASE_BYTES.refuse("x"),
            "x, over the limit `case_bytes` of 1073741824 (1 GiB) payload bytes per case (see Limits in cases/README.md)"
        );
        assert!(MATRIX_CASES
            .refuse("x")
            .contains("`matrix_cases` of 10000 cases"));
        assert!(!YAML_NODES.exceeded_by(250_000));
        assert!(YAML_NODES.exceeded_by(250_001));
        assert_eq!(shown(3 << 20), "3145728 (3 MiB)");
        assert_eq!(shown((1 << 20) + 1), "1048577");
        assert_eq!(shown((1 << 30) + (1 << 20)), "1074790400 (1025 MiB)");
        assert_eq!(shown(0), "0");
        assert_eq!(shown(5), "5");
    }

    #[test]
    fn names_are_distinct_and_documented() {
        let readme = include_str!("../../cases/README.md");
        for (i, l) in ALL.iter().enumerate() {
            assert!(ALL[..i].iter().all(|o| o.name != l.name), "{}", l.name);
            assert!(
                readme.contains(&format!("`{}`", l.name)),
                "cases/README.md does not list `{}`",
                l.name
            );
        }
    }
}
