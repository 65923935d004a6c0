//! A set of embeddings (N vectors of D values) with optional labels, and its `.npy`
//! files, so that embeddings from any model can be brought in and ours taken out.

use std::path::Path;

use flow_data::formats::npy::{read_npy, write_npy, NpyArray, NpyData};

use crate::error::{EmbedError, Result};

/// N embeddings of dimension D, row-major, with one label each where labels are known.
///
/// Invariants, checked by [`Embeddings::new`]: `dim > 0`, `values.len()` is a multiple
/// of `dim`, every value is finite, and labels (if any) are one per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    values: Vec<f32>,
    dim: usize,
    labels: Option<Vec<u32>>,
}

impl Embeddings {
    /// Wraps row-major values of dimension `dim`, checking the invariants.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] for a zero dimension, a ragged last row or a label count
    /// that is not the row count; [`EmbedError::NonFinite`] naming the first NaN or
    /// infinite entry.
    pub fn new(values: Vec<f32>, dim: usize, labels: Option<Vec<u32>>) -> Result<Self> {
        if dim == 0 {
            return Err(EmbedError::Shape("embedding dimension 0".into()));
        }
        if !values.len().is_multiple_of(dim) {
            return Err(EmbedError::Shape(format!(
                "{} values do not make whole rows of dimension {dim}",
                values.len()
            )));
        }
        let rows = values.len() / dim;
        if let Some(labels) = &labels {
            if labels.len() != rows {
                return Err(EmbedError::Shape(format!(
                    "{} labels for {rows} embeddings",
                    labels.len()
                )));
            }
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(EmbedError::NonFinite(format!(
                "embedding {} entry {} is {}",
                i / dim,
                i % dim,
                values[i]
            )));
        }
        Ok(Self {
            values,
            dim,
            labels,
        })
    }

    /// Number of embeddings.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The dimension D.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All values, row-major (`N x D`).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Embedding `i`, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.values
            .get(i.checked_mul(self.dim)?..(i + 1).checked_mul(self.dim)?)
    }

    /// The rows, in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.values.chunks_exact(self.dim)
    }

    /// The labels, if known.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// The embeddings at `indices`, in that order, with their labels.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] naming the first index past the end.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let mut values = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            let row = self.row(i).ok_or_else(|| {
                EmbedError::Shape(format!("index {i} is past the {} embeddings", self.len()))
            })?;
            values.extend_from_slice(row);
        }
        let labels = self
            .labels
            .as_ref()
            .map(|l| indices.iter().map(|&i| l[i]).collect());
        Ok(Self {
            values,
            dim: self.dim,
            labels,
        })
    }

    /// The same embeddings without labels.
    pub fn without_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// Reads an `N x D` array of `f4`, `f8` or `u1` values from a `.npy` file, and labels
    /// from a second `.npy` file of N integers if `labels` is given.
    ///
    /// # Errors
    /// The reader's error naming the file; [`EmbedError::Shape`] for an array that is not
    /// 2-d or labels that are not a 1-d array of non-negative integers, one per row.
    pub fn read_npy(values: &Path, labels: Option<&Path>) -> Result<Self> {
        let array = read_npy(values)?;
        let (_, dim) = array.as_matrix_shape().ok_or_else(|| {
            EmbedError::Shape(format!(
                "{}: shape {:?}; embeddings are a 2-d array (N x D)",
                values.display(),
                array.shape
            ))
        })?;
        let labels = labels.map(read_labels).transpose()?;
        Self::new(array.data.to_f32(), dim, labels).map_err(|e| match e {
            EmbedError::Shape(m) => EmbedError::Shape(format!("{}: {m}", values.display())),
            EmbedError::NonFinite(m) => EmbedError::NonFinite(format!("{}: {m}", values.display())),
            other => other,
        })
    }

    /// Writes the values as an `N x D` `<f4` `.npy` file and, if `labels` is given and
    /// labels are known, the labels as an `N` `<i8` (int64) file; each atomically.
    ///
    /// # Errors
    /// The writer's error naming the file; [`EmbedError::Shape`] when `labels` is asked
    /// for but none are known.
    pub fn write_npy(&self, values: &Path, labels: Option<&Path>) -> Result<()> {
        let array = NpyArray::new(
            vec![self.len(), self.dim],
            NpyData::F32(self.values.clone()),
        )?;
        write_npy(values, &array)?;
        if let Some(path) = labels {
            let known = self.labels.as_ref().ok_or_else(|| {
                EmbedError::Shape(format!(
                    "{}: these embeddings carry no labels to write",
                    path.display()
                ))
            })?;
            let data = NpyData::I64(known.iter().map(|&l| i64::from(l)).collect());
            write_npy(path, &NpyArray::new(vec![known.len()], data)?)?;
        }
        Ok(())
    }
}

/// Reads a 1-d `.npy` array of non-negative integer labels (`u1`, `i4`, `i8`, or floats
/// holding whole numbers).
fn read_labels(path: &Path) -> Result<Vec<u32>> {
    let array = read_npy(path)?;
    if array.shape.len() != 1 {
        return Err(EmbedError::Shape(format!(
            "{}: labels of shape {:?}; expected a 1-d array",
            path.display(),
            array.shape
        )));
    }
    array
        .data
        .to_f64()
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(v as u32)
            } else {
                Err(EmbedError::Shape(format!(
                    "{}: label {i} is {v}, not a non-negative integer",
                    path.display()
                )))
            }
        })
        .collect()
}
