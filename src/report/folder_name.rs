//! The folder an agent's reports and snapshots go in under `wsspec serve`.
//! Agent names come from the peer (`?agent=`), so the folder is a pure
//! function of the exact name that is safe on every common file system: an
//! ordinary name (`[a-z0-9._-]`, at most [`MAX_FOLDER_BYTES`], not hidden,
//! not a device name, not a name or extension serve writes itself) is its own
//! folder; any other name becomes its safe prefix (other characters as `_`,
//! cut to fit) plus `-` and the first 12 hex digits of the SHA-1 of the exact
//! name. A name kept as it is never ends like that, so two different names
//! never share a folder (on case-insensitive file systems too: kept names
//! have no capitals), and the same name always gets the same folder, run
//! after run, which keeps per-agent snapshot stores stable.

use sha1::{Digest, Sha1};

/// The longest folder name, in bytes.
pub const MAX_FOLDER_BYTES: usize = 64;

/// Hex digits of the name's hash in a changed folder name.
const HASH_HEX: usize = 12;

/// Names serve (or its snapshot store) writes itself, never an agent's folder.
const RESERVED: &[&str] = &[
    "index.html",
    "index.json",
    "results.json",
    "junit.xml",
    "clients",
    "client",
    "snapshots",
];

/// Extensions of the files serve writes; a folder never ends with one.
const REPORT_EXTENSIONS: &[&str] = &[".json", ".html", ".htm", ".xml", ".snap", ".new"];

/// The folder of `agent`'s reports: `agent` itself when it is an ordinary
/// name, otherwise its safe prefix, `-` and a short hash of the exact name.
pub fn agent_folder(agent: &str) -> String {
    if kept_as_is(agent) {
        return agent.to_string();
    }
    let room = MAX_FOLDER_BYTES - HASH_HEX - 1;
    let mut prefix = String::with_capacity(room);
    for c in agent.chars() {
        if prefix.len() >= room {
            break;
        }
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            prefix.push(c);
        } else if !prefix.ends_with('_') {
            prefix.push('_');
        }
    }
    // Only ASCII was pushed, so every byte index is a char boundary.
    let prefix = prefix.trim_start_matches(['.', '-']);
    let prefix = if prefix.is_empty() { "agent" } else { prefix };
    format!("{prefix}-{}", short_hash(agent))
}

/// Whether `name` is safe, unreserved and unambiguous as a folder name.
fn kept_as_is(name: &str) -> bool {
    let bytes = name.as_bytes();
    let lower = name.to_ascii_lowercase();
    bytes.len() <= MAX_FOLDER_BYTES
        && bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'))
        && !name.ends_with('.')
        && !RESERVED.contains(&lower.as_str())
        && !REPORT_EXTENSIONS.iter().any(|e| lower.ends_with(e))
        && !is_device(&lower)
        && !looks_hashed(name)
}

/// `con`, `nul.txt`, `com1`, `lpt9.log`...: Windows reserves these.
fn is_device(lower: &str) -> bool {
    let stem = lower.split('.').next().unwrap_or(lower);
    let numbered = |port: &str| {
        stem.strip_prefix(port)
            .is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit())
    };
    matches!(stem, "con" | "prn" | "aux" | "nul") || numbered("com") || numbered("lpt")
}

/// Whether `name` ends the way a changed folder name does (`-` and 12 hex).
fn looks_hashed(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > HASH_HEX
        && bytes[bytes.len() - HASH_HEX - 1] == b'-'
        && bytes[bytes.len() - HASH_HEX..]
            .iter()
            .all(|b| b.is_ascii_hexdigit())
}

/// The first [`HASH_HEX`] hex digits of the SHA-1 of `name`.
fn short_hash(name: &str) -> String {
    let digest = Sha1::digest(name.as_bytes());
    digest
        .iter()
        .take(HASH_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn ordinary_names_are_their_own_folder() {
        for name in [
            "probe",
            "fc-accept",
            "ws_8.17.1",
            "autobahnpython-0.6.0",
            "_x",
        ] {
            assert_eq!(agent_folder(name), name);
        }
    }

    #[test]
    fn other_names_get_a_safe_prefix_and_a_hash() {
        let f = agent_folder("a b");
        assert!(f.starts_with("a_b-") && f.len() == 4 + HASH_HEX, "{f}");
        assert_ne!(f, agent_folder("a_b"));
        assert_eq!(agent_folder("a_b"), "a_b");
        assert_eq!(f, agent_folder("a b"), "stable");
        assert!(agent_folder("../x y").starts_with("_x_y-"));
        assert!(agent_folder("Foo").starts_with("Foo-"));
        assert!(agent_folder("").starts_with("agent-"));
        assert!(agent_folder("日本").starts_with("_-"));
        assert!(agent_folder("..").starts_with("agent-"));
    }

    #[test]
    fn reserved_and_special_names_are_changed() {
        let special = [
            "",
            ".",
            "..",
            "...",
            ".hidden",
            "-rf",
            "x.",
            "index.json",
            "index.html",
            "results.json",
            "junit.xml",
            "clients",
            "client",
            "snapshots",
            "INDEX.JSON",
            "a.json",
            "b.html",
            "c.xml",
            "d.snap",
            "con",
            "nul.txt",
            "com1",
            "lpt9.log",
            "a/b",
            "a\\b",
            "a:b",
            "x\0y",
            "name-0123456789ab",
        ];
        for name in special {
            let f = agent_folder(name);
            assert_ne!(f, name, "{name:?} must not be its own folder");
            assert!(looks_hashed(&f), "{name:?} -> {f}");
            assert!(safe(&f), "{name:?} -> {f}");
        }
        // Words that only start like a device are ordinary.
        assert_eq!(agent_folder("console"), "console");
        assert_eq!(agent_folder("com"), "com");
        assert_eq!(agent_folder("comx"), "comx");
    }

    #[test]
    fn long_names_are_cut_to_the_limit() {
        for name in [
            "x".repeat(300),
            "é".repeat(300),
            "a b ".repeat(100),
            "x".repeat(65),
        ] {
            let f = agent_folder(&name);
            assert!(f.len() <= MAX_FOLDER_BYTES, "{} bytes", f.len());
            assert!(safe(&f), "{f}");
        }
        let at_limit = "y".repeat(MAX_FOLDER_BYTES);
        assert_eq!(agent_folder(&at_limit), at_limit);
        // Two long names that differ only at the end still differ.
        let a = format!("{}a", "z".repeat(200));
        let b = format!("{}b", "z".repeat(200));
        assert_ne!(agent_folder(&a), agent_folder(&b));
    }

    /// Only safe characters, not hidden, within the limit, never reserved.
    fn safe(f: &str) -> bool {
        f.len() <= MAX_FOLDER_BYTES
            && !f.starts_with('.')
            && !f.starts_with('-')
            && f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !RESERVED.contains(&f.to_ascii_lowercase().as_str())
    }

    #[test]
    fn many_random_names_never_share_a_folder() {
        // A small deterministic generator over an alphabet full of
        // characters that get replaced, so prefixes collide a lot.
        let alphabet: Vec<char> = "ab_ -./\\:Aé\u{0}xX0".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut by_folder: BTreeMap<String, String> = BTreeMap::new();
        for _ in 0..50_000 {
            let len = (next() % 90) as usize;
            let name: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let f = agent_folder(&name);
            assert!(safe(&f), "{name:?} -> {f}");
            // Case-insensitively too, as on macOS and Windows.
            if let Some(other) = by_folder.insert(f.to_ascii_lowercase(), name.clone()) {
                assert_eq!(other, name, "two names share the folder {f}");
            }
        }
    }
}
