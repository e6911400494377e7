//! Dates and times between Spin's WIT tuples and Postgres' binary format,
//! with our own calendar arithmetic so the whole Postgres range (4713 BC to
//! 5874897 AD) round-trips, where chrono stops at ±262143.
//!
//! Postgres counts days and microseconds from 2000-01-01 (proleptic
//! Gregorian, year 0 = 1 BC, as in the WIT tuples and chrono). Nanoseconds
//! beyond the microsecond are truncated, as chrono does.

/// Days from 1970-01-01 to Postgres' epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

pub type WitDate = (i32, u8, u8);
pub type WitTime = (u8, u8, u8, u32);
pub type WitDatetime = (i32, u8, u8, u8, u8, u8, u32);

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn check_date((year, month, day): WitDate) -> Result<i64, String> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return Err(format!("invalid date {year}-{month:02}-{day:02}"));
    }
    Ok(days_from_civil(i64::from(year), month, day) - PG_EPOCH_DAYS)
}

fn time_micros((hour, minute, second, nanos): WitTime) -> Result<i64, String> {
    let valid = (hour < 24 && minute < 60 && second < 60 && nanos < 1_000_000_000)
        || (hour, minute, second, nanos) == (24, 0, 0, 0);
    if !valid {
        return Err(format!(
            "invalid time {hour:02}:{minute:02}:{second:02}.{nanos:09}"
        ));
    }
    Ok(
        ((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second)) * 1_000_000
            + i64::from(nanos / 1000),
    )
}

/// A WIT date as Postgres' days since 2000-01-01.
pub fn date_to_pg(date: WitDate) -> Result<i32, String> {
    i32::try_from(check_date(date)?).map_err(|_| format!("date {date:?} is out of range"))
}

pub fn date_from_pg(days: i32) -> Result<WitDate, String> {
    if days == i32::MAX || days == i32::MIN {
        return Err("infinite dates have no WIT representation".into());
    }
    let (year, month, day) = civil_from_days(i64::from(days) + PG_EPOCH_DAYS);
    Ok((year as i32, month, day))
}

/// A WIT time as Postgres' microseconds since midnight.
pub fn time_to_pg(time: WitTime) -> Result<i64, String> {
    time_micros(time)
}

pub fn time_from_pg(micros: i64) -> Result<WitTime, String> {
    if !(0..=MICROS_PER_DAY).contains(&micros) {
        return Err(format!("time of day {micros} µs is out of range"));
    }
    let seconds = micros / 1_000_000;
    Ok((
        (seconds / 3600) as u8,
        (seconds / 60 % 60) as u8,
        (seconds % 60) as u8,
        (micros % 1_000_000) as u32 * 1000,
    ))
}

/// A WIT date-time (UTC) as Postgres' microseconds since 2000-01-01.
pub fn datetime_to_pg(
    (year, month, day, hour, minute, second, nanos): WitDatetime,
) -> Result<i64, String> {
    let days = check_date((year, month, day))?;
    let time = time_micros((hour, minute, second, nanos))?;
    if hour == 24 {
        return Err("invalid time 24:00:00 in a date-time".into());
    }
    days.checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(time))
        .filter(|t| *t != i64::MAX && *t != i64::MIN)
        .ok_or_else(|| format!("date-time in year {year} is out of range"))
}

pub fn datetime_from_pg(micros: i64) -> Result<WitDatetime, String> {
    if micros == i64::MAX || micros == i64::MIN {
        return Err("infinite timestamps have no WIT representation".into());
    }
    let days = micros.div_euclid(MICROS_PER_DAY);
    let (hour, minute, second, nanos) = time_from_pg(micros.rem_euclid(MICROS_PER_DAY))?;
    let (year, month, day) = civil_from_days(days + PG_EPOCH_DAYS);
    let year = i32::try_from(year).map_err(|_| "timestamp is out of range".to_owned())?;
    Ok((year, month, day, hour, minute, second, nanos))
}

/// Seconds since the Unix epoch as Postgres' microseconds since 2000-01-01.
pub fn unix_seconds_to_pg(seconds: i64) -> Result<i64, String> {
    seconds
        .checked_sub(PG_EPOCH_DAYS * 86_400)
        .and_then(|s| s.checked_mul(1_000_000))
        .ok_or_else(|| format!("timestamp {seconds} s is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_a_wide_range() {
        for days in (-3_000_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), PG_EPOCH_DAYS);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn dates() {
        assert_eq!(date_to_pg((2000, 1, 1)), Ok(0));
        assert_eq!(date_to_pg((1999, 12, 31)), Ok(-1));
        assert_eq!(date_from_pg(0), Ok((2000, 1, 1)));
        assert_eq!(
            date_to_pg((2024, 2, 29)).and_then(date_from_pg),
            Ok((2024, 2, 29))
        );
        assert!(date_to_pg((2023, 2, 29)).is_err());
        assert!(date_to_pg((2023, 13, 1)).is_err());
        assert!(date_to_pg((2023, 0, 1)).is_err());
        // Postgres' extremes: 4713 BC (year -4712) and 5874897 AD.
        for date in [(-4712, 1, 1), (5_874_897, 12, 31), (0, 2, 29)] {
            assert_eq!(date_to_pg(date).and_then(date_from_pg), Ok(date));
        }
        assert!(date_to_pg((i32::MAX, 1, 1)).is_err());
        assert!(date_from_pg(i32::MAX).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(time_to_pg((0, 0, 0, 0)), Ok(0));
        assert_eq!(
            time_to_pg((23, 59, 59, 999_999_999)),
            Ok(MICROS_PER_DAY - 1)
        );
        assert_eq!(
            time_from_pg(MICROS_PER_DAY - 1),
            Ok((23, 59, 59, 999_999_000))
        );
        assert_eq!(time_to_pg((24, 0, 0, 0)), Ok(MICROS_PER_DAY));
        assert_eq!(time_from_pg(MICROS_PER_DAY), Ok((24, 0, 0, 0)));
        assert!(time_to_pg((24, 0, 0, 1)).is_err());
        assert!(time_to_pg((12, 60, 0, 0)).is_err());
        assert!(time_to_pg((12, 0, 0, 1_000_000_000)).is_err());
    }

    #[test]
    fn datetimes() {
        let dt = (2024, 5, 17, 13, 45, 30, 123_456_000);
        assert_eq!(datetime_to_pg(dt).and_then(datetime_from_pg), Ok(dt));
        let before = (1969, 12, 31, 23, 59, 59, 999_999_000);
        assert_eq!(
            datetime_to_pg(before).and_then(datetime_from_pg),
            Ok(before)
        );
        let far = (294_276, 12, 31, 23, 59, 59, 999_999_000);
        assert_eq!(datetime_to_pg(far).and_then(datetime_from_pg), Ok(far));
        let old = (-4712, 1, 1, 0, 0, 0, 0);
        assert_eq!(datetime_to_pg(old).and_then(datetime_from_pg), Ok(old));
        assert!(datetime_to_pg((300_000, 1, 1, 0, 0, 0, 0)).is_err());
        assert!(datetime_from_pg(i64::MAX).is_err());
        assert_eq!(unix_seconds_to_pg(946_684_800), Ok(0));
        assert_eq!(
            unix_seconds_to_pg(0).and_then(datetime_from_pg),
            Ok((1970, 1, 1, 0, 0, 0, 0))
        );
    }
}
