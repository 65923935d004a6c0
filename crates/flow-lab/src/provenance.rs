//! Where and when a number was measured: the commit, the machine and the UTC time that
//! every committed result names.

use serde::{Deserialize, Serialize};

/// The commit, machine and time of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `git rev-parse --short HEAD`, with `-dirty` when the tree has uncommitted
    /// changes to tracked files; `unknown` outside a git checkout.
    pub commit: String,
    /// The CPU model and the number of threads available, e.g. `AMD EPYC, 2 threads`.
    pub machine: String,
    /// UTC date and time, `YYYY-MM-DD HH:MM`.
    pub date: String,
}

impl Provenance {
    /// The provenance of a measurement taken now, in this process.
    pub fn now() -> Self {
        let (date, time) = utc_now();
        Self {
            commit: git_commit(),
            machine: machine(),
            date: format!(
                "{}-{}-{} {}:{}",
                &date[0..4],
                &date[4..6],
                &date[6..8],
                &time[0..2],
                &time[2..4]
            ),
        }
    }
}

/// ``commit `abc1234`, Intel(R) Xeon(R) Processor, 2 threads, 2026-12-02 03:27 UTC``: how
/// the docs name where a number was measured.
impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "commit `{}`, {}, {} UTC",
            self.commit, self.machine, self.date
        )
    }
}

/// The current UTC time as `YYYYMMDD-HHMMSS` (sortable; used in run ids).
pub fn utc_compact() -> String {
    let (date, time) = utc_now();
    format!("{date}-{time}")
}

/// The current UTC date (`YYYYMMDD`) and time (`HHMMSS`).
fn utc_now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The short commit hash of the working tree, `-dirty` if tracked files changed.
fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|changes| !changes.is_empty());
            if dirty {
                format!("{hash}-dirty")
            } else {
                hash
            }
        }
        None => "unknown".into(),
    }
}

/// The CPU model (from `/proc/cpuinfo` where there is one) and the threads available.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {threads} threads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_of_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
    }
}
