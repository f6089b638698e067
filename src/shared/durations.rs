//! Durations as people write them (flags: `10`, `2.5`, `90s`, `24h`) and read them
//! (`1.25s`, `3m`, `2h05m`).

use std::time::Duration;

/// The one grammar of every duration flag: a number, whole or with a fraction, and a unit
/// (`ms`, `s`, `m`, `h`, `d`); a bare number is in the flag's own unit (`bare`), so
/// `--max-wait 10`, `--max-wait 1.5m`, `--command-timeout 30m` and `--bake 90` all read as
/// people write them. `what` says the flag's range for the message.
fn parse_in(s: &str, bare: f64, min: Duration, max: Duration, what: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let example = "e.g. 10, 2.5, 250ms, 90s, 15m, 24h or 2d";
    let n: f64 = match num.parse::<f64>() {
        Ok(n) if n.is_finite() && !num.is_empty() => n,
        _ => return Err(format!("expected {what}, {example}; got {s:?}")),
    };
    let per = match unit {
        "" => bare,
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m, h or d ({example})")),
    };
    let secs = n * per;
    if secs > max.as_secs_f64() {
        return Err(format!("{s} is too long: expected {what}"));
    }
    if secs < min.as_secs_f64() {
        return Err(format!("{s} is too short: expected {what}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

const HOUR: Duration = Duration::from_secs(3600);

/// Seconds between 0 and an hour (`10`, `2.5`, `90s`, `2m`).
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    parse_in(s, 1.0, Duration::ZERO, HOUR, "seconds between 0 and 3600")
}

/// Above 0 and at most an hour: a time-out of zero would fail everything at once.
pub fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    match parse_in(s, 1.0, Duration::ZERO, HOUR, "seconds above 0 and at most 3600")? {
        d if d.is_zero() => Err(format!("{} is too short: expected seconds above 0 and at most 3600", s.trim())),
        d => Ok(d),
    }
}

/// Between a second and a day (`1800`, `30m`, `2h`).
pub fn parse_secs_long(s: &str) -> Result<Duration, String> {
    parse_in(s, 1.0, Duration::from_secs(1), Duration::from_secs(86_400), "seconds between 1 and 86400")
}

/// Milliseconds between 1 and 10000 (`25`, `25ms`, `0.1s`).
pub fn parse_millis(s: &str) -> Result<Duration, String> {
    parse_in(s, 0.001, Duration::from_millis(1), Duration::from_secs(10), "milliseconds between 1 and 10000")
}

/// An age or a window, up to 100 years (`90s`, `15m`, `24h`, `2d`, or seconds).
pub fn parse_age(s: &str) -> Result<Duration, String> {
    // Beyond ~100 years the age no longer means anything (and would overflow a date).
    parse_in(s, 1.0, Duration::ZERO, Duration::from_secs(100 * 365 * 86400), "at most 36500d")
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

    /// One grammar for every duration flag (`--command-timeout` took only whole seconds
    /// where `--bake` took `30m`).
    #[test]
    fn every_duration_flag_takes_the_same_units_in_its_own_range() {
        assert_eq!(parse_secs_long("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_secs_long("1800"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_secs("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_secs("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_millis("25"), Ok(Duration::from_millis(25)));
        assert_eq!(parse_millis("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_age("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse_secs("2h").unwrap_err().contains("too long"));
        assert!(parse_millis("0.5ms").unwrap_err().contains("too short"));
        assert!(parse_secs("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_secs(".").is_err() && parse_secs("").is_err() && parse_secs("s").is_err());
    }
}
