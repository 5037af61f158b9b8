//! HPACK's two tables (RFC 7541 2.3, Appendix A): the static table of 61
//! entries and the dynamic table, a bounded FIFO whose size counts each
//! entry as name + value + 32 bytes (4.1) and which evicts its oldest
//! entries to make room (4.4), or empties itself for an entry larger than
//! its maximum.

use std::collections::VecDeque;

use super::Field;

/// The static table (RFC 7541 Appendix A); index 1 is the first entry.
pub const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The per-entry overhead of RFC 7541 4.1.
pub const ENTRY_OVERHEAD: usize = 32;

/// An entry's size as RFC 7541 4.1 counts it.
pub fn entry_size(field: &Field) -> usize {
    field.name.len() + field.value.len() + ENTRY_OVERHEAD
}

/// The dynamic table (RFC 7541 2.3.2); the newest entry is index 62.
#[derive(Debug, Clone)]
pub struct DynamicTable {
    entries: VecDeque<Field>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    pub fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// The current size (RFC 7541 4.1).
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn max_size(&self) -> usize {
        self.max_size
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at dynamic index `i` (0 = newest).
    pub fn get(&self, i: usize) -> Option<&Field> {
        self.entries.get(i)
    }

    /// The entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = &Field> {
        self.entries.iter()
    }

    /// A new maximum size (RFC 7541 4.3), evicting to fit.
    pub fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Adds an entry (RFC 7541 4.4): evicts until it fits; one larger than
    /// the whole table empties the table and is not added.
    pub fn insert(&mut self, field: Field) {
        let size = entry_size(&field);
        if size > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        self.entries.push_front(field);
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            match self.entries.pop_back() {
                Some(old) => self.size -= entry_size(&old),
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_table_indices_used_by_appendix_c() {
        let at = |i: usize| STATIC[i - 1];
        assert_eq!(at(1), (":authority", ""));
        assert_eq!(at(2), (":method", "GET"));
        assert_eq!(at(4), (":path", "/"));
        assert_eq!(at(7), (":scheme", "https"));
        assert_eq!(at(8), (":status", "200"));
        assert_eq!(at(16), ("accept-encoding", "gzip, deflate"));
        assert_eq!(at(24), ("cache-control", ""));
        assert_eq!(at(26), ("content-encoding", ""));
        assert_eq!(at(33), ("date", ""));
        assert_eq!(at(38), ("host", ""));
        assert_eq!(at(46), ("location", ""));
        assert_eq!(at(55), ("set-cookie", ""));
        assert_eq!(at(57), ("transfer-encoding", ""));
        assert_eq!(at(61), ("www-authenticate", ""));
    }

    #[test]
    fn eviction_and_oversized_entries() {
        let mut table = DynamicTable::new(100);
        table.insert(Field::new("a", "1")); // 34
        table.insert(Field::new("b", "2")); // 34
        assert_eq!(table.size(), 68);
        table.insert(Field::new("c", "3")); // evicts a
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(0), Some(&Field::new("c", "3")));
        assert_eq!(table.get(1), Some(&Field::new("b", "2")));
        table.set_max_size(40);
        assert_eq!(table.len(), 1);
        assert_eq!(table.size(), 34);
        table.insert(Field::new("long-name", "and a value"));
        assert!(
            table.is_empty(),
            "an entry larger than the table empties it"
        );
        assert_eq!(table.size(), 0);
    }
}
