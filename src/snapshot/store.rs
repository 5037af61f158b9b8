//! The snapshot store: one `.snap` file per case per target under a directory,
//! `DIR/<role>/<case-id>.snap` (role `server`, `client`, or `<agent>/client`
//! for `wsspec serve` with several agents), with pending changes beside them as
//! `<case-id>.snap.new`, as insta lays them out. Listing, accepting, rejecting
//! and pruning work on the files alone, so none of it needs cargo.

use std::fs;
use std::path::{Path, PathBuf};

use crate::case::filter::{compare_ids, glob_match};
use crate::snapshot::diff::{compare, SnapshotStatus};
use crate::snapshot::snap::{parse_snap, Snap};
use crate::snapshot::Error;

/// Extension of accepted snapshots.
pub const SNAP_EXT: &str = ".snap";
/// Extension of pending snapshots.
pub const NEW_EXT: &str = ".snap.new";

/// A snapshot directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

/// A `.snap.new` file waiting for review.
#[derive(Debug, Clone)]
pub struct PendingChange {
    /// The role directory relative to the store, `/`-separated (`server`, `ws/client`).
    pub role: String,
    pub case_id: String,
    /// The accepted snapshot's path (it may not exist).
    pub stored_path: PathBuf,
    /// The pending file's path.
    pub new_path: PathBuf,
    /// The accepted snapshot, if there is one.
    pub stored: Option<Snap>,
    /// The pending snapshot.
    pub new: Snap,
    /// NEW, or DRIFT with the diff (MATCH when a pending file repeats the stored one).
    pub status: SnapshotStatus,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/<role>/<case-id>.snap`.
    pub fn path(&self, role: &str, case_id: &str) -> PathBuf {
        self.role_dir(role).join(format!("{case_id}{SNAP_EXT}"))
    }

    /// `DIR/<role>/<case-id>.snap.new`.
    pub fn new_path(&self, role: &str, case_id: &str) -> PathBuf {
        self.role_dir(role).join(format!("{case_id}{NEW_EXT}"))
    }

    fn role_dir(&self, role: &str) -> PathBuf {
        role.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.dir.clone(), |d, p| d.join(p))
    }

    /// The accepted snapshot of a case, or `None` when there is none.
    pub fn load(&self, role: &str, case_id: &str) -> Result<Option<Snap>, Error> {
        check_names(role, case_id)?;
        read_snap(&self.path(role, case_id))
    }

    /// The pending snapshot of a case, or `None` when there is none.
    pub fn load_new(&self, role: &str, case_id: &str) -> Result<Option<Snap>, Error> {
        check_names(role, case_id)?;
        read_snap(&self.new_path(role, case_id))
    }

    /// Writes `contents` (a whole file, see [`render_snap`](super::render_snap))
    /// as the case's `.snap.new`; returns its path.
    pub fn write_new(&self, role: &str, case_id: &str, contents: &str) -> Result<PathBuf, Error> {
        check_names(role, case_id)?;
        let path = self.new_path(role, case_id);
        write_atomic(&path, contents)?;
        Ok(path)
    }

    /// Writes `contents` as the case's `.snap` and removes any `.snap.new`
    /// beside it; returns the path.
    pub fn write_accepted(
        &self,
        role: &str,
        case_id: &str,
        contents: &str,
    ) -> Result<PathBuf, Error> {
        check_names(role, case_id)?;
        let path = self.path(role, case_id);
        write_atomic(&path, contents)?;
        self.discard_new(role, case_id)?;
        Ok(path)
    }

    /// Removes a case's `.snap.new` if there is one (a case that matches again
    /// leaves nothing to review); returns whether a file was removed.
    pub fn discard_new(&self, role: &str, case_id: &str) -> Result<bool, Error> {
        check_names(role, case_id)?;
        remove_if_exists(&self.new_path(role, case_id))
    }

    /// Every pending change in the store, by role then case id (numerically).
    pub fn pending(&self) -> Result<Vec<PendingChange>, Error> {
        let mut out = Vec::new();
        for file in self.files()? {
            if file.kind != Kind::New {
                continue;
            }
            let new = read_snap(&file.path)?.unwrap_or_default();
            let stored_path = self.path(&file.role, &file.case_id);
            let stored = read_snap(&stored_path)?;
            let status = compare(stored.as_ref().map(|s| s.body.as_str()), &new.body);
            out.push(PendingChange {
                role: file.role,
                case_id: file.case_id,
                stored_path,
                new_path: file.path,
                stored,
                new,
                status,
            });
        }
        Ok(out)
    }

    /// The pending changes of the cases matching `glob` (all when `None`).
    fn pending_matching(&self, glob: Option<&str>) -> Result<Vec<PendingChange>, Error> {
        Ok(self
            .pending()?
            .into_iter()
            .filter(|p| glob.is_none_or(|g| glob_match(g, &p.case_id)))
            .collect())
    }

    /// Moves the pending files of the cases matching `glob` (all when `None`)
    /// over their `.snap`; returns the changes applied.
    pub fn accept(&self, glob: Option<&str>) -> Result<Vec<PendingChange>, Error> {
        let chosen = self.pending_matching(glob)?;
        for p in &chosen {
            fs::rename(&p.new_path, &p.stored_path).map_err(|e| Error::io(&p.stored_path, e))?;
        }
        Ok(chosen)
    }

    /// Deletes the pending files of the cases matching `glob` (all when
    /// `None`); returns the changes dropped.
    pub fn reject(&self, glob: Option<&str>) -> Result<Vec<PendingChange>, Error> {
        let chosen = self.pending_matching(glob)?;
        for p in &chosen {
            remove_if_exists(&p.new_path)?;
        }
        Ok(chosen)
    }

    /// Deletes the `.snap` and `.snap.new` files of cases not in `existing_ids`,
    /// in every role directory; returns the removed paths, sorted.
    pub fn prune<S: AsRef<str>>(&self, existing_ids: &[S]) -> Result<Vec<PathBuf>, Error> {
        let keep: std::collections::HashSet<&str> =
            existing_ids.iter().map(AsRef::as_ref).collect();
        let mut removed = Vec::new();
        for file in self.files()? {
            if !keep.contains(file.case_id.as_str()) && remove_if_exists(&file.path)? {
                removed.push(file.path);
            }
        }
        removed.sort();
        Ok(removed)
    }

    /// Every `.snap` and `.snap.new` under the store, sorted by role then id.
    fn files(&self) -> Result<Vec<SnapFile>, Error> {
        let mut out = Vec::new();
        if self.dir.is_dir() {
            walk(&self.dir, &mut Vec::new(), &mut out)?;
        }
        out.sort_by(|a, b| {
            a.role
                .cmp(&b.role)
                .then_with(|| compare_ids(&a.case_id, &b.case_id))
                .then_with(|| a.path.cmp(&b.path))
        });
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accepted,
    New,
}

struct SnapFile {
    role: String,
    case_id: String,
    path: PathBuf,
    kind: Kind,
}

fn walk(dir: &Path, role: &mut Vec<String>, out: &mut Vec<SnapFile>) -> Result<(), Error> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries: Vec<fs::DirEntry> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if file_type.is_dir() {
            if name.starts_with('.') {
                continue;
            }
            role.push(name);
            walk(&path, role, out)?;
            role.pop();
        } else if !role.is_empty() {
            let (case_id, kind) = if let Some(id) = name.strip_suffix(NEW_EXT) {
                (id, Kind::New)
            } else if let Some(id) = name.strip_suffix(SNAP_EXT) {
                (id, Kind::Accepted)
            } else {
                continue;
            };
            if case_id.is_empty() {
                continue;
            }
            out.push(SnapFile {
                role: role.join("/"),
                case_id: case_id.to_string(),
                path,
                kind,
            });
        }
    }
    Ok(())
}

fn read_snap(path: &Path) -> Result<Option<Snap>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    parse_snap(&text).map(Some).map_err(|e| e.at(path))
}

/// Writes through a temporary file and a rename, so that an interrupted run
/// never leaves half a snapshot.
fn write_atomic(path: &Path, contents: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn remove_if_exists(path: &Path) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Roles are `/`-separated names and case ids single names: neither may climb
/// out of the store or hide in a dot directory.
fn check_names(role: &str, case_id: &str) -> Result<(), Error> {
    let bad_part = |p: &str| p.is_empty() || p == "." || p == ".." || p.contains(['\\', ':']);
    if role.split('/').any(|p| bad_part(p) || p.starts_with('.')) {
        return Err(Error::BadName {
            what: "role",
            name: role.to_string(),
        });
    }
    if bad_part(case_id) || case_id.contains('/') {
        return Err(Error::BadName {
            what: "case id",
            name: case_id.to_string(),
        });
    }
    Ok(())
}
