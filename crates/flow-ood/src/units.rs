//! Information quantities with their unit in the type, so that bits and nats cannot be
//! added, subtracted or compared by mistake (a size in bits subtracted from a
//! log-likelihood in nats is off by a factor of `ln 2` and still looks plausible).
//!
//! ```
//! use flow_ood::units::{Bits, Nats};
//! let log_p = Nats(-1000.0);
//! let compressed = Bits(900.0);
//! let complexity: Bits = -log_p.to_bits() - compressed; // both in bits
//! assert!((complexity.value() - (1000.0 / std::f64::consts::LN_2 - 900.0)).abs() < 1e-9);
//! ```
//!
//! Mixing them does not compile:
//!
//! ```compile_fail
//! use flow_ood::units::{Bits, Nats};
//! let wrong = Nats(-1000.0) - Bits(900.0);
//! ```

use std::f64::consts::LN_2;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};

/// A quantity of information (or a log-probability) in nats: natural logarithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Nats(pub f64);

/// A quantity of information (or a log-probability) in bits: base-2 logarithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Bits(pub f64);

impl Nats {
    /// The number of nats.
    pub fn value(self) -> f64 {
        self.0
    }

    /// The same quantity in bits (divided by `ln 2`).
    pub fn to_bits(self) -> Bits {
        Bits(self.0 / LN_2)
    }
}

impl Bits {
    /// The number of bits.
    pub fn value(self) -> f64 {
        self.0
    }

    /// The same quantity in nats (multiplied by `ln 2`).
    pub fn to_nats(self) -> Nats {
        Nats(self.0 * LN_2)
    }

    /// The size of `bytes` bytes, in bits.
    pub fn from_bytes(bytes: usize) -> Self {
        Bits(8.0 * bytes as f64)
    }
}

macro_rules! same_unit_arithmetic {
    ($unit:ident) => {
        impl Add for $unit {
            type Output = $unit;
            fn add(self, other: $unit) -> $unit {
                $unit(self.0 + other.0)
            }
        }

        impl Sub for $unit {
            type Output = $unit;
            fn sub(self, other: $unit) -> $unit {
                $unit(self.0 - other.0)
            }
        }

        impl Neg for $unit {
            type Output = $unit;
            fn neg(self) -> $unit {
                $unit(-self.0)
            }
        }
    };
}

same_unit_arithmetic!(Nats);
same_unit_arithmetic!(Bits);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bit_is_ln_2_nats_and_back() {
        assert_eq!(Bits(1.0).to_nats(), Nats(LN_2));
        assert!((Nats(1.0).to_bits().value() - 1.0 / LN_2).abs() < 1e-15);
        let round_trip = Nats(-1234.5).to_bits().to_nats();
        assert!((round_trip.value() + 1234.5).abs() < 1e-9);
        assert_eq!(Bits::from_bytes(3), Bits(24.0));
    }

    #[test]
    fn arithmetic_stays_in_one_unit() {
        assert_eq!(Bits(5.0) - Bits(2.0), Bits(3.0));
        assert_eq!(Nats(1.0) + Nats(2.0), Nats(3.0));
        assert_eq!(-Bits(2.0), Bits(-2.0));
    }
}
