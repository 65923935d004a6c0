//! Which rows each step takes: seeded epochs of shuffled batches.

use flow_data::BatchPlan;

use crate::TrainError;

/// The batch order of a run of steps over `len` rows (images, embeddings): epoch `e`
/// visits them in the order `BatchPlan::shuffled(len, batch_size, seed, e)`, and step
/// `s` takes batch `s mod steps_per_epoch` of epoch `s / steps_per_epoch` (the last batch
/// of an epoch may be smaller, as with PyTorch's `DataLoader`).
///
/// A pure function of the seed and the step, so a resumed run takes the batches an
/// uninterrupted one would. The current epoch's order is kept: a run shuffles once per
/// epoch, not once per step.
#[derive(Debug, Clone)]
pub struct StepOrder {
    len: usize,
    batch_size: usize,
    seed: u64,
    steps_per_epoch: u64,
    epoch: Option<(u64, BatchPlan)>,
}

impl StepOrder {
    /// The order of `len` rows in batches of `batch_size`, shuffled by `seed`.
    ///
    /// # Errors
    /// [`TrainError::Config`] for no rows or a batch size of 0.
    pub fn new(len: usize, batch_size: usize, seed: u64) -> Result<Self, TrainError> {
        if len == 0 || batch_size == 0 {
            return Err(TrainError::Config(format!(
                "a batch order needs rows and a positive batch size, not {len} rows in \
                 batches of {batch_size}"
            )));
        }
        Ok(Self {
            len,
            batch_size,
            seed,
            steps_per_epoch: len.div_ceil(batch_size) as u64,
            epoch: None,
        })
    }

    /// Steps per pass over the rows.
    pub fn steps_per_epoch(&self) -> u64 {
        self.steps_per_epoch
    }

    /// The (0-based) epoch step `step` belongs to.
    pub fn epoch_of(&self, step: u64) -> u64 {
        step / self.steps_per_epoch
    }

    /// The row indices step `step` takes.
    ///
    /// # Errors
    /// [`TrainError::Data`] if the epoch's order cannot be drawn.
    pub fn batch(&mut self, step: u64) -> Result<&[usize], TrainError> {
        let epoch = self.epoch_of(step);
        let plan = match self.epoch.take() {
            Some((kept, plan)) if kept == epoch => &self.epoch.insert((kept, plan)).1,
            _ => {
                let plan = BatchPlan::shuffled(self.len, self.batch_size, self.seed, epoch)?;
                &self.epoch.insert((epoch, plan)).1
            }
        };
        // `step % steps_per_epoch < len.div_ceil(batch_size)`, so the batch starts
        // inside the order.
        let start = (step % self.steps_per_epoch) as usize * self.batch_size;
        let end = (start + self.batch_size).min(self.len);
        Ok(&plan.order()[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::StepOrder;
    use flow_data::BatchPlan;

    #[test]
    fn steps_take_the_batches_of_their_epochs_shuffled_order() {
        let mut order = StepOrder::new(10, 4, 7).unwrap();
        assert_eq!(order.steps_per_epoch(), 3);
        for epoch in 0..3u64 {
            let plan = BatchPlan::shuffled(10, 4, 7, epoch).unwrap();
            for (k, expected) in plan.batches().enumerate() {
                let step = epoch * 3 + k as u64;
                assert_eq!(order.epoch_of(step), epoch);
                assert_eq!(order.batch(step).unwrap(), expected, "step {step}");
            }
        }
        // Out of order (a resumed run) gives the same batches.
        let mut fresh = StepOrder::new(10, 4, 7).unwrap();
        let late = fresh.batch(7).unwrap().to_vec();
        assert_eq!(late, order.batch(7).unwrap());
        assert_eq!(
            fresh.batch(2).unwrap().len(),
            2,
            "the last batch is the remainder"
        );
    }

    #[test]
    fn an_empty_set_or_a_zero_batch_is_refused() {
        assert!(StepOrder::new(0, 4, 0).is_err());
        assert!(StepOrder::new(4, 0, 0).is_err());
    }
}
