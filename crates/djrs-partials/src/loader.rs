//! Loading from disk: the directories and globs templates come from, the files under them and
//! their modification times, which auto-reload compares.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use globset::{GlobBuilder, GlobMatcher};

use crate::error::{Error, Result};

/// A file read from disk or given as a string: its name, its source, and its path when it has
/// one.
pub(crate) type LoadedFile = (String, String, Option<PathBuf>);

/// Paths with their modification times, sorted; compared to notice a change.
pub(crate) type Stamps = Vec<(PathBuf, Option<SystemTime>)>;

/// A directory, optionally filtered by a glob, to load and reload from.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    dir: PathBuf,
    /// Matches names relative to `dir`, with `/` separators.
    pattern: Option<GlobMatcher>,
}

impl Root {
    /// Every file under `dir`.
    pub(crate) fn dir(dir: &Path) -> Self {
        Root {
            dir: dir.to_path_buf(),
            pattern: None,
        }
    }

    /// The files matching a glob such as `"templates/**/*.html"`: the part before the first
    /// component with a wildcard is the directory, the rest matches names relative to it.
    pub(crate) fn glob(glob: &str) -> Result<Self> {
        let normalized = glob.replace('\\', "/");
        let parts: Vec<&str> = normalized.split('/').collect();
        let wild = parts
            .iter()
            .position(|p| p.contains(['*', '?']))
            .unwrap_or(parts.len().saturating_sub(1));
        let dir = if wild == 0 {
            PathBuf::from(".")
        } else {
            let joined = parts[..wild].join("/");
            PathBuf::from(if joined.is_empty() {
                "/".to_owned()
            } else {
                joined
            })
        };
        let pattern = matcher(&parts[wild..].join("/")).map_err(|err| Error::Io {
            path: PathBuf::from(glob),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, err),
        })?;
        Ok(Root {
            dir,
            pattern: Some(pattern),
        })
    }

    /// The files of this root, sorted.
    pub(crate) fn list(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        walk(&self.dir, &mut out)?;
        if let Some(pattern) = &self.pattern {
            out.retain(|p| pattern.is_match(relative_name(&self.dir, p)));
        }
        out.sort();
        Ok(out)
    }

    /// The files of this root, read, named by their path relative to the directory.
    pub(crate) fn read(&self) -> Result<Vec<LoadedFile>> {
        self.list()?
            .into_iter()
            .map(|path| {
                let source = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                Ok((relative_name(&self.dir, &path), source, Some(path)))
            })
            .collect()
    }
}

/// The modification times of `paths`, sorted and without duplicates.
pub(crate) fn stamps<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Stamps {
    let mut stamps: Stamps = paths
        .into_iter()
        .map(|p| {
            let stamp = std::fs::metadata(p).and_then(|m| m.modified()).ok();
            (p.to_path_buf(), stamp)
        })
        .collect();
    stamps.sort();
    stamps.dedup();
    stamps
}

/// A glob over `/`-separated names: `**` matches any number of components, `*` and `?` stay
/// within one. Brackets and braces are literal characters, as they always were here.
fn matcher(pattern: &str) -> std::result::Result<GlobMatcher, globset::Error> {
    let mut escaped = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '[' | ']' | '{' | '}' => {
                escaped.push('[');
                escaped.push(c);
                escaped.push(']');
            }
            _ => escaped.push(c),
        }
    }
    Ok(GlobBuilder::new(&escaped)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// `path` relative to `dir`, with `/` separators, as Django's filesystem loader names it.
fn relative_name(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file under `dir`, following symbolic links to files.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob_match(pattern: &str, name: &str) -> bool {
        matcher(pattern).unwrap().is_match(name)
    }

    #[test]
    fn globs() {
        assert!(glob_match("**/*.html", "a.html"));
        assert!(glob_match("**/*.html", "x/y/a.html"));
        assert!(!glob_match("*.html", "x/a.html"));
        assert!(glob_match("x/?.txt", "x/a.txt"));
        assert!(!glob_match("**/*.html", "a.txt"));
    }

    #[test]
    fn glob_table() {
        // (pattern, name, matches): the semantics of the matcher globset replaced.
        let cases = [
            ("x/**/a.html", "x/a.html", true),
            ("x/**/a.html", "x/y/z/a.html", true),
            ("x/**", "x/y/a.html", true),
            ("?.txt", "ab.txt", false),
            ("?.txt", "/.txt", false),
            ("a*b.txt", "a/b.txt", false),
            ("a**b.txt", "axxb.txt", true),
            ("[ab].txt", "[ab].txt", true),
            ("[ab].txt", "a.txt", false),
            ("{a,b}.txt", "{a,b}.txt", true),
            ("{a,b}.txt", "a.txt", false),
            ("*.HTML", "a.html", false),
            ("*", ".hidden", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob_match(pattern, name), want, "{pattern} {name}");
        }
    }
}
