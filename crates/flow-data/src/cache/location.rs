//! Where the data folder is.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// The environment variable that overrides the default data folder.
pub const DATA_DIR_ENV: &str = "FLOWS_OOD_DATA";

/// The data folder: `explicit` if given (a `--data-dir` flag), else the
/// [`DATA_DIR_ENV`] variable if set and non-empty, else `data/` in the Cargo workspace that
/// contains the current directory.
pub fn resolve_data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| DataError::DataDir(format!("cannot read the current directory: {e}")))?;
    find_workspace_root(&cwd)
        .map(|root| root.join("data"))
        .ok_or_else(|| {
            DataError::DataDir(format!(
                "{} is not inside a Cargo workspace; pass --data-dir or set {DATA_DIR_ENV}",
                cwd.display()
            ))
        })
}

/// The nearest directory at or above `start` whose `Cargo.toml` declares a `[workspace]`.
///
/// Walking up and reading the manifests is what Cargo itself does to find a workspace; it
/// works from any member crate's folder (where `cargo test` runs tests) and from the root.
pub fn find_workspace_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| declares_workspace(&dir.join("Cargo.toml")))
        .map(Path::to_path_buf)
}

fn declares_workspace(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .map(|text| {
            text.lines().any(|line| {
                let line = line.trim();
                line == "[workspace]" || line.starts_with("[workspace.")
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_from_a_member_crate_and_not_from_a_plain_package() {
        let root = tempfile::tempdir().unwrap();
        let member = root.path().join("crates").join("a").join("src");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(
            root.path().join("Cargo.toml"),
            "[workspace]\nmembers = []\n",
        )
        .unwrap();
        std::fs::write(
            root.path().join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        )
        .unwrap();
        assert_eq!(find_workspace_root(&member).as_deref(), Some(root.path()));

        let lone = tempfile::tempdir().unwrap();
        std::fs::write(lone.path().join("Cargo.toml"), "[package]\nname = \"b\"\n").unwrap();
        // The temporary folder may itself sit inside some workspace; it must not be `lone`.
        assert_ne!(
            find_workspace_root(lone.path()).as_deref(),
            Some(lone.path())
        );
    }

    #[test]
    fn an_explicit_folder_wins() {
        let dir = Path::new("/some/where");
        assert_eq!(resolve_data_dir(Some(dir)).unwrap(), dir);
    }
}
