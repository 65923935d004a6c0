//! The sets a model is scored on, held by what each one is rather than by position.

use flow_data::ImageDataset;
use serde::{Deserialize, Serialize};

/// One value per evaluation set of a run: the in-distribution training and test sets,
/// the natural OOD set (MNIST for a FashionMNIST flow, or a negative-training model's
/// held-out split of it) and the further OOD sets: the synthetic ones made from the
/// in-distribution test images, then the configuration's other named OOD sources.
///
/// In `results.json` it is a list in that order (`[in_train, in_test, natural_ood,
/// further...]`), the layout results have always had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "Vec<T>",
    into = "Vec<T>",
    bound(
        serialize = "T: Serialize + Clone",
        deserialize = "T: Deserialize<'de>"
    )
)]
pub struct ScoredSets<T> {
    /// The in-distribution training images scored.
    pub in_train: T,
    /// The in-distribution test images: the positive class of every detection.
    pub in_test: T,
    /// The natural OOD set.
    pub natural_ood: T,
    /// The further OOD sets: the synthetic ones in the configuration's order, then the
    /// configuration's other named OOD sources.
    pub further_ood: Vec<T>,
}

impl<T> ScoredSets<T> {
    /// Every set, in the stored order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        [&self.in_train, &self.in_test, &self.natural_ood]
            .into_iter()
            .chain(&self.further_ood)
    }

    /// The OOD sets: the natural one, then the further ones.
    pub fn ood(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.natural_ood).chain(&self.further_ood)
    }

    /// Applies `f` to every set, keeping each one's role.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<ScoredSets<U>, E> {
        Ok(ScoredSets {
            in_train: f(&self.in_train)?,
            in_test: f(&self.in_test)?,
            natural_ood: f(&self.natural_ood)?,
            further_ood: self.further_ood.iter().map(f).collect::<Result<_, _>>()?,
        })
    }

    /// Applies `f` to this and `other`'s value of every role (`other` has at least as
    /// many further OOD sets).
    pub fn try_zip_with<U, V, E>(
        &self,
        other: &ScoredSets<U>,
        mut f: impl FnMut(&T, &U) -> Result<V, E>,
    ) -> Result<ScoredSets<V>, E> {
        Ok(ScoredSets {
            in_train: f(&self.in_train, &other.in_train)?,
            in_test: f(&self.in_test, &other.in_test)?,
            natural_ood: f(&self.natural_ood, &other.natural_ood)?,
            further_ood: self
                .further_ood
                .iter()
                .zip(&other.further_ood)
                .map(|(a, b)| f(a, b))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Applies `f` to this and `other`'s value of every role.
    pub fn zip_with<U, V>(
        &self,
        other: &ScoredSets<U>,
        mut f: impl FnMut(&T, &U) -> V,
    ) -> ScoredSets<V> {
        let Ok(zipped) =
            self.try_zip_with(other, |a, b| Ok::<V, std::convert::Infallible>(f(a, b)));
        zipped
    }

    /// Applies `f` to every set, keeping each one's role.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> ScoredSets<U> {
        let Ok(mapped) = self.try_map(|t| Ok::<U, std::convert::Infallible>(f(t)));
        mapped
    }
}

impl<T> From<ScoredSets<T>> for Vec<T> {
    fn from(sets: ScoredSets<T>) -> Self {
        let mut all = vec![sets.in_train, sets.in_test, sets.natural_ood];
        all.extend(sets.further_ood);
        all
    }
}

impl<T> TryFrom<Vec<T>> for ScoredSets<T> {
    type Error = String;

    fn try_from(all: Vec<T>) -> Result<Self, Self::Error> {
        let found = all.len();
        let mut all = all.into_iter();
        match (all.next(), all.next(), all.next()) {
            (Some(in_train), Some(in_test), Some(natural_ood)) => Ok(Self {
                in_train,
                in_test,
                natural_ood,
                further_ood: all.collect(),
            }),
            _ => Err(format!(
                "a model's sets list the in-distribution train and test sets and the \
                 natural OOD set before any further one: expected at least 3, found {found}"
            )),
        }
    }
}

/// An evaluation set: its display name and its images.
#[derive(Debug, Clone)]
pub struct NamedSet {
    /// Display name (`FashionMNIST test`, `MNIST`, `flipped up-down`).
    pub name: String,
    /// The images.
    pub images: ImageDataset,
}

#[cfg(test)]
mod tests {
    use super::ScoredSets;

    fn sets() -> ScoredSets<u32> {
        ScoredSets {
            in_train: 0,
            in_test: 1,
            natural_ood: 2,
            further_ood: vec![3, 4],
        }
    }

    #[test]
    fn the_stored_list_keeps_the_order_and_reads_back() {
        let json = serde_json::to_string(&sets()).unwrap();
        assert_eq!(json, "[0,1,2,3,4]");
        let back: ScoredSets<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sets());
        assert_eq!(back.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(back.ood().copied().collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn a_list_without_the_three_named_sets_is_refused() {
        let err = serde_json::from_str::<ScoredSets<u32>>("[0,1]").unwrap_err();
        assert!(err.to_string().contains("found 2"), "{err}");
    }

    #[test]
    fn map_keeps_roles() {
        let doubled = sets().map(|v| v * 2);
        assert_eq!(doubled.natural_ood, 4);
        assert_eq!(doubled.further_ood, [6, 8]);
    }
}
