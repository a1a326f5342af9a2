//! CF time decoding and re-encoding for `cf:` selectors (what kerchunk does with cftime's
//! `num2date` / `date2num`).
//!
//! An instant is held as microseconds since a calendar-specific epoch (`i128`), so decoding
//! keeps microsecond precision, like cftime. Supported calendars: `standard`/`gregorian`
//! (Julian before 1582-10-15, Gregorian from then on), `proleptic_gregorian`, `julian`,
//! `noleap`/`365_day`, `all_leap`/`366_day` and `360_day`; units from microseconds to days.

use std::cmp::Ordering;

/// A CF calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    /// Mixed Julian/Gregorian (`standard`, `gregorian`).
    Standard,
    /// Gregorian rules for all dates.
    ProlepticGregorian,
    /// Julian rules for all dates.
    Julian,
    /// 365 days every year.
    NoLeap,
    /// 366 days every year.
    AllLeap,
    /// Twelve 30-day months.
    Day360,
}

impl Calendar {
    /// Parses a CF `calendar` attribute (case-insensitive).
    pub fn parse(s: &str) -> Option<Calendar> {
        Some(match s.to_ascii_lowercase().as_str() {
            "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "julian" => Calendar::Julian,
            "noleap" | "365_day" => Calendar::NoLeap,
            "all_leap" | "366_day" => Calendar::AllLeap,
            "360_day" => Calendar::Day360,
            _ => return None,
        })
    }
}

const US_PER_DAY: i128 = 86_400_000_000;

/// A calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (astronomical).
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
    /// Microseconds since midnight.
    pub time_us: i64,
}

/// Parsed CF units `"<unit> since <date>"` with a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfUnits {
    /// Microseconds per unit.
    pub unit_us: i128,
    /// The reference instant, microseconds since the calendar epoch.
    pub origin_us: i128,
    /// Calendar.
    pub calendar: Calendar,
}

fn is_greg_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_lengths(cal: Calendar, year: i64, after_reform: bool) -> [u32; 12] {
    let leap = match cal {
        Calendar::NoLeap => false,
        Calendar::AllLeap => true,
        Calendar::Day360 => return [30; 12],
        Calendar::Julian => year % 4 == 0,
        Calendar::ProlepticGregorian => is_greg_leap(year),
        Calendar::Standard => {
            if after_reform {
                is_greg_leap(year)
            } else {
                year % 4 == 0
            }
        }
    };
    [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
}

/// Julian day number of a Gregorian date.
fn jdn_gregorian(y: i64, m: u32, d: u32) -> i64 {
    let a = (14 - i64::from(m)) / 12;
    let yy = y + 4800 - a;
    let mm = i64::from(m) + 12 * a - 3;
    i64::from(d) + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - yy.div_euclid(100)
        + yy.div_euclid(400)
        - 32045
}

/// Julian day number of a Julian-calendar date.
fn jdn_julian(y: i64, m: u32, d: u32) -> i64 {
    let a = (14 - i64::from(m)) / 12;
    let yy = y + 4800 - a;
    let mm = i64::from(m) + 12 * a - 3;
    i64::from(d) + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - 32083
}

fn civil_from_jdn_gregorian(j: i64) -> (i64, u32, u32) {
    let a = j + 32044;
    let b = (4 * a + 3).div_euclid(146_097);
    let c = a - (146_097 * b).div_euclid(4);
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2).div_euclid(153);
    let day = e - (153 * m + 2).div_euclid(5) + 1;
    let month = m + 3 - 12 * m.div_euclid(10);
    let year = 100 * b + d - 4800 + m.div_euclid(10);
    (year, month as u32, day as u32)
}

fn civil_from_jdn_julian(j: i64) -> (i64, u32, u32) {
    let c = j + 32082;
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2).div_euclid(153);
    let day = e - (153 * m + 2).div_euclid(5) + 1;
    let month = m + 3 - 12 * m.div_euclid(10);
    let year = d - 4800 + m.div_euclid(10);
    (year, month as u32, day as u32)
}

const REFORM_JDN: i64 = 2_299_161; // 1582-10-15 Gregorian

/// Day number of a date in `cal` (epoch arbitrary but fixed per calendar).
fn day_number(cal: Calendar, y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || y.abs() > 1_000_000 {
        return None;
    }
    let after_reform = (y, m, d) >= (1582, 10, 15);
    let ml = month_lengths(cal, y, after_reform);
    if d > *ml.get(m as usize - 1)? {
        return None;
    }
    Some(match cal {
        Calendar::ProlepticGregorian => jdn_gregorian(y, m, d),
        Calendar::Julian => jdn_julian(y, m, d),
        Calendar::Standard => {
            if after_reform {
                jdn_gregorian(y, m, d)
            } else if (y, m, d) > (1582, 10, 4) {
                return None; // the ten days dropped by the reform
            } else {
                jdn_julian(y, m, d)
            }
        }
        Calendar::NoLeap | Calendar::AllLeap | Calendar::Day360 => {
            let per_year: i64 = ml.iter().map(|&x| i64::from(x)).sum();
            let before: i64 = ml.iter().take(m as usize - 1).map(|&x| i64::from(x)).sum();
            y * per_year + before + i64::from(d) - 1
        }
    })
}

fn civil_from_day_number(cal: Calendar, n: i64) -> (i64, u32, u32) {
    match cal {
        Calendar::ProlepticGregorian => civil_from_jdn_gregorian(n),
        Calendar::Julian => civil_from_jdn_julian(n),
        Calendar::Standard => {
            if n >= REFORM_JDN {
                civil_from_jdn_gregorian(n)
            } else {
                civil_from_jdn_julian(n)
            }
        }
        Calendar::NoLeap | Calendar::AllLeap | Calendar::Day360 => {
            let ml = month_lengths(cal, 0, true);
            let per_year: i64 = ml.iter().map(|&x| i64::from(x)).sum();
            let year = n.div_euclid(per_year);
            let mut rem = n.rem_euclid(per_year);
            let mut month = 1u32;
            for len in ml {
                if rem < i64::from(len) {
                    break;
                }
                rem -= i64::from(len);
                month += 1;
            }
            (year, month.min(12), (rem + 1) as u32)
        }
    }
}

/// Microseconds since the calendar epoch of a civil date-time.
pub fn to_instant(cal: Calendar, c: Civil) -> Option<i128> {
    let days = day_number(cal, c.year, c.month, c.day)?;
    Some(i128::from(days) * US_PER_DAY + i128::from(c.time_us))
}

/// The civil date-time of an instant.
pub fn to_civil(cal: Calendar, us: i128) -> Option<Civil> {
    let days = i64::try_from(us.div_euclid(US_PER_DAY)).ok()?;
    if days.abs() > 400_000_000 {
        return None;
    }
    let time_us = i64::try_from(us.rem_euclid(US_PER_DAY)).ok()?;
    let (year, month, day) = civil_from_day_number(cal, days);
    Some(Civil {
        year,
        month,
        day,
        time_us,
    })
}

fn unit_us(unit: &str) -> Option<i128> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "microseconds" | "microsecond" | "us" | "usec" | "usecs" => 1,
        "milliseconds" | "millisecond" | "ms" | "msec" | "msecs" => 1_000,
        "seconds" | "second" | "s" | "sec" | "secs" => 1_000_000,
        "minutes" | "minute" | "min" | "mins" => 60_000_000,
        "hours" | "hour" | "h" | "hr" | "hrs" => 3_600_000_000,
        "days" | "day" | "d" => US_PER_DAY,
        _ => return None,
    })
}

/// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|UTC|±HH[:MM]]`.
pub fn parse_datetime(s: &str) -> Option<Civil> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?.trim()),
        None => (s, ""),
    };
    let (neg, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next().unwrap_or("1").parse().ok()?;
    let day: u32 = parts.next().unwrap_or("1").parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let year = if neg { -year } else { year };
    // Time of day and an optional zone.
    let mut rest = rest;
    let mut offset_us: i64 = 0;
    for z in ["UTC", "Z"] {
        if let Some(r) = rest.strip_suffix(z) {
            rest = r.trim();
        }
    }
    if let Some(pos) = rest.rfind(['+', '-']) {
        if pos > 0 {
            let (t, zone) = rest.split_at(pos);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = zone.get(1..)?;
            let (zh, zm) = match zone.split_once(':') {
                Some((h, m)) => (h, m),
                None => (
                    zone.get(..zone.len().min(2))?,
                    zone.get(zone.len().min(2)..)?,
                ),
            };
            let zh: i64 = zh.parse().ok()?;
            let zm: i64 = if zm.is_empty() { 0 } else { zm.parse().ok()? };
            offset_us = sign * (zh * 3600 + zm * 60) * 1_000_000;
            rest = t.trim();
        }
    }
    let mut time_us: i64 = 0;
    if !rest.is_empty() {
        let mut hms = rest.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let m: i64 = hms.next().unwrap_or("0").parse().ok()?;
        let sec = hms.next().unwrap_or("0");
        if hms.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
        let whole: i64 = whole.parse().ok()?;
        if !(0..=60).contains(&whole) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut frac_us: i64 = 0;
        for (i, b) in frac.bytes().take(6).enumerate() {
            frac_us += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
        }
        time_us = ((h * 60 + m) * 60 + whole) * 1_000_000 + frac_us;
    }
    Some(Civil {
        year,
        month,
        day,
        time_us: time_us - offset_us,
    })
}

impl CfUnits {
    /// Parses CF `units` (`"days since 2000-01-01"`) with a calendar name.
    pub fn parse(units: &str, calendar: &str) -> Result<CfUnits, String> {
        let calendar = Calendar::parse(calendar)
            .ok_or_else(|| format!("unsupported calendar {calendar:?}"))?;
        let (unit, since) = units
            .split_once(" since ")
            .ok_or_else(|| format!("units {units:?} are not \"<unit> since <date>\""))?;
        let unit_us =
            unit_us(unit.trim()).ok_or_else(|| format!("unsupported time unit {unit:?}"))?;
        let civil = parse_datetime(since)
            .ok_or_else(|| format!("cannot parse reference date {since:?}"))?;
        let origin_us = to_instant(calendar, civil)
            .ok_or_else(|| format!("invalid reference date {since:?} in calendar {calendar:?}"))?;
        Ok(CfUnits {
            unit_us,
            origin_us,
            calendar,
        })
    }

    /// Decodes a number of units to an instant (rounded to the microsecond, as cftime).
    pub fn decode(&self, v: f64) -> Option<i128> {
        if !v.is_finite() {
            return None;
        }
        let us = (v * self.unit_us as f64).round();
        if us.abs() > 1e30 {
            return None;
        }
        self.origin_us.checked_add(us as i128)
    }

    /// Decodes an integer number of units exactly.
    pub fn decode_int(&self, v: i128) -> Option<i128> {
        self.origin_us.checked_add(v.checked_mul(self.unit_us)?)
    }

    /// Encodes an instant: `Ok(int)` when it is a whole number of units, else `Err(float)`.
    pub fn encode(&self, us: i128) -> Result<i64, f64> {
        let d = us - self.origin_us;
        if d % self.unit_us == 0 {
            if let Ok(v) = i64::try_from(d / self.unit_us) {
                return Ok(v);
            }
        }
        Err(d as f64 / self.unit_us as f64)
    }
}

/// Formats an instant as ISO 8601 (`YYYY-MM-DDTHH:MM:SS[.ffffff]`), as cftime's `isoformat`.
pub fn isoformat(cal: Calendar, us: i128) -> String {
    match to_civil(cal, us) {
        Some(c) => {
            let secs = c.time_us / 1_000_000;
            let frac = c.time_us % 1_000_000;
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                c.year,
                c.month,
                c.day,
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            );
            if frac == 0 {
                base
            } else {
                format!("{base}.{frac:06}")
            }
        }
        None => format!("<{us} us in {cal:?}>"),
    }
}

/// Orders two instants of the same calendar.
pub fn cmp_instants(a: (Calendar, i128), b: (Calendar, i128)) -> Option<Ordering> {
    (a.0 == b.0).then(|| a.1.cmp(&b.1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gregorian_round_trip_and_reform() {
        // 2000-01-01 is JDN 2451545 (a textbook value).
        assert_eq!(jdn_gregorian(2000, 1, 1), 2_451_545);
        assert_eq!(civil_from_jdn_gregorian(2_451_545), (2000, 1, 1));
        // The day before 1582-10-15 (Gregorian) in the standard calendar is 1582-10-04 (Julian).
        let u = CfUnits::parse("days since 1582-10-15", "standard").unwrap();
        let prev = u.decode(-1.0).unwrap();
        let c = to_civil(Calendar::Standard, prev).unwrap();
        assert_eq!((c.year, c.month, c.day), (1582, 10, 4));
        assert!(day_number(Calendar::Standard, 1582, 10, 10).is_none());
        for cal in [
            Calendar::Standard,
            Calendar::ProlepticGregorian,
            Calendar::Julian,
            Calendar::NoLeap,
            Calendar::AllLeap,
            Calendar::Day360,
        ] {
            for (y, m, d) in [(1, 1, 1), (1900, 2, 28), (2024, 12, 30), (-5, 3, 1)] {
                let n = day_number(cal, y, m, d).unwrap();
                assert_eq!(civil_from_day_number(cal, n), (y, m, d), "{cal:?}");
            }
        }
    }

    #[test]
    fn decode_encode() {
        let u = CfUnits::parse("seconds since 2010-01-01 00:00:00.000000", "standard").unwrap();
        let t = u.decode(86_400.5).unwrap();
        assert_eq!(
            isoformat(Calendar::Standard, t),
            "2010-01-02T00:00:00.500000"
        );
        let days = CfUnits::parse("days since 2010-01-01", "gregorian").unwrap();
        assert_eq!(days.encode(t), Err(1.0000057870370371));
        assert_eq!(days.encode(days.decode(3.0).unwrap()), Ok(3));
        // 360_day: 2000-02-30 exists.
        let d360 = CfUnits::parse("days since 2000-01-01", "360_day").unwrap();
        let c = to_civil(Calendar::Day360, d360.decode(59.0).unwrap()).unwrap();
        assert_eq!((c.month, c.day), (2, 30));
        assert!(CfUnits::parse("months since 2000-01-01", "standard").is_err());
        assert!(CfUnits::parse("days since 2000-01-01", "martian").is_err());
        assert!(CfUnits::parse("days after 2000", "standard").is_err());
        let z = CfUnits::parse("hours since 2000-01-01T06:00:00+06:00", "standard").unwrap();
        assert_eq!(z.origin_us, days_origin(2000, 1, 1));
        assert!(u.decode(f64::NAN).is_none());
    }

    fn days_origin(y: i64, m: u32, d: u32) -> i128 {
        to_instant(
            Calendar::Standard,
            Civil {
                year: y,
                month: m,
                day: d,
                time_us: 0,
            },
        )
        .unwrap()
    }
}
