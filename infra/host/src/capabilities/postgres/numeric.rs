//! Postgres NUMERIC in its binary form (base-10000 digits), converted to and
//! from the decimal strings of Spin's WIT exactly: every precision Postgres
//! stores (up to 131072 digits before the point, 16383 after), plus `NaN`
//! and `±Infinity`. Spin goes through `rust_decimal`, which stops at 28
//! significant digits.

use bytes::{BufMut, BytesMut};

const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PLUS_INFINITY: u16 = 0xD000;
const MINUS_INFINITY: u16 = 0xF000;
/// Postgres' largest display scale.
const MAX_DSCALE: i64 = 0x3FFF;
/// Bounds a decimal exponent so `1e999999999` cannot allocate gigabytes.
const MAX_EXPONENT: i64 = 200_000;

/// The text Postgres would print for a binary NUMERIC.
pub fn decode(mut raw: &[u8]) -> Result<String, String> {
    let mut next = || -> Result<u16, String> {
        let (head, rest) = raw
            .split_first_chunk::<2>()
            .ok_or_else(|| "truncated numeric".to_owned())?;
        raw = rest;
        Ok(u16::from_be_bytes(*head))
    };
    let ndigits = next()? as i16;
    let weight = next()? as i16;
    let sign = next()?;
    let dscale = next()?;
    match sign {
        NAN => return Ok("NaN".into()),
        PLUS_INFINITY => return Ok("Infinity".into()),
        MINUS_INFINITY => return Ok("-Infinity".into()),
        POSITIVE | NEGATIVE => {}
        other => return Err(format!("invalid numeric sign {other:#x}")),
    }
    let ndigits = usize::try_from(ndigits).map_err(|_| "invalid numeric length")?;
    let mut digits = Vec::with_capacity(ndigits);
    for _ in 0..ndigits {
        let digit = next()?;
        if digit > 9999 {
            return Err("invalid numeric digit".into());
        }
        digits.push(digit);
    }
    let digit_at = |index: i64| -> u16 {
        usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let weight = i64::from(weight);
    let mut out = String::with_capacity(ndigits * 4 + usize::from(dscale) + 3);
    if sign == NEGATIVE {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for index in 0..=weight {
            let digit = digit_at(index);
            if index == 0 {
                out.push_str(&digit.to_string());
            } else {
                out.push_str(&format!("{digit:04}"));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut index = weight + 1;
        while out.len() - start < usize::from(dscale) {
            out.push_str(&format!("{:04}", digit_at(index)));
            index += 1;
        }
        out.truncate(start + usize::from(dscale));
    }
    Ok(out)
}

/// Writes `text` (`-12.340`, `1.5e-3`, `NaN`, `Infinity`, ...) as a binary
/// NUMERIC.
pub fn encode(text: &str, out: &mut BytesMut) -> Result<(), String> {
    let invalid = || format!("invalid decimal {text:?}");
    let trimmed = text.trim();
    let special = match trimmed.to_ascii_lowercase().as_str() {
        "nan" => Some(NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => Some(PLUS_INFINITY),
        "-infinity" | "-inf" => Some(MINUS_INFINITY),
        _ => None,
    };
    if let Some(sign) = special {
        out.put_u16(0);
        out.put_u16(0);
        out.put_u16(sign);
        out.put_u16(0);
        return Ok(());
    }

    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => {
            let exponent: i64 = unsigned[at + 1..].parse().map_err(|_| invalid())?;
            if exponent.abs() > MAX_EXPONENT {
                return Err(invalid());
            }
            (&unsigned[..at], exponent)
        }
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(invalid());
    }

    // The value is `digits` × 10^(point - digits.len()): `point` is where the
    // decimal point falls in `digits` (may be outside it).
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    let mut point = int_part.len() as i64 + exponent;
    let dscale = (frac_part.len() as i64 - exponent).max(0);
    if dscale > MAX_DSCALE {
        return Err(format!(
            "decimal {text:?} has more than {MAX_DSCALE} digits after the point"
        ));
    }
    // Align the point on a base-10000 group boundary, then pad the end.
    let lead = (4 - point.rem_euclid(4)) % 4;
    for _ in 0..lead {
        digits.insert(0, 0);
    }
    point += lead;
    while !digits.len().is_multiple_of(4) {
        digits.push(0);
    }
    let mut groups: Vec<u16> = digits
        .chunks(4)
        .map(|c| c.iter().fold(0u16, |acc, d| acc * 10 + u16::from(*d)))
        .collect();
    let mut weight = point / 4 - 1;
    // Strip zero groups at both ends (a leading group has the highest weight).
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= leading as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let (weight, sign) = if groups.is_empty() {
        (0, POSITIVE)
    } else {
        (weight, if negative { NEGATIVE } else { POSITIVE })
    };
    let weight = i16::try_from(weight).map_err(|_| format!("decimal {text:?} is out of range"))?;
    let ndigits =
        i16::try_from(groups.len()).map_err(|_| format!("decimal {text:?} is out of range"))?;
    out.reserve(8 + groups.len() * 2);
    out.put_i16(ndigits);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(dscale as u16);
    for group in groups {
        out.put_u16(group);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut buf = BytesMut::new();
        encode(text, &mut buf).unwrap();
        decode(&buf).unwrap()
    }

    fn binary(text: &str) -> Vec<u16> {
        let mut buf = BytesMut::new();
        encode(text, &mut buf).unwrap();
        buf.chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn binary_layout_matches_postgres() {
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(binary("0"), [0, 0, 0, 0]);
        assert_eq!(binary("1"), [1, 0, 0, 0, 1]);
        assert_eq!(binary("10000"), [1, 1, 0, 0, 1]);
        assert_eq!(binary("12345.678"), [3, 1, 0, 3, 1, 2345, 6780]);
        assert_eq!(binary("-0.00001"), [1, (-2i16) as u16, NEGATIVE, 5, 1000]);
        assert_eq!(binary("1.50"), [2, 0, 0, 2, 1, 5000]);
        assert_eq!(binary("NaN"), [0, 0, NAN, 0]);
    }

    #[test]
    fn canonical_text() {
        assert_eq!(round_trip("0"), "0");
        assert_eq!(round_trip("0.000"), "0.000");
        assert_eq!(round_trip("-0.0"), "0.0");
        assert_eq!(round_trip("+42"), "42");
        assert_eq!(round_trip("1.50"), "1.50");
        assert_eq!(round_trip(".5"), "0.5");
        assert_eq!(round_trip("5."), "5");
        assert_eq!(round_trip("1e3"), "1000");
        assert_eq!(round_trip("1.5E-3"), "0.0015");
        assert_eq!(round_trip("-123456789.000000001"), "-123456789.000000001");
        assert_eq!(round_trip("100000000"), "100000000");
        assert_eq!(round_trip("0.00010000"), "0.00010000");
        assert_eq!(round_trip(" 7 "), "7");
        assert_eq!(round_trip("nan"), "NaN");
        assert_eq!(round_trip("Infinity"), "Infinity");
        assert_eq!(round_trip("-inf"), "-Infinity");
    }

    #[test]
    fn high_precision_is_exact() {
        let long = format!("{}.{}", "9".repeat(1000), "1234567890".repeat(100));
        assert_eq!(round_trip(&long), long);
        let tiny = format!("-0.{}1", "0".repeat(16_000));
        assert_eq!(round_trip(&tiny), tiny);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "abc",
            "1e",
            "1e99999999",
            "0x10",
            "1,5",
            "--1",
        ] {
            assert!(encode(bad, &mut BytesMut::new()).is_err(), "{bad:?}");
        }
        let too_fine = format!("0.{}1", "0".repeat(17_000));
        assert!(encode(&too_fine, &mut BytesMut::new()).is_err());
        assert!(decode(&[0, 1]).is_err());
    }
}
