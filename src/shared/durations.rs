//! Durations as people write them (flags: `10`, `2.5`, `90s`, `24h`) and read them
//! (`1.25s`, `3m`, `2h05m`).

use std::time::Duration;

/// Seconds between 0 and 3600, fractions allowed (`10`, `2.5`).
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err("expected seconds between 0 and 3600, e.g. 10 or 2.5".into()),
    }
}

/// Seconds above 0 and at most 3600: a time-out of zero would fail everything at once.
pub fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    match parse_secs(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("expected seconds above 0 and at most 3600, e.g. 300 or 2.5".into()),
    }
}

/// Whole seconds between 1 and 86400.
pub fn parse_secs_long(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<u64>() {
        Ok(v) if (1..=86_400).contains(&v) => Ok(Duration::from_secs(v)),
        _ => Err("expected whole seconds between 1 and 86400".into()),
    }
}

/// Milliseconds between 1 and 10000.
pub fn parse_millis(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<u64>() {
        Ok(v) if (1..=10_000).contains(&v) => Ok(Duration::from_millis(v)),
        _ => Err("expected milliseconds between 1 and 10000, e.g. 25".into()),
    }
}

/// `90s`, `15m`, `24h`, `2d` or plain seconds.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("expected a duration like 90s, 15m, 24h or 2d, got {s:?}"))?;
    let per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    // Beyond ~100 years the age no longer means anything (and would overflow a date).
    match n.checked_mul(per) {
        Some(secs) if secs <= 100 * 365 * 86400 => Ok(Duration::from_secs(secs)),
        _ => Err(format!("{s} is too long: at most 36500d")),
    }
}

/// An age for people: `45s`, `12m`, `3h05m`.
pub fn human(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A run or step time: `1.25s`.
pub fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_people_write_them() {
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_age("24h"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_age("2d"), Ok(Duration::from_secs(172800)));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("5y").is_err());
        assert!(parse_age("18446744073709551615d").is_err(), "no wrap-around");
        assert!(parse_age("36501d").is_err());
    }

    #[test]
    fn ages_print_for_people() {
        assert_eq!(human(chrono::Duration::seconds(45)), "45s");
        assert_eq!(human(chrono::Duration::seconds(720)), "12m");
        assert_eq!(human(chrono::Duration::seconds(3 * 3600 + 300)), "3h05m");
    }

    #[test]
    fn flag_seconds_refuse_nonsense() {
        assert_eq!(parse_secs("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["inf", "nan", "-1", "3601", "ten"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
        assert!(parse_millis("0").is_err());
        assert!(parse_positive_secs("0").is_err() && parse_positive_secs("0.5").is_ok());
        assert!(parse_secs_long("0").is_err());
    }
}
