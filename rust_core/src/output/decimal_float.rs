//! Decimals as `f64`, exactly as `rust_decimal`'s `to_f64` makes them, faster.
//!
//! `Decimal::to_f64` splits the mantissa into whole and fractional parts with 128-bit division,
//! then rounds the sum at the decimal's scale. Prices and amounts have mantissas below 2^64 and
//! scales below 20, where 64-bit division gives the same parts, and `10f64.powi(scale)` is the
//! power of ten itself (exact in `f64` to 10^22): the same operations on the same values, so
//! the same bits (a test pins it against `to_f64`). Anything else goes to `to_f64` itself.

use crate::data_set::decimal_bounds::POW10_I128;
use rust_decimal::{prelude::ToPrimitive, Decimal};

/// `value.to_f64()`, bit for bit.
pub fn decimal_f64(value: &Decimal) -> f64 {
    let scale = value.scale() as usize;
    let mantissa = u64::try_from(value.mantissa().unsigned_abs());
    let (Ok(mantissa), 1..=19) = (mantissa, scale) else { return value.to_f64().unwrap_or(f64::NAN) };
    let precision = POW10_I128[scale] as u64;
    let (integral, fraction) = (mantissa / precision, mantissa % precision);
    let round_to = precision as f64;
    let fraction = fraction as f64 / round_to;
    let magnitude =
        if fraction == 0.0 { integral as f64 } else { ((integral as f64 + fraction) * round_to).round() / round_to };
    if value.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mantissas of every width up to 96 bits, every scale, both signs.
    fn samples() -> Vec<Decimal> {
        let mut values = Vec::new();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for bits in 1..=96u32 {
            for _ in 0..200 {
                let mantissa = ((u128::from(next()) << 64) | u128::from(next())) >> (128 - bits);
                let scale = (next() % 29) as u32;
                let value = Decimal::from_i128_with_scale(mantissa as i128, scale);
                values.extend([value, -value]);
            }
        }
        for text in ["0", "0.0", "-0.00", "96000.12345678", "0.00000001", "1e-28", "99999999999.99999999"] {
            values.push(text.parse().unwrap_or_else(|_| Decimal::from_scientific(text).unwrap()));
        }
        values
    }

    #[test]
    fn the_fast_conversion_is_to_f64_bit_for_bit() {
        for value in samples() {
            let expected = value.to_f64().unwrap();
            assert_eq!(decimal_f64(&value).to_bits(), expected.to_bits(), "{value} (scale {})", value.scale());
        }
    }
}
