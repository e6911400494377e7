//! A component's `files`: which host files the guest can read, and where.
//!
//! Entries, as in Spin (paths relative to the manifest directory):
//! - `"path/to/file.txt"`: that file, at `/path/to/file.txt` in the guest;
//! - `"assets"` (an existing directory): every file under it, at the same
//!   relative paths (`/assets/...`);
//! - `"static/**/*.css"` (a glob): every matching *file*, at the same relative
//!   path. Globs follow the `glob` crate (Spin's): `*` and `?` do not cross
//!   `/` while walking, `**` matches any number of directories, hidden files
//!   match;
//! - `{ source = "dir", destination = "/guest/dir" }`: every file under the
//!   host directory `dir` at `/guest/dir/...`; if `source` is a file, it
//!   appears at exactly `destination`.
//!
//! `exclude_files` globs are matched against each file's path relative to
//! the manifest directory (Spin's options, where `*` also matches `/`); a
//! matching file is left out. spinstack applies them to every entry,
//! including single files named explicitly (Spin only filters directories
//! and globs).
//!
//! **What this module returns.** Spin copies the selected files into a
//! temporary directory per component and mounts that directory at `/`. Here
//! [`resolve_files`] returns the individual mappings (host file → guest
//! path), and [`materialize`] copies them into a directory of the host's
//! choosing, which the host then preopens at `/` (read-only, like Spin). A
//! component with no `files` needs no preopen at all.

use std::collections::BTreeMap;
use std::path::{Component as PathPart, Path, PathBuf};

/// One entry of a component's `files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A file, directory or glob, relative to the manifest directory; the
    /// guest sees the same relative paths under `/`.
    Pattern(String),
    /// A host file or directory placed at an absolute guest path.
    Placement {
        /// Host path, relative to the manifest directory.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

/// One host file made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileMapping {
    /// Absolute guest path, `/`-separated, normalized (no `.` or `..`).
    pub guest_path: String,
    /// The host file (the manifest directory joined with the entry's path).
    pub host_path: PathBuf,
}

/// Errors resolving or copying files.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// An entry (or `exclude_files` pattern) is malformed.
    #[error("files entry {entry:?}: {reason}")]
    InvalidEntry { entry: String, reason: String },
    /// A path names nothing and is not a glob.
    #[error("files entry {entry:?}: {path} does not exist and is not a glob pattern")]
    NotFound { entry: String, path: PathBuf },
    /// Two different host files would appear at the same guest path.
    #[error("guest path {guest_path} would be both {first} and {second}")]
    Conflict {
        guest_path: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// A filesystem error.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn invalid(entry: &str, reason: impl Into<String>) -> FilesError {
    FilesError::InvalidEntry {
        entry: entry.to_owned(),
        reason: reason.into(),
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + use<> {
    let path = path.to_path_buf();
    move |source| FilesError::Io {
        action,
        path,
        source,
    }
}

/// Checks an entry without touching the filesystem (used when the manifest
/// is loaded). Returns the reason it is unusable.
pub(crate) fn check_mount(mount: &FileMount) -> Result<(), String> {
    match mount {
        FileMount::Pattern(pattern) => {
            if pattern.is_empty() {
                return Err("must not be empty".to_owned());
            }
            if Path::new(pattern).is_absolute() {
                return Err("must be relative to the manifest directory".to_owned());
            }
            if pattern == ".."
                || pattern.ends_with("/..")
                || pattern == "."
                || pattern.ends_with("/.")
            {
                return Err(
                    "a pattern cannot end in '.' or '..'; to include a directory use \
                     { source = \"dir\", destination = \"/dir\" } or a glob ending in \"**/*\""
                        .to_owned(),
                );
            }
            if looks_like_glob(pattern) {
                glob::Pattern::new(pattern).map_err(|e| format!("invalid glob: {e}"))?;
            }
            if escapes(Path::new(pattern)) {
                return Err("a pattern must stay inside the manifest directory (use a \
                     source/destination entry for other directories)"
                    .to_owned());
            }
            Ok(())
        }
        FileMount::Placement {
            source,
            destination,
        } => {
            if source.is_empty() {
                return Err("source must not be empty".to_owned());
            }
            if Path::new(source).is_absolute() {
                return Err("source must be relative to the manifest directory".to_owned());
            }
            if !destination.starts_with('/') {
                return Err(format!(
                    "destination {destination:?} must be an absolute path"
                ));
            }
            guest_join("/", destination).map(|_| ())
        }
    }
}

/// Checks an `exclude_files` pattern.
pub(crate) fn check_exclude(pattern: &str) -> Result<(), String> {
    glob::Pattern::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("invalid glob: {e}"))
}

/// Lists the files a component's guest sees, sorted by guest path.
///
/// `base_dir` is the manifest directory. Fails on entries that name nothing,
/// on unreadable directories, and when two different host files would land
/// on the same guest path.
pub fn resolve_files(
    base_dir: &Path,
    mounts: &[FileMount],
    exclude_files: &[String],
) -> Result<Vec<FileMapping>, FilesError> {
    let excludes = exclude_files
        .iter()
        .map(|p| glob::Pattern::new(p).map_err(|e| invalid(p, format!("invalid glob: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let base_dir = normalize(base_dir);

    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for mount in mounts {
        check_mount(mount).map_err(|reason| invalid(&mount_text(mount), reason))?;
        match mount {
            FileMount::Pattern(pattern) => {
                resolve_pattern(&base_dir, pattern, &mut found)?;
            }
            FileMount::Placement {
                source,
                destination,
            } => resolve_placement(&base_dir, source, destination, &mut found)?,
        }
    }

    let mut by_guest: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (guest_path, host_path) in found {
        let relative = relative_to(&base_dir, &host_path);
        if excludes.iter().any(|p| p.matches_path(&relative)) {
            continue;
        }
        match by_guest.get(&guest_path) {
            Some(existing) if *existing != host_path => {
                return Err(FilesError::Conflict {
                    guest_path,
                    first: existing.clone(),
                    second: host_path,
                });
            }
            Some(_) => {}
            None => {
                by_guest.insert(guest_path, host_path);
            }
        }
    }
    Ok(by_guest
        .into_iter()
        .map(|(guest_path, host_path)| FileMapping {
            guest_path,
            host_path,
        })
        .collect())
}

/// Copies `mappings` under `root` (guest `/a/b.txt` → `root/a/b.txt`),
/// creating directories. The host then preopens `root` at `/`.
pub fn materialize(mappings: &[FileMapping], root: &Path) -> Result<(), FilesError> {
    std::fs::create_dir_all(root).map_err(io("cannot create", root))?;
    for mapping in mappings {
        let relative = mapping.guest_path.trim_start_matches('/');
        if relative.is_empty() || escapes(Path::new(relative)) {
            return Err(invalid(
                &mapping.guest_path,
                "not a file path inside the guest",
            ));
        }
        let dest = root.join(relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        }
        std::fs::copy(&mapping.host_path, &dest).map_err(io("cannot copy", &mapping.host_path))?;
    }
    Ok(())
}

fn mount_text(mount: &FileMount) -> String {
    match mount {
        FileMount::Pattern(p) => p.clone(),
        FileMount::Placement {
            source,
            destination,
        } => format!("{{ source = {source:?}, destination = {destination:?} }}"),
    }
}

fn resolve_pattern(
    base_dir: &Path,
    pattern: &str,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), FilesError> {
    let path = normalize(&base_dir.join(pattern));
    if path.is_dir() {
        for file in walk(&path)? {
            let guest = guest_path_for(base_dir, &file, pattern)?;
            found.push((guest, file));
        }
    } else if path.is_file() {
        let guest = guest_path_for(base_dir, &path, pattern)?;
        found.push((guest, path));
    } else if looks_like_glob(pattern) {
        // Escape the directory part so that brackets or stars in the
        // manifest's own path are not read as glob syntax.
        let full = if base_dir.as_os_str().is_empty() {
            pattern.to_owned()
        } else {
            let escaped = glob::Pattern::escape(&base_dir.to_string_lossy());
            format!("{}/{}", escaped.trim_end_matches('/'), pattern)
        };
        let paths =
            glob::glob(&full).map_err(|e| invalid(pattern, format!("invalid glob: {e}")))?;
        for entry in paths {
            let file = entry.map_err(|e| FilesError::Io {
                action: "cannot read",
                path: e.path().to_path_buf(),
                source: e.into(),
            })?;
            if file.is_file() {
                let file = normalize(&file);
                let guest = guest_path_for(base_dir, &file, pattern)?;
                found.push((guest, file));
            }
        }
    } else {
        return Err(FilesError::NotFound {
            entry: pattern.to_owned(),
            path,
        });
    }
    Ok(())
}

fn resolve_placement(
    base_dir: &Path,
    source: &str,
    destination: &str,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), FilesError> {
    let entry = || format!("{{ source = {source:?}, destination = {destination:?} }}");
    let path = normalize(&base_dir.join(source));
    if path.is_dir() {
        for file in walk(&path)? {
            let inside = file.strip_prefix(&path).unwrap_or(&file);
            let guest = guest_join(destination, &slash_path(inside))
                .map_err(|reason| invalid(&entry(), reason))?;
            found.push((guest, file));
        }
    } else if path.is_file() {
        if destination.ends_with('/') {
            return Err(invalid(
                &entry(),
                "the source is a file, so the destination must be a file name, not end in '/'",
            ));
        }
        let guest = guest_join("/", destination).map_err(|reason| invalid(&entry(), reason))?;
        found.push((guest, path));
    } else {
        return Err(FilesError::NotFound {
            entry: entry(),
            path,
        });
    }
    Ok(())
}

/// Guest path of a file selected by a pattern entry: its path relative to
/// the manifest directory, under `/`.
fn guest_path_for(base_dir: &Path, file: &Path, entry: &str) -> Result<String, FilesError> {
    let relative = file
        .strip_prefix(base_dir)
        .map_err(|_| invalid(entry, "matches files outside the manifest directory"))?;
    guest_join("/", &slash_path(relative)).map_err(|reason| invalid(entry, reason))
}

/// All regular files under `dir` (following symlinks, each directory
/// visited once so that symlink loops end), sorted.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, FilesError> {
    let mut files = Vec::new();
    let mut visited = std::collections::HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let real = std::fs::canonicalize(&current).map_err(io("cannot read", &current))?;
        if !visited.insert(real) {
            continue;
        }
        let entries = std::fs::read_dir(&current).map_err(io("cannot list", &current))?;
        for entry in entries {
            let entry = entry.map_err(io("cannot list", &current))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Joins guest paths and normalizes the result; refuses to climb above `/`.
fn guest_join(base: &str, tail: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(tail.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("guest path {tail:?} climbs above '/'"));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn looks_like_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// True when a relative path climbs out of its starting directory.
fn escapes(path: &Path) -> bool {
    let mut depth: usize = 0;
    for part in path.components() {
        match part {
            PathPart::ParentDir => {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            PathPart::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

/// Removes `.` and resolves `..` lexically (no symlink resolution).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            PathPart::CurDir => {}
            PathPart::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `base`, with `..` steps when it lies elsewhere (both
/// normalized): what `exclude_files` patterns are matched against.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    if let Ok(inside) = path.strip_prefix(base) {
        return inside.to_path_buf();
    }
    let base_parts: Vec<_> = base.components().collect();
    let path_parts: Vec<_> = path.components().collect();
    let common = base_parts
        .iter()
        .zip(&path_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..base_parts.len() {
        out.push("..");
    }
    for part in &path_parts[common..] {
        out.push(part.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, f.as_bytes()).unwrap();
        }
        dir
    }

    fn guest_paths(mappings: &[FileMapping]) -> Vec<&str> {
        mappings.iter().map(|m| m.guest_path.as_str()).collect()
    }

    fn pattern(p: &str) -> FileMount {
        FileMount::Pattern(p.to_owned())
    }

    fn placement(source: &str, destination: &str) -> FileMount {
        FileMount::Placement {
            source: source.to_owned(),
            destination: destination.to_owned(),
        }
    }

    #[test]
    fn single_files_and_directories_keep_relative_paths() {
        let dir = tree(&[
            "index.html",
            "static/a.css",
            "static/img/b.png",
            "other.txt",
        ]);
        let m = resolve_files(
            dir.path(),
            &[
                pattern("index.html"),
                pattern("static"),
                pattern("./other.txt"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            guest_paths(&m),
            [
                "/index.html",
                "/other.txt",
                "/static/a.css",
                "/static/img/b.png"
            ]
        );
        assert_eq!(m[0].host_path, dir.path().join("index.html"));
    }

    #[test]
    fn globs_select_files_only() {
        let dir = tree(&["static/a.css", "static/b.js", "static/sub/c.css", "top.css"]);
        let m = resolve_files(dir.path(), &[pattern("static/**/*.css")], &[]).unwrap();
        assert_eq!(guest_paths(&m), ["/static/a.css", "/static/sub/c.css"]);
        let m = resolve_files(dir.path(), &[pattern("static/*")], &[]).unwrap();
        assert_eq!(guest_paths(&m), ["/static/a.css", "/static/b.js"]);
        let m = resolve_files(dir.path(), &[pattern("*.css")], &[]).unwrap();
        assert_eq!(guest_paths(&m), ["/top.css"]);
    }

    #[test]
    fn placements_map_directories_and_files() {
        let dir = tree(&[
            "assets/images/x.jpg",
            "assets/images/deep/y.jpg",
            "conf/app.json",
        ]);
        let m = resolve_files(
            dir.path(),
            &[
                placement("assets/images", "/pictures"),
                placement("conf/app.json", "/etc/app/config.json"),
                placement("assets", "/"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            guest_paths(&m),
            [
                "/etc/app/config.json",
                "/images/deep/y.jpg",
                "/images/x.jpg",
                "/pictures/deep/y.jpg",
                "/pictures/x.jpg",
            ]
        );
    }

    #[test]
    fn placement_source_outside_the_app_dir_is_allowed() {
        let root = tree(&["shared/logo.svg", "app/spin.toml"]);
        let m = resolve_files(
            &root.path().join("app"),
            &[placement("../shared", "/shared")],
            &[],
        )
        .unwrap();
        assert_eq!(guest_paths(&m), ["/shared/logo.svg"]);
    }

    #[test]
    fn exclude_files_filters_every_entry() {
        let dir = tree(&[
            "static/a.css",
            "static/secret/key.pem",
            "static/secret/deeper/k2.pem",
            "notes.txt",
        ]);
        let m = resolve_files(
            dir.path(),
            &[pattern("static"), pattern("notes.txt")],
            &["static/secret/*".to_owned(), "*.txt".to_owned()],
        )
        .unwrap();
        assert_eq!(guest_paths(&m), ["/static/a.css"]);

        let m = resolve_files(
            dir.path(),
            &[placement("static", "/www")],
            &["**/*.pem".to_owned()],
        )
        .unwrap();
        assert_eq!(guest_paths(&m), ["/www/a.css"]);
    }

    #[test]
    fn errors_name_the_entry() {
        let dir = tree(&["a.txt", "b.txt", "d/x.txt"]);
        let err = resolve_files(dir.path(), &[pattern("missing.txt")], &[]).unwrap_err();
        assert!(
            matches!(&err, FilesError::NotFound { entry, .. } if entry == "missing.txt"),
            "{err}"
        );
        // A glob matching nothing is fine, like Spin.
        assert!(
            resolve_files(dir.path(), &[pattern("nothing/*.x")], &[])
                .unwrap()
                .is_empty()
        );

        let err = resolve_files(dir.path(), &[placement("nope", "/x")], &[]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");

        let err = resolve_files(dir.path(), &[placement("a.txt", "/etc/")], &[]).unwrap_err();
        assert!(err.to_string().contains("file name"), "{err}");

        let err = resolve_files(
            dir.path(),
            &[
                placement("a.txt", "/same.txt"),
                placement("b.txt", "/same.txt"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, FilesError::Conflict { .. }), "{err}");

        // The same file twice is not a conflict.
        let m = resolve_files(dir.path(), &[pattern("a.txt"), pattern("*.txt")], &[]).unwrap();
        assert_eq!(guest_paths(&m), ["/a.txt", "/b.txt"]);

        let err = resolve_files(dir.path(), &[pattern("a.txt")], &["[".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("invalid glob"), "{err}");
    }

    #[test]
    fn entries_are_checked_without_the_filesystem() {
        for bad in [
            pattern(""),
            pattern(".."),
            pattern("dir/.."),
            pattern("."),
            pattern("a/."),
            pattern("/etc/passwd"),
            pattern("../outside/*"),
            pattern("[z-a"),
            placement("", "/x"),
            placement("/abs", "/x"),
            placement("a", "relative"),
            placement("a", "/../x"),
        ] {
            assert!(check_mount(&bad).is_err(), "{bad:?} should be rejected");
        }
        for good in [
            pattern("a.txt"),
            pattern("static/**/*"),
            pattern("./*"),
            placement("a", "/"),
            placement("../shared", "/shared"),
        ] {
            check_mount(&good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
        }
        assert!(check_exclude("secrets/*").is_ok());
        assert!(check_exclude("[").is_err());
    }

    #[test]
    fn materialize_copies_into_a_tree() {
        let dir = tree(&["static/a.css", "conf.json"]);
        let m = resolve_files(
            dir.path(),
            &[pattern("static"), placement("conf.json", "/etc/conf.json")],
            &[],
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        materialize(&m, out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("static/a.css")).unwrap(),
            "static/a.css"
        );
        assert_eq!(
            std::fs::read_to_string(out.path().join("etc/conf.json")).unwrap(),
            "conf.json"
        );
    }

    #[test]
    fn glob_base_dir_with_special_characters() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("weird[dir]");
        std::fs::create_dir_all(base.join("s")).unwrap();
        std::fs::write(base.join("s/x.txt"), "x").unwrap();
        let m = resolve_files(&base, &[pattern("s/*.txt")], &[]).unwrap();
        assert_eq!(guest_paths(&m), ["/s/x.txt"]);
    }

    #[test]
    fn path_helpers() {
        assert_eq!(guest_join("/a", "b/../c").unwrap(), "/a/c");
        assert!(guest_join("/", "../x").is_err());
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(
            relative_to(Path::new("/x/app"), Path::new("/x/shared/f")),
            PathBuf::from("../shared/f")
        );
        assert!(escapes(Path::new("../a")));
        assert!(escapes(Path::new("a/../../b")));
        assert!(!escapes(Path::new("a/../b")));
    }
}
