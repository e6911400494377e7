//! The two value syntaxes of the config, shared with nginx: rates ("30r/s",
//! "5r/m") and sizes ("1m", "64k", "512").

use std::fmt;

/// The unit of a [`Rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    PerSecond,
    PerMinute,
}

/// A request rate, as nginx's `rate=` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub unit: RateUnit,
}

/// Rates above this are refused (nginx keeps them as milli-requests in a machine word).
const MAX_REQUESTS: u32 = 1_000_000;

impl Rate {
    /// Parses `"<n>r/s"` or `"<n>r/m"` with 1 <= n <= 1,000,000.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected =
            || format!("invalid rate {text:?}: expected \"<n>r/s\" or \"<n>r/m\", e.g. \"30r/s\"");
        let (digits, unit) = if let Some(digits) = text.strip_suffix("r/s") {
            (digits, RateUnit::PerSecond)
        } else if let Some(digits) = text.strip_suffix("r/m") {
            (digits, RateUnit::PerMinute)
        } else {
            return Err(expected());
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(expected());
        }
        match digits.parse::<u32>() {
            Ok(requests) if (1..=MAX_REQUESTS).contains(&requests) => Ok(Rate { requests, unit }),
            _ => Err(format!(
                "invalid rate {text:?}: the count must be between 1 and {MAX_REQUESTS}"
            )),
        }
    }

    /// The rate in thousandths of a request per second, truncated exactly as
    /// nginx does (`5r/m` is 83, not 83.33): the limiter works in these units.
    pub fn millis_per_second(self) -> u64 {
        let scale = match self.unit {
            RateUnit::PerSecond => 1,
            RateUnit::PerMinute => 60,
        };
        u64::from(self.requests) * 1000 / scale
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            RateUnit::PerSecond => "r/s",
            RateUnit::PerMinute => "r/m",
        };
        write!(f, "{}{unit}", self.requests)
    }
}

/// A size in bytes. Displayed in the shortest nginx syntax (`m`, `k` or plain
/// bytes; never `g`, which some nginx directives do not accept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

impl Size {
    /// Parses `"<n>"`, `"<n>k"`, `"<n>m"` or `"<n>g"` (either case, binary units).
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid =
            || format!("invalid size {text:?}: expected bytes or <n>k, <n>m, <n>g, e.g. \"10m\"");
        let (digits, scale) = match text.as_bytes().last() {
            Some(b'k' | b'K') => (&text[..text.len() - 1], KIB),
            Some(b'm' | b'M') => (&text[..text.len() - 1], MIB),
            Some(b'g' | b'G') => (&text[..text.len() - 1], GIB),
            _ => (text, 1),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .filter(|&bytes| bytes <= i64::MAX as u64)
            .map(Size)
            .ok_or_else(|| format!("invalid size {text:?}: too large"))
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => write!(f, "0"),
            n if n % MIB == 0 => write!(f, "{}m", n / MIB),
            n if n % KIB == 0 => write!(f, "{}k", n / KIB),
            n => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_convert_like_nginx() {
        let api = Rate::parse("30r/s").unwrap();
        assert_eq!(api.millis_per_second(), 30_000);
        assert_eq!(api.to_string(), "30r/s");
        let auth = Rate::parse("5r/m").unwrap();
        assert_eq!(auth.millis_per_second(), 83);
        assert_eq!(auth.to_string(), "5r/m");
        assert_eq!(Rate::parse("1r/m").unwrap().millis_per_second(), 16);
    }

    #[test]
    fn bad_rates_are_refused() {
        for text in [
            "",
            "r/s",
            "30",
            "30r/h",
            "-1r/s",
            "0r/s",
            "3.5r/s",
            " 30r/s",
            "2000000r/s",
        ] {
            assert!(Rate::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn sizes_parse_and_display() {
        assert_eq!(Size::parse("512").unwrap(), Size(512));
        assert_eq!(Size::parse("64k").unwrap(), Size(64 * 1024));
        assert_eq!(Size::parse("10M").unwrap(), Size(10 * 1024 * 1024));
        assert_eq!(Size::parse("1g").unwrap(), Size(1 << 30));
        assert_eq!(Size(1 << 30).to_string(), "1024m");
        assert_eq!(Size(25 << 20).to_string(), "25m");
        assert_eq!(Size(1536).to_string(), "1536");
        assert_eq!(Size(2048).to_string(), "2k");
        assert_eq!(Size(1000).to_string(), "1000");
        for text in ["", "k", "1.5m", "10mb", "-1", "1 m", "99999999999999999999"] {
            assert!(Size::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
