//! Compensated summation, so that curve areas over millions of points stay accurate to a
//! few ulps whatever order the terms come in.

/// Neumaier's variant of Kahan summation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one term.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated total.
    pub fn total(self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_what_naive_summation_loses() {
        let mut s = CompensatedSum::default();
        let mut naive = 0.0;
        for x in [1.0, 1e100, 1.0, -1e100] {
            s.add(x);
            naive += x;
        }
        assert_eq!(s.total(), 2.0);
        assert_eq!(naive, 0.0);
    }
}
