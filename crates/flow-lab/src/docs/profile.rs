//! The per-operation profile table of DEVELOPERS.md, from the breakdowns
//! `tools/perf_breakdown.py` adds to `docs/results/profile.json`.

use serde::Deserialize;

use super::DocsError;
use crate::provenance::Provenance;

/// One profile: where a training step's or a scoring pass's samples went.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileBreakdown {
    /// What the profile is of, e.g. `before` or `shifted convolution`.
    pub label: String,
    /// `train` or `score`.
    pub phase: String,
    /// The profiled command.
    pub command: String,
    /// Each operation group's share of the samples, in the script's order.
    pub groups: Vec<ProfileGroup>,
    /// Where and when it was taken.
    pub provenance: Provenance,
}

/// One operation group of a profile.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileGroup {
    /// The group, e.g. `convolution: im2col`.
    pub name: String,
    /// Its share of all samples, in percent.
    pub percent: f64,
}

/// One column per profile (label and phase), one row per operation group, then a line
/// per profile naming its command, commit, machine and date.
///
/// # Errors
/// [`DocsError::NoResults`] when there is no profile.
pub fn profile_table(profiles: &[ProfileBreakdown]) -> Result<String, DocsError> {
    let Some(first) = profiles.first() else {
        return Err(DocsError::NoResults("profile".into()));
    };
    let mut rows: Vec<&str> = first.groups.iter().map(|g| g.name.as_str()).collect();
    for profile in profiles {
        for group in &profile.groups {
            if !rows.contains(&group.name.as_str()) {
                rows.push(&group.name);
            }
        }
    }
    let headers: Vec<String> = profiles
        .iter()
        .map(|p| format!("{}, {}", p.label, p.phase))
        .collect();
    let mut table = format!("| operation | {} |\n|---|", headers.join(" | "));
    table.push_str(&"---:|".repeat(profiles.len()));
    table.push('\n');
    for row in rows {
        let cells: Vec<String> = profiles
            .iter()
            .map(|p| {
                p.groups
                    .iter()
                    .find(|g| g.name == row)
                    .map_or_else(|| "n/a".into(), |g| format!("{:.1}%", g.percent))
            })
            .collect();
        table.push_str(&format!("| {row} | {} |\n", cells.join(" | ")));
    }
    table.push('\n');
    for (header, p) in headers.iter().zip(profiles) {
        table.push_str(&format!("- {header}: `{}`; {}.\n", p.command, p.provenance));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(label: &str, phase: &str, groups: &[(&str, f64)]) -> ProfileBreakdown {
        ProfileBreakdown {
            label: label.into(),
            phase: phase.into(),
            command: "perf record ...".into(),
            groups: groups
                .iter()
                .map(|(name, percent)| ProfileGroup {
                    name: (*name).into(),
                    percent: *percent,
                })
                .collect(),
            provenance: Provenance {
                commit: "abc1234".into(),
                machine: "AMD EPYC, 2 threads".into(),
                date: "2026-12-02 07:30".into(),
            },
        }
    }

    #[test]
    fn one_column_per_profile_and_a_row_per_group() {
        let table = profile_table(&[
            profile("before", "train", &[("gemm", 47.6), ("im2col", 7.5)]),
            profile("after", "train", &[("gemm", 60.0)]),
        ])
        .unwrap();
        assert!(table.starts_with("| operation | before, train | after, train |\n"));
        assert!(table.contains("| gemm | 47.6% | 60.0% |"), "{table}");
        assert!(table.contains("| im2col | 7.5% | n/a |"), "{table}");
        assert!(table.contains("- after, train: `perf record ...`; commit `abc1234`"));
        assert_eq!(
            profile_table(&[]),
            Err(DocsError::NoResults("profile".into()))
        );
    }
}
