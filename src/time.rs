//! Times and durations: parsing and rendering of RFC 3339 instants and
//! duration literals, and the calendar helpers (`weekday`, `hour_of_day`,
//! `date`) of the language.
//!
//! An instant is an `i64` count of milliseconds since 1970-01-01T00:00:00Z
//! and a duration an `i64` count of milliseconds (LANGUAGE.md §14). Parsing
//! and formatting use exact integer calendar arithmetic of their own, so they
//! cover any `i64` and never depend on a time zone database; only the
//! calendar helpers with an explicit zone use `jiff` and its bundled tzdb.
//!
//! Errors never quote the input: times arrive from profiles, which hold
//! personal data, and error messages end up in logs.

use std::fmt::Write as _;

use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;

/// Milliseconds in a second.
const MS_PER_SECOND: i64 = 1_000;
/// Milliseconds in a minute.
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
/// Milliseconds in an hour.
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
/// Milliseconds in a day (a day is always 24 hours in the language).
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
/// Milliseconds in a week.
const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;

/// Duration units from largest to smallest; rendering picks the first that
/// divides exactly, so the order matters.
const UNITS: [(&str, i64); 6] = [
    ("w", MS_PER_WEEK),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MINUTE),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

/// Weekday names indexed from Monday.
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Why a time, duration or calendar computation failed.
///
/// Messages describe the expected form but never repeat the offending text
/// or zone name, which may be personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text is not an RFC 3339 date-time (seconds and offset required)
    /// or a bare `YYYY-MM-DD` date, or a field is out of range.
    #[error(
        "invalid time: expected an RFC 3339 date-time such as \
         2026-11-20T12:00:00Z or a date such as 2026-11-20"
    )]
    InvalidTime,
    /// The text is not an optional `-`, an integer and one unit of
    /// `ms s m h d w`.
    #[error(
        "invalid duration: expected an integer and a unit of ms, s, m, h, d or w, such as 90s"
    )]
    InvalidDuration,
    /// The duration is well formed but does not fit in 64-bit milliseconds.
    #[error("duration out of range")]
    DurationOverflow,
    /// The instant lies outside the range the time zone database supports
    /// (about years -9999 to 9999).
    #[error("time out of range for calendar computations")]
    OutOfRange,
    /// The zone is not an IANA time zone name known to the bundled database.
    #[error("unknown time zone")]
    UnknownZone,
}

// ---------------------------------------------------------------------------
// Civil calendar arithmetic (proleptic Gregorian)
// ---------------------------------------------------------------------------

/// Whether `year` is a Gregorian leap year.
fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
///
/// Exact for every year whose day count fits in i64; callers pass years
/// within 0000–9999, far inside that.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
///
/// `days` comes from an i64 of milliseconds divided by a day, so it is at
/// most about 1.07e11 in magnitude and none of the steps can overflow.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both casts are of values proven in range by the algorithm
    // (1..=31 and 1..=12).
    (year, month as u32, day as u32)
}

// ---------------------------------------------------------------------------
// Parsing instants
// ---------------------------------------------------------------------------

/// A cursor over ASCII bytes; every method fails rather than panicking at
/// the end of input.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), TimeError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(TimeError::InvalidTime)
        }
    }

    /// Reads exactly `count` ASCII digits as a number (count ≤ 4, so no
    /// overflow is possible).
    fn digits(&mut self, count: usize) -> Result<u32, TimeError> {
        let mut value = 0u32;
        for _ in 0..count {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(TimeError::InvalidTime),
            }
        }
        Ok(value)
    }
}

/// The first instant a time can hold: 0000-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = -62_167_219_200_000;
/// The last instant a time can hold: 9999-12-31T23:59:59.999Z.
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Whether an instant is within years 0000–9999, the times results can
/// write as `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (§14).
pub fn in_range(ms: i64) -> bool {
    (MIN_TIME_MS..=MAX_TIME_MS).contains(&ms)
}

/// Parses an instant: an RFC 3339 date-time or a bare date.
///
/// Accepted forms (LANGUAGE.md §14):
///
/// - `YYYY-MM-DD` followed by `T`, `t` or one space, then `HH:MM:SS`, an
///   optional fraction `.d…` (one or more digits) and a required offset `Z`,
///   `z` or `±HH:MM`;
/// - a bare date `YYYY-MM-DD`, meaning 00:00:00Z of that day.
///
/// Years are 0000–9999, and every field is range-checked (days against the
/// month, leap years included). A leap second (`:60`) is rejected: instants
/// are plain epoch milliseconds, which have no representation for it.
/// Fraction digits beyond milliseconds are dropped, which rounds the instant
/// toward negative infinity (also before 1970). No surrounding whitespace is
/// allowed; callers that want trimming do it themselves.
pub fn parse_time(text: &str) -> Result<i64, TimeError> {
    let mut cur = Cursor::new(text);
    let year = i64::from(cur.digits(4)?);
    cur.expect(b'-')?;
    let month = cur.digits(2)?;
    cur.expect(b'-')?;
    let day = cur.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(TimeError::InvalidTime);
    }
    let days = days_from_civil(year, month, day);
    if cur.at_end() {
        return Ok(days * MS_PER_DAY);
    }

    if !(cur.eat(b'T') || cur.eat(b't') || cur.eat(b' ')) {
        return Err(TimeError::InvalidTime);
    }
    let hour = cur.digits(2)?;
    cur.expect(b':')?;
    let minute = cur.digits(2)?;
    cur.expect(b':')?;
    let second = cur.digits(2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return Err(TimeError::InvalidTime);
    }

    let mut millis = 0u32;
    if cur.eat(b'.') {
        let mut count = 0usize;
        while let Some(b @ b'0'..=b'9') = cur.peek() {
            if count < 3 {
                millis = millis * 10 + u32::from(b - b'0');
            }
            count += 1;
            cur.pos += 1;
        }
        if count == 0 {
            return Err(TimeError::InvalidTime);
        }
        for _ in count..3 {
            millis *= 10;
        }
    }

    let offset_minutes: i64 = match cur.peek() {
        Some(b'Z' | b'z') => {
            cur.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            cur.pos += 1;
            let oh = cur.digits(2)?;
            cur.expect(b':')?;
            let om = cur.digits(2)?;
            if oh > 23 || om > 59 {
                return Err(TimeError::InvalidTime);
            }
            let total = i64::from(oh * 60 + om);
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(TimeError::InvalidTime),
    };
    if !cur.at_end() {
        return Err(TimeError::InvalidTime);
    }

    // Years 0000–9999 keep this within about ±3.2e14, far from overflow.
    let local = days * MS_PER_DAY
        + i64::from(hour) * MS_PER_HOUR
        + i64::from(minute) * MS_PER_MINUTE
        + i64::from(second) * MS_PER_SECOND
        + i64::from(millis);
    Ok(local - offset_minutes * MS_PER_MINUTE)
}

/// Renders an instant as `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (LANGUAGE.md §14);
/// the `.mmm` part appears only when the milliseconds are not zero.
///
/// Never panics. Instants outside years 0000–9999 (only reachable through
/// arithmetic or epoch milliseconds, since [`parse_time`] does not accept
/// them) use the ISO 8601 expanded-year form: a sign and at least four
/// digits, with astronomical year numbering (year 0 is 1 BC), e.g.
/// `+10000-01-01T00:00:00Z` or `-0001-12-31T23:59:59.999Z`. [`parse_time`]
/// does not read those back.
pub fn format_time(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let hour = in_day / MS_PER_HOUR;
    let minute = in_day % MS_PER_HOUR / MS_PER_MINUTE;
    let second = in_day % MS_PER_MINUTE / MS_PER_SECOND;
    let millis = in_day % MS_PER_SECOND;

    let mut out = String::with_capacity(24);
    // Writing to a String cannot fail, so the results are ignored.
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}")
    } else if year < 0 {
        write!(out, "-{:04}", year.unsigned_abs())
    } else {
        write!(out, "+{year:04}")
    };
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    );
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
    out.push('Z');
    out
}

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

/// Parses a duration literal: an optional `-`, one or more ASCII digits and
/// exactly one unit of `ms s m h d w` (`1d` is 24 hours, `1w` 7 days).
///
/// No `+`, whitespace, underscores or fractions are accepted; `-0s` is zero.
/// A value whose milliseconds do not fit in i64 is
/// [`TimeError::DurationOverflow`]; the full i64 range is reachable
/// (`-9223372036854775808ms`).
pub fn parse_duration(text: &str) -> Result<i64, TimeError> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits_end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .ok_or(TimeError::InvalidDuration)?;
    if digits_end == 0 {
        return Err(TimeError::InvalidDuration);
    }
    let (digits, unit) = rest.split_at(digits_end);
    let factor = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, factor)| factor)
        .ok_or(TimeError::InvalidDuration)?;

    // Accumulate on the negative side for negative values so that i64::MIN
    // milliseconds, whose magnitude has no positive i64, still parses.
    let mut count: i64 = 0;
    for b in digits.bytes() {
        let digit = i64::from(b - b'0');
        count = count
            .checked_mul(10)
            .and_then(|c| {
                if negative {
                    c.checked_sub(digit)
                } else {
                    c.checked_add(digit)
                }
            })
            .ok_or(TimeError::DurationOverflow)?;
    }
    count.checked_mul(factor).ok_or(TimeError::DurationOverflow)
}

/// Renders a duration as the shortest literal: the largest of
/// `w d h m s ms` that divides it exactly, with a leading `-` when negative
/// (`86400000` → `"1d"`, `90000` → `"90s"`, `-1500` → `"-1500ms"`).
///
/// Zero renders as `"0ms"`: every unit divides it, but the smallest unit
/// is chosen so that the text reads as "no time" rather than "zero weeks".
/// Never panics, including for `i64::MIN`.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0ms".to_owned();
    }
    for (name, factor) in UNITS {
        // `%` and `/` with a positive divisor cannot overflow, even for
        // i64::MIN.
        if ms % factor == 0 {
            return format!("{}{name}", ms / factor);
        }
    }
    // Unreachable in practice: the last unit has factor 1.
    format!("{ms}ms")
}

// ---------------------------------------------------------------------------
// Calendar helpers
// ---------------------------------------------------------------------------

/// Looks up an IANA zone in the tzdb bundled into the binary.
///
/// The bundled database is used rather than the system one so that results
/// are the same on every machine. It keeps its own global cache of parsed
/// zones, so repeated lookups are cheap and need no cache here. Jiff's
/// special `Etc/Unknown` zone is rejected: it is not a real place.
fn lookup_zone(name: &str) -> Result<TimeZone, TimeError> {
    if name.eq_ignore_ascii_case("etc/unknown") {
        return Err(TimeError::UnknownZone);
    }
    TimeZoneDatabase::bundled()
        .get(name)
        .map_err(|_| TimeError::UnknownZone)
}

/// The instant seen in `zone`, for the zone-aware helpers.
fn zoned(ms: i64, zone: &str) -> Result<jiff::Zoned, TimeError> {
    let tz = lookup_zone(zone)?;
    let ts = Timestamp::from_millisecond(ms).map_err(|_| TimeError::OutOfRange)?;
    Ok(ts.to_zoned(tz))
}

/// The weekday (`"mon"` … `"sun"`) of an instant, in the IANA zone `tz` or
/// in UTC without one.
///
/// Without a zone any i64 works; with one, an instant outside jiff's range
/// (about years -9999 to 9999) is [`TimeError::OutOfRange`].
pub fn weekday(ms: i64, tz: Option<&str>) -> Result<&'static str, TimeError> {
    let index = match tz {
        None => {
            // 1970-01-01 was a Thursday, index 3 counting from Monday.
            (ms.div_euclid(MS_PER_DAY) + 3).rem_euclid(7)
        }
        Some(zone) => i64::from(zoned(ms, zone)?.weekday().to_monday_zero_offset()),
    };
    usize::try_from(index)
        .ok()
        .and_then(|i| WEEKDAYS.get(i).copied())
        .ok_or(TimeError::OutOfRange)
}

/// The hour of the day (0–23) of an instant on the wall clock of `tz`, or
/// in UTC without a zone.
pub fn hour_of_day(ms: i64, tz: Option<&str>) -> Result<i64, TimeError> {
    match tz {
        None => Ok(ms.rem_euclid(MS_PER_DAY) / MS_PER_HOUR),
        Some(zone) => Ok(i64::from(zoned(ms, zone)?.hour())),
    }
}

/// The instant at which the local day containing `ms` began in `tz` (UTC
/// without a zone) — the language's `date(t)`.
///
/// In a zone whose clocks skip midnight on some day, the day begins at the
/// first instant that exists on it, as jiff defines. A day that began
/// before the earliest representable instant is [`TimeError::OutOfRange`].
pub fn start_of_day(ms: i64, tz: Option<&str>) -> Result<i64, TimeError> {
    match tz {
        // The day containing i64::MIN began before it, which no i64 holds.
        None => ms
            .checked_sub(ms.rem_euclid(MS_PER_DAY))
            .ok_or(TimeError::OutOfRange),
        Some(zone) => {
            let start = zoned(ms, zone)?
                .start_of_day()
                .map_err(|_| TimeError::OutOfRange)?;
            Ok(start.timestamp().as_millisecond())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> i64 {
        parse_time(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_basic_forms() {
        assert_eq!(t("1970-01-01T00:00:00Z"), 0);
        assert_eq!(t("1970-01-01"), 0);
        assert_eq!(t("2026-11-20T12:00:00Z"), 1_795_176_000_000);
        assert_eq!(t("2026-11-20"), 1_795_132_800_000);
        assert_eq!(t("2026-11-20t12:00:00z"), t("2026-11-20T12:00:00Z"));
        assert_eq!(t("2026-11-20 12:00:00Z"), t("2026-11-20T12:00:00Z"));
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(t("2026-11-20T17:30:00+05:30"), t("2026-11-20T12:00:00Z"));
        assert_eq!(t("2026-11-20T04:00:00-08:00"), t("2026-11-20T12:00:00Z"));
        assert_eq!(t("2026-11-20T12:00:00+00:00"), t("2026-11-20T12:00:00Z"));
        assert_eq!(t("2026-11-20T12:00:00-00:00"), t("2026-11-20T12:00:00Z"));
        assert_eq!(t("2026-01-01T00:00:00+23:59"), t("2025-12-31T00:01:00Z"));
    }

    #[test]
    fn parses_fractions_truncating() {
        assert_eq!(t("1970-01-01T00:00:00.5Z"), 500);
        assert_eq!(t("1970-01-01T00:00:00.05Z"), 50);
        assert_eq!(t("1970-01-01T00:00:00.123Z"), 123);
        assert_eq!(t("1970-01-01T00:00:00.123999999Z"), 123);
        assert_eq!(t("1970-01-01T00:00:00.0009Z"), 0);
        // Before 1970, dropping digits moves toward the earlier millisecond.
        assert_eq!(t("1969-12-31T23:59:59.9999Z"), -1);
        assert_eq!(t("1969-12-31T23:59:59.001Z"), -999);
        assert_eq!(t("1969-12-31T23:59:59.0019999Z"), -999);
    }

    #[test]
    fn parses_negative_epochs_and_extremes() {
        assert_eq!(t("1969-12-31T23:59:59Z"), -1_000);
        assert_eq!(t("1969-12-31"), -MS_PER_DAY);
        assert_eq!(t("1900-01-01T00:00:00Z"), -2_208_988_800_000);
        assert_eq!(t("0000-01-01T00:00:00Z"), -62_167_219_200_000);
        assert_eq!(t("9999-12-31T23:59:59.999Z"), 253_402_300_799_999);
        assert_eq!(
            t("0000-01-01T00:00:00+23:59"),
            -62_167_219_200_000 - 1_439 * 60_000
        );
        assert_eq!(
            t("9999-12-31T23:59:59-23:59"),
            253_402_300_799_000 + 1_439 * 60_000
        );
    }

    #[test]
    fn leap_years() {
        assert!(parse_time("2024-02-29").is_ok());
        assert!(parse_time("2000-02-29T00:00:00Z").is_ok());
        assert!(parse_time("0000-02-29").is_ok());
        assert_eq!(parse_time("2023-02-29"), Err(TimeError::InvalidTime));
        assert_eq!(parse_time("1900-02-29"), Err(TimeError::InvalidTime));
        assert_eq!(parse_time("2100-02-29"), Err(TimeError::InvalidTime));
        assert_eq!(t("2024-03-01") - t("2024-02-28"), 2 * MS_PER_DAY);
        assert_eq!(t("2023-03-01") - t("2023-02-28"), MS_PER_DAY);
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            " 2026-11-20",
            "2026-11-20 ",
            "2026-11-20T12:00:00",      // offset required
            "2026-11-20T12:00Z",        // seconds required
            "2026-11-20T12:00:00.Z",    // empty fraction
            "2026-11-20T12:00:00,5Z",   // comma fraction
            "2026-11-20T12:00:00+0530", // colon required
            "2026-11-20T12:00:00+05",
            "2026-11-20T12:00:00+24:00",
            "2026-11-20T12:00:00+05:60",
            "2026-11-20T12:00:00ZZ",
            "2026-11-20T12:00:00Z ",
            "2026-11-20  12:00:00Z",
            "2026-11-20x12:00:00Z",
            "2026-11-20T",
            "2026-13-01",
            "2026-00-01",
            "2026-01-00",
            "2026-04-31",
            "2026-01-32",
            "2026-11-20T24:00:00Z",
            "2026-11-20T23:60:00Z",
            "2026-11-20T23:59:60Z", // leap second
            "26-11-20",
            "2026-1-20",
            "+2026-11-20",
            "-0001-01-01",
            "10000-01-01",
            "2026/11/20",
            "2026-11-20T12:00:00\u{00e9}",
            "\u{0662}026-11-20",
            "2026-11-20T12:00:00.123",
        ] {
            assert_eq!(parse_time(bad), Err(TimeError::InvalidTime), "{bad:?}");
        }
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_795_176_000_000), "2026-11-20T12:00:00Z");
        assert_eq!(format_time(1_795_176_000_007), "2026-11-20T12:00:00.007Z");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_time(-1_000), "1969-12-31T23:59:59Z");
        assert_eq!(
            format_time(t("2024-02-29T23:59:59.5Z")),
            "2024-02-29T23:59:59.500Z"
        );
        assert_eq!(format_time(-62_167_219_200_000), "0000-01-01T00:00:00Z");
        assert_eq!(format_time(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn formats_out_of_range_years() {
        assert_eq!(format_time(253_402_300_800_000), "+10000-01-01T00:00:00Z");
        assert_eq!(
            format_time(-62_167_219_200_001),
            "-0001-12-31T23:59:59.999Z"
        );
        // Must not panic at the extremes.
        assert_eq!(format_time(i64::MAX), "+292278994-08-17T07:12:55.807Z");
        assert_eq!(format_time(i64::MIN), "-292275055-05-16T16:47:04.192Z");
    }

    #[test]
    fn format_parse_round_trip() {
        let mut ms = -62_167_219_200_000i64;
        while ms < 253_402_300_799_999 {
            assert_eq!(t(&format_time(ms)), ms, "{ms}");
            ms += 86_399_997_123; // odd step: visits many dates and times
        }
    }

    #[test]
    fn civil_round_trip_every_day() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("0ms"), Ok(0));
        assert_eq!(parse_duration("-0s"), Ok(0));
        assert_eq!(parse_duration("1500ms"), Ok(1_500));
        assert_eq!(parse_duration("90s"), Ok(90_000));
        assert_eq!(parse_duration("-90s"), Ok(-90_000));
        assert_eq!(parse_duration("30m"), Ok(1_800_000));
        assert_eq!(parse_duration("36h"), Ok(129_600_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert_eq!(parse_duration("1w"), Ok(604_800_000));
        assert_eq!(parse_duration("2w"), Ok(1_209_600_000));
        assert_eq!(parse_duration("007s"), Ok(7_000));
        assert_eq!(parse_duration("9223372036854775807ms"), Ok(i64::MAX));
        assert_eq!(parse_duration("-9223372036854775808ms"), Ok(i64::MIN));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "-",
            "ms",
            "-s",
            "10",
            "-10",
            "1.5h",
            "1 h",
            " 1h",
            "1h ",
            "+1h",
            "--1h",
            "1hh",
            "1H",
            "1y",
            "1mss",
            "1_000ms",
            "1h30m",
            "1\u{00b5}s",
            "\u{0661}h",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(TimeError::InvalidDuration),
                "{bad:?}"
            );
        }
        for big in [
            "9223372036854775808ms",
            "-9223372036854775809ms",
            "9223372036854776s",
            "15250284452472w",
            "99999999999999999999999ms",
        ] {
            assert_eq!(
                parse_duration(big),
                Err(TimeError::DurationOverflow),
                "{big:?}"
            );
        }
        // Largest whole weeks that fit.
        assert!(parse_duration("15250284452w").is_ok());
        assert_eq!(
            parse_duration("15250284453w"),
            Err(TimeError::DurationOverflow)
        );
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(0), "0ms");
        assert_eq!(format_duration(1_500), "1500ms");
        assert_eq!(format_duration(90_000), "90s");
        assert_eq!(format_duration(-90_000), "-90s");
        assert_eq!(format_duration(3_600_000), "1h");
        assert_eq!(format_duration(129_600_000), "36h");
        assert_eq!(format_duration(86_400_000), "1d");
        assert_eq!(format_duration(604_800_000), "1w");
        assert_eq!(format_duration(8 * 86_400_000), "8d");
        assert_eq!(format_duration(-1), "-1ms");
        assert_eq!(format_duration(i64::MIN), "-9223372036854775808ms");
        assert_eq!(format_duration(i64::MAX), "9223372036854775807ms");
    }

    #[test]
    fn duration_round_trip() {
        for ms in [
            0,
            1,
            -1,
            999,
            1_000,
            60_000,
            61_000,
            3_600_000,
            5_400_000,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(parse_duration(&format_duration(ms)), Ok(ms), "{ms}");
        }
        for text in ["1500ms", "90s", "-90s", "36h", "1d", "1w", "25h", "61m"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert_eq!(format_duration(parse_duration("7d").unwrap()), "1w");
        assert_eq!(format_duration(parse_duration("120s").unwrap()), "2m");
    }

    #[test]
    fn calendar_in_utc() {
        assert_eq!(weekday(0, None), Ok("thu"));
        assert_eq!(weekday(t("2026-11-20T12:00:00Z"), None), Ok("fri"));
        assert_eq!(weekday(t("2026-11-23T00:00:00Z"), None), Ok("mon"));
        assert_eq!(weekday(t("2026-11-22T23:59:59.999Z"), None), Ok("sun"));
        assert_eq!(weekday(-1, None), Ok("wed"));
        assert_eq!(weekday(t("2000-02-29"), None), Ok("tue"));
        assert_eq!(hour_of_day(t("2026-11-20T17:30:00Z"), None), Ok(17));
        assert_eq!(hour_of_day(-1, None), Ok(23));
        assert_eq!(
            start_of_day(t("2026-11-20T17:30:00Z"), None),
            Ok(t("2026-11-20"))
        );
        assert_eq!(start_of_day(-1, None), Ok(-MS_PER_DAY));
        // Any i64 works without a zone.
        for ms in [i64::MIN, i64::MAX] {
            assert!(weekday(ms, None).is_ok());
            assert!(hour_of_day(ms, None).is_ok());
        }
        assert_eq!(
            start_of_day(i64::MAX, None),
            Ok(i64::MAX - i64::MAX % MS_PER_DAY)
        );
        assert_eq!(start_of_day(i64::MIN, None), Err(TimeError::OutOfRange));
        let earliest_midnight = i64::MIN + (MS_PER_DAY - i64::MIN.rem_euclid(MS_PER_DAY));
        assert_eq!(start_of_day(earliest_midnight, None), Ok(earliest_midnight));
    }

    #[test]
    fn utc_zone_agrees_with_no_zone() {
        let mut ms = t("1900-01-01T00:00:00Z");
        while ms < t("2100-01-01T00:00:00Z") {
            assert_eq!(weekday(ms, Some("UTC")), weekday(ms, None));
            assert_eq!(hour_of_day(ms, Some("UTC")), hour_of_day(ms, None));
            assert_eq!(start_of_day(ms, Some("UTC")), start_of_day(ms, None));
            ms += 7_777_777_777;
        }
    }

    #[test]
    fn calendar_across_new_york_dst() {
        let ny = Some("America/New_York");
        // 2026-03-08: clocks jump from 02:00 EST (-05:00) to 03:00 EDT (-04:00).
        let before = t("2026-03-08T06:59:59Z"); // 01:59:59 EST
        let after = t("2026-03-08T07:00:00Z"); // 03:00:00 EDT
        assert_eq!(hour_of_day(before, ny), Ok(1));
        assert_eq!(hour_of_day(after, ny), Ok(3));
        assert_eq!(start_of_day(after, ny), Ok(t("2026-03-08T00:00:00-05:00")));
        assert_eq!(start_of_day(before, ny), start_of_day(after, ny));
        // The day has 23 hours.
        assert_eq!(
            start_of_day(t("2026-03-09T12:00:00Z"), ny).unwrap() - start_of_day(after, ny).unwrap(),
            23 * MS_PER_HOUR
        );
        // 2026-11-01: clocks fall back from 02:00 EDT to 01:00 EST; 01:xx twice.
        assert_eq!(hour_of_day(t("2026-11-01T05:30:00Z"), ny), Ok(1));
        assert_eq!(hour_of_day(t("2026-11-01T06:30:00Z"), ny), Ok(1));
        assert_eq!(hour_of_day(t("2026-11-01T07:30:00Z"), ny), Ok(2));
        assert_eq!(
            start_of_day(t("2026-11-01T20:00:00Z"), ny),
            Ok(t("2026-11-01T00:00:00-04:00"))
        );
        // Late evening local is the previous UTC day's weekday.
        assert_eq!(weekday(t("2026-11-21T03:00:00Z"), ny), Ok("fri"));
        assert_eq!(weekday(t("2026-11-21T03:00:00Z"), None), Ok("sat"));
        // Zone names are matched without regard to ASCII case.
        assert_eq!(hour_of_day(after, Some("america/new_york")), Ok(3));
    }

    #[test]
    fn calendar_in_kolkata() {
        let kol = Some("Asia/Kolkata");
        let ms = t("2026-11-20T20:00:00Z"); // 01:30 on the 21st in India
        assert_eq!(hour_of_day(ms, kol), Ok(1));
        assert_eq!(weekday(ms, kol), Ok("sat"));
        assert_eq!(start_of_day(ms, kol), Ok(t("2026-11-21T00:00:00+05:30")));
        assert_eq!(start_of_day(ms, kol), Ok(t("2026-11-20T18:30:00Z")));
    }

    #[test]
    fn calendar_before_1970_in_zone() {
        let ms = t("1950-06-15T12:00:00Z");
        assert_eq!(weekday(ms, Some("Europe/London")), Ok("thu"));
        assert_eq!(hour_of_day(ms, Some("Europe/London")), Ok(13));
    }

    #[test]
    fn unknown_zones() {
        for zone in [
            "",
            "Mars/Olympus",
            "Etc/Unknown",
            "../../etc/passwd",
            "America/New_York ",
            "+05:30",
        ] {
            assert_eq!(
                weekday(0, Some(zone)),
                Err(TimeError::UnknownZone),
                "{zone:?}"
            );
            assert_eq!(hour_of_day(0, Some(zone)), Err(TimeError::UnknownZone));
            assert_eq!(start_of_day(0, Some(zone)), Err(TimeError::UnknownZone));
        }
        let message = weekday(0, Some("Mars/Olympus")).unwrap_err().to_string();
        assert_eq!(message, "unknown time zone");
    }

    #[test]
    fn zone_calendar_out_of_range() {
        for ms in [i64::MIN, i64::MAX] {
            assert_eq!(weekday(ms, Some("UTC")), Err(TimeError::OutOfRange));
            assert_eq!(
                hour_of_day(ms, Some("Asia/Kolkata")),
                Err(TimeError::OutOfRange)
            );
            assert_eq!(
                start_of_day(ms, Some("Asia/Kolkata")),
                Err(TimeError::OutOfRange)
            );
        }
    }

    #[test]
    fn error_messages_do_not_quote_input() {
        let secret = "alice@example.com";
        for message in [
            parse_time(secret).unwrap_err().to_string(),
            parse_duration(secret).unwrap_err().to_string(),
            parse_duration("99999999999999999999w")
                .unwrap_err()
                .to_string(),
        ] {
            assert!(!message.contains("alice"));
            assert!(!message.contains("9999999"));
        }
    }

    #[test]
    fn mutated_inputs_never_panic() {
        // Every truncation and every single-character substitution of valid
        // texts must give a result or an error, never a panic.
        let replacements = [
            '0',
            '9',
            '-',
            '+',
            ':',
            '.',
            'T',
            ' ',
            'Z',
            'x',
            '\u{e9}',
            '\u{1F600}',
        ];
        for valid in [
            "2024-02-29T23:59:59.123456+05:30",
            "-9223372036854775808ms",
            "36h",
        ] {
            let chars: Vec<char> = valid.chars().collect();
            for end in 0..=chars.len() {
                let text: String = chars[..end].iter().collect();
                let _ = parse_time(&text);
                let _ = parse_duration(&text);
            }
            for i in 0..chars.len() {
                for r in replacements {
                    let mut mutated = chars.clone();
                    mutated[i] = r;
                    let text: String = mutated.iter().collect();
                    if let Ok(ms) = parse_time(&text) {
                        assert_eq!(parse_time(&format_time(ms)), Ok(ms), "{text:?}");
                    }
                    if let Ok(ms) = parse_duration(&text) {
                        assert_eq!(parse_duration(&format_duration(ms)), Ok(ms), "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn zone_lookup_is_cheap() {
        // The bundled database caches parsed zones; a warm lookup must be
        // fast enough to run per evaluation.
        let _ = hour_of_day(0, Some("Europe/Berlin"));
        let start = std::time::Instant::now();
        for i in 0..10_000 {
            let _ = hour_of_day(i, Some("Europe/Berlin"));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
