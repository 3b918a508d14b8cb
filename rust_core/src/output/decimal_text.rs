//! barter's decimals as the exact text `rust_decimal` writes (`Display`: every digit of the
//! scale, a `-` for any negative value including zero), without its digit-by-digit 96-bit
//! division. The batch writer and the Arrow text columns format two decimals per book level;
//! with `Display`, that formatting was most of the cursor's encoding time.

use rust_decimal::Decimal;

/// A mantissa has at most 29 digits (it is below 2^96); the scale is at most 28.
const MAX_DIGITS: usize = 29;
/// A sign, the digits (a leading `0` only when every digit is a fraction's, so never 30), a point.
pub(crate) const MAX_LEN: usize = 1 + MAX_DIGITS + 1;

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// One decimal's text, on the stack.
pub(crate) struct DecimalText {
    bytes: [u8; MAX_LEN],
    len: usize,
}

impl DecimalText {
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("a decimal's text is ASCII")
    }
}

/// `value.to_string()`, as `rust_decimal` writes it.
pub(crate) fn decimal_text(value: &Decimal) -> DecimalText {
    let scale = value.scale() as usize;
    let mut digits = [b'0'; MAX_DIGITS];
    let significant = write_digits(value.mantissa().unsigned_abs(), &mut digits);
    // Zeros pad the digits to the scale, and one more stands before the point when the scale
    // takes every digit; the buffer was filled with them.
    let shown = significant.max(scale + 1);
    let (whole, fraction) = digits[MAX_DIGITS - shown..].split_at(shown - scale);

    let mut text = DecimalText { bytes: [0; MAX_LEN], len: 0 };
    let mut push = |bytes: &[u8]| {
        text.bytes[text.len..text.len + bytes.len()].copy_from_slice(bytes);
        text.len += bytes.len();
    };
    if value.is_sign_negative() {
        push(b"-");
    }
    push(whole);
    if scale > 0 {
        push(b".");
        push(fraction);
    }
    text
}

/// Writes `mantissa`'s digits right-aligned into `digits`, returning how many (none for zero).
fn write_digits(mantissa: u128, digits: &mut [u8; MAX_DIGITS]) -> usize {
    const TEN_TO_19: u128 = 10_000_000_000_000_000_000;
    match u64::try_from(mantissa) {
        Ok(small) => write_u64(small, digits, MAX_DIGITS),
        Err(_) => {
            // Above u64: the low 19 digits in full, then the rest (below 2^96 / 10^19 < 2^33).
            let low = (mantissa % TEN_TO_19) as u64;
            let high = (mantissa / TEN_TO_19) as u64;
            let end = MAX_DIGITS - 19;
            write_u64(low, digits, MAX_DIGITS);
            19 + write_u64(high, digits, end)
        }
    }
}

/// Writes `value`'s digits ending before `end`, returning how many; zeros already in `digits`
/// stand for the leading zeros of a part written in full.
fn write_u64(mut value: u64, digits: &mut [u8], end: usize) -> usize {
    let mut at = end;
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else if value > 0 {
        at -= 1;
        digits[at] = b'0' + value as u8;
    }
    end - at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: Decimal) {
        assert_eq!(decimal_text(&value).as_str(), value.to_string(), "{value:?}");
    }

    #[test]
    fn matches_display_at_the_edges() {
        for text in [
            "0",
            "0.0",
            "0.00000000",
            "1",
            "-1",
            "0.1",
            "-0.1",
            "10",
            "100",
            "99",
            "9.9",
            "1.00",
            "96962.50",
            "0.0000000000000000000000000001",
            "-0.0000000000000000000000000001",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7.9228162514264337593543950335",
            "18446744073709551615",
            "18446744073709551616",
            "1844674407370955161.5",
            "10000000000000000000",
            "0.10000000000000000000",
        ] {
            check(text.parse().unwrap());
        }
        check(Decimal::MAX);
        check(Decimal::MIN);
        check(Decimal::from_parts(0, 0, 0, true, 0));
        check(Decimal::from_parts(0, 0, 0, true, 28));
        check(Decimal::from_parts(0, 0, 0, false, 28));
    }

    #[test]
    fn matches_display_for_every_width_and_scale() {
        // A xorshift walk over mantissas of every bit width (so of every digit count), each at
        // every scale and both signs.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for bits in 0..=96u32 {
            for _ in 0..20 {
                let wide = (u128::from(next()) << 64 | u128::from(next())) & ((1u128 << bits) - 1).max(1);
                let (lo, mid, hi) = (wide as u32, (wide >> 32) as u32, (wide >> 64) as u32);
                for scale in 0..=28 {
                    check(Decimal::from_parts(lo, mid, hi, false, scale));
                    check(Decimal::from_parts(lo, mid, hi, true, scale));
                }
            }
        }
    }
}
