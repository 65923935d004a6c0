//! Flows in embedding space (issue 7): the tabular flow, a feature extractor trained with
//! labels, embedding files in and out.
//!
//! Not implemented yet: this crate is an empty placeholder that keeps the workspace
//! layout of the design. Until it lands, a tabular flow can be built from flow-core
//! (`FlowConfig` with a `SingleScale` architecture over `MaskSchedule::tabular` and an
//! `Mlp` st-network on inputs of shape `[D, 1, 1]`), and `.npy` embeddings read with
//! `flow_data::formats::npy`.
