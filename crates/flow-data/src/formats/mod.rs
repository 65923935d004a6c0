//! Readers (and writers) for the file formats users keep image data and embeddings in.
//!
//! Every reader takes untrusted bytes: it returns a [`DataError`](crate::DataError) naming the
//! file and what is wrong, and never panics or allocates more than the input justifies.

pub mod cifar;
pub mod idx;
pub mod image_folder;
pub mod npy;
mod open;
