//! Backend selection: the one module that names concrete backends.
//!
//! Backends are compiled in by cargo feature (`flex`, the default CPU backend; `ndarray`;
//! `wgpu`; `cuda`) and picked at run time by [`BackendKind`]. Everything else is written
//! once, generic over `B: FlowAutodiffBackend`, as a [`BackendJob`].

use flow_kernels::FlowAutodiffBackend;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A backend this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's flex CPU backend (multi-threaded, SIMD); the default.
    Flex,
    /// burn's ndarray CPU backend (slow convolution gradients; for cross-checks).
    Ndarray,
    /// burn's wgpu backend (Vulkan, Metal, DX12).
    Wgpu,
    /// burn's CUDA backend (NVIDIA GPUs).
    Cuda,
}

/// Every backend, in the order `--backend` lists them.
pub const ALL_BACKENDS: [BackendKind; 4] = [
    BackendKind::Flex,
    BackendKind::Ndarray,
    BackendKind::Wgpu,
    BackendKind::Cuda,
];

impl BackendKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// The cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build includes the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The backends this build includes.
    pub fn compiled() -> Vec<BackendKind> {
        ALL_BACKENDS
            .into_iter()
            .filter(|b| b.is_compiled())
            .collect()
    }

    /// The preferred backend of this build: flex if compiled in, else the first one.
    pub fn preferred() -> Option<BackendKind> {
        Self::compiled().into_iter().next()
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_BACKENDS
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| DeviceError::Unknown(s.to_string()))
    }
}

/// Why a backend cannot be used.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// A name that is no backend.
    #[error("unknown backend `{0}`: expected one of flex, ndarray, wgpu, cuda")]
    Unknown(String),
    /// A backend this build does not include.
    #[error(
        "backend `{kind}` is not compiled into this build (it has: {compiled}); rebuild with \
         `--features {feature}`, e.g. `cargo xtask --features {feature} ...` or \
         `cargo build -p xtask --features {feature}`"
    )]
    NotCompiled {
        /// The backend asked for.
        kind: BackendKind,
        /// Its cargo feature.
        feature: &'static str,
        /// What the build has.
        compiled: String,
    },
}

/// Work written once for any backend with autodiff.
pub trait BackendJob {
    /// What the job returns.
    type Output;

    /// Runs the job on backend `B` and `device`.
    fn run<B: FlowAutodiffBackend>(self, backend: BackendKind, device: B::Device) -> Self::Output;
}

/// Runs `job` on the backend `kind`, failing if this build does not include it.
pub fn run_job<J: BackendJob>(kind: BackendKind, job: J) -> Result<J::Output, DeviceError> {
    match kind {
        #[cfg(feature = "flex")]
        BackendKind::Flex => {
            Ok(job.run::<burn::backend::Autodiff<burn::backend::Flex>>(kind, Default::default()))
        }
        #[cfg(feature = "ndarray")]
        BackendKind::Ndarray => Ok(
            job.run::<burn::backend::Autodiff<burn::backend::NdArray>>(kind, Default::default())
        ),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => {
            Ok(job.run::<burn::backend::Autodiff<burn::backend::Wgpu>>(kind, Default::default()))
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            Ok(job.run::<burn::backend::Autodiff<burn::backend::Cuda>>(kind, Default::default()))
        }
        #[allow(unreachable_patterns)]
        other => Err(DeviceError::NotCompiled {
            kind: other,
            feature: other.feature(),
            compiled: BackendKind::compiled()
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for kind in ALL_BACKENDS {
            assert_eq!(kind.name().parse::<BackendKind>().unwrap(), kind);
        }
        assert!(matches!(
            "tpu".parse::<BackendKind>(),
            Err(DeviceError::Unknown(_))
        ));
    }

    #[test]
    fn a_backend_missing_from_the_build_is_a_clear_error() {
        struct Name;
        impl BackendJob for Name {
            type Output = String;
            fn run<B: FlowAutodiffBackend>(self, _: BackendKind, device: B::Device) -> String {
                format!("{device:?}")
            }
        }
        for kind in ALL_BACKENDS {
            let result = run_job(kind, Name);
            if kind.is_compiled() {
                assert!(result.is_ok());
            } else {
                let message = result.unwrap_err().to_string();
                assert!(message.contains(kind.feature()), "{message}");
            }
        }
    }
}
