//! Embeds every case file under cases/ into the binary, so an installed
//! wsspec works from any directory.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let cases = root.join("cases");
    println!("cargo:rerun-if-changed=cases");
    let version = std::fs::read_to_string(cases.join("VERSION")).unwrap_or_default();
    println!("cargo:rustc-env=WSSPEC_CORPUS_VERSION={}", version.trim());
    let mut files = Vec::new();
    collect(&cases, &mut files);
    files.sort();
    let mut code = String::from("/// Embedded case files: (path relative to the project, text).\npub static CORPUS: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("corpus.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
