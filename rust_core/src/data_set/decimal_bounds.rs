//! What an export must know about a decimal column before its first batch: the largest scale
//! (decimal128's scale for the column) and whether every value fits 38 digits at it.
//!
//! Gathered for L1's and L2's columns in the same walk that indexes the events by kind, and kept
//! with that index, so that neither the schema call nor any of the streams after it reads every
//! level again.

use rust_decimal::Decimal;

/// Decimal128's largest precision: barter's decimals are written at it.
pub(crate) const DECIMAL128_PRECISION: u8 = 38;

/// 10^0 to 10^28: what rescales a decimal to its column's scale (rust_decimal's scales are at
/// most 28).
pub const POW10_I128: [i128; 29] = {
    let mut powers = [1i128; 29];
    let mut exponent = 1;
    while exponent < powers.len() {
        powers[exponent] = powers[exponent - 1] * 10;
        exponent += 1;
    }
    powers
};

/// A decimal column's largest and smallest scale and largest mantissa: cheap to gather, and
/// enough to show that every value fits decimal128 at the largest scale in nearly all data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalBounds {
    pub scale: u32,
    smallest_scale: u32,
    largest_mantissa: u128,
}

impl Default for DecimalBounds {
    fn default() -> Self {
        Self { scale: 0, smallest_scale: u32::MAX, largest_mantissa: 0 }
    }
}

impl DecimalBounds {
    pub fn include(&mut self, value: &Decimal) {
        self.scale = self.scale.max(value.scale());
        self.smallest_scale = self.smallest_scale.min(value.scale());
        self.largest_mantissa = self.largest_mantissa.max(value.mantissa().unsigned_abs());
    }

    /// The bounds of both columns' values together.
    pub fn merge(self, other: Self) -> Self {
        Self {
            scale: self.scale.max(other.scale),
            smallest_scale: self.smallest_scale.min(other.smallest_scale),
            largest_mantissa: self.largest_mantissa.max(other.largest_mantissa),
        }
    }

    /// No value has more integer digits than the largest mantissa at the smallest scale.
    pub fn surely_fits(&self) -> bool {
        self.integer_digits() + i64::from(self.scale) <= i64::from(DECIMAL128_PRECISION)
    }

    /// At least as many digits as any value has before its decimal point (the largest mantissa's
    /// at the smallest scale).
    pub fn integer_digits(&self) -> i64 {
        (digits(self.largest_mantissa) - i64::from(self.smallest_scale.min(self.scale))).max(0)
    }
}

/// Decimal digits of `value` (1 for 0).
pub fn digits(value: u128) -> i64 {
    value.checked_ilog10().map_or(1, |log| i64::from(log) + 1)
}
