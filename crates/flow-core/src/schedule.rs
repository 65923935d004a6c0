//! Learning-rate schedules: the multiplier of a peak rate at each step of a run, shared
//! by every training loop of the workspace.

use serde::{Deserialize, Serialize};

/// The learning rate over the steps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// The same rate at every step.
    #[default]
    Constant,
    /// Cosine decay from the peak rate to `final_fraction` of it over `steps` steps
    /// (the rate stays there afterwards). Short runs end lower with it than at a
    /// constant rate, which is what the CPU presets are.
    Cosine {
        /// Steps over which the rate decays.
        steps: u64,
        /// The rate at the end, as a fraction of the peak.
        final_fraction: f64,
    },
}

impl LrSchedule {
    /// Whether the rate is constant (the default, left out of configuration files).
    pub fn is_constant(&self) -> bool {
        matches!(self, LrSchedule::Constant)
    }

    /// The multiplier of the peak rate at 0-based `step`.
    pub fn factor(&self, step: u64) -> f64 {
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine {
                steps,
                final_fraction,
            } => {
                let progress = if steps == 0 {
                    1.0
                } else {
                    step.min(steps) as f64 / steps as f64
                };
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                final_fraction + (1.0 - final_fraction) * cosine
            }
        }
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::LrSchedule;

    #[test]
    fn cosine_runs_from_the_peak_to_its_floor_and_stays() {
        let schedule = LrSchedule::Cosine {
            steps: 100,
            final_fraction: 0.1,
        };
        assert_eq!(schedule.factor(0), 1.0);
        assert!((schedule.factor(50) - 0.55).abs() < 1e-12);
        assert!((schedule.factor(100) - 0.1).abs() < 1e-12);
        assert!((schedule.factor(1000) - 0.1).abs() < 1e-12);
        let mut previous = f64::INFINITY;
        for step in 0..=100 {
            let factor = schedule.factor(step);
            assert!(factor <= previous, "not decreasing at step {step}");
            previous = factor;
        }
        assert_eq!(LrSchedule::Constant.factor(12345), 1.0);
    }
}
