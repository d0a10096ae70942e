//! When a scheduled message goes: a wall-clock time in an IANA time zone turned into an instant,
//! with daylight-saving changes handled in the open. Server-only (the time zone database stays out
//! of the browser; the Schedule dialog asks the server).

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::SchedulePreview;
use crate::error::{AppError, AppResult, Problem};

/// A time someone picked, as an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picked {
    pub utc: DateTime<Utc>,
    /// The wall-clock time happens twice that day (the clocks went back): the first is used.
    pub first_of_two: bool,
}

fn zone(name: &str) -> AppResult<Tz> {
    name.parse::<Tz>()
        .map_err(|_| AppError::invalid("zone", Problem::TimeZoneUnknown))
}

/// `YYYY-MM-DDTHH:MM` (what `<input type="datetime-local">` sends; seconds allowed) in `zone`, as
/// an instant after `now`. A time that does not exist in the zone that day (the hour the clocks
/// skip) is refused, never moved silently.
pub fn instant(local: &str, zone_name: &str, now: DateTime<Utc>) -> AppResult<Picked> {
    let local = local.trim();
    let wall = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| AppError::invalid("send_at", Problem::DateTimeInvalid))?;
    let tz = zone(zone_name)?;
    let (at, first_of_two) = match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) => (at, false),
        LocalResult::Ambiguous(first, _) => (first, true),
        LocalResult::None => {
            return Err(AppError::invalid(
                "send_at",
                Problem::TimeSkipped {
                    time: wall.format("%H:%M").to_string(),
                    zone: zone_name.to_string(),
                },
            ))
        }
    };
    let utc = at.with_timezone(&Utc);
    if utc <= now {
        return Err(AppError::invalid("send_at", Problem::TimeInPast));
    }
    Ok(Picked { utc, first_of_two })
}

/// The Schedule dialog's preview: the instant, also as the user's own clock will show it.
pub fn preview(
    local: &str,
    zone_name: &str,
    user_zone: &str,
    now: DateTime<Utc>,
) -> AppResult<SchedulePreview> {
    let picked = instant(local, zone_name, now)?;
    // An unknown zone of the user's browser is no reason to refuse: UTC says it plainly.
    let theirs = user_zone.parse::<Tz>().unwrap_or(Tz::UTC);
    Ok(SchedulePreview {
        at: picked.utc,
        in_user_zone: picked
            .utc
            .with_timezone(&theirs)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        first_of_two: picked.first_of_two,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_time_in_rome_is_the_right_instant_and_must_be_ahead() {
        let winter = instant("2026-03-10T09:30", "Europe/Rome", now()).unwrap();
        assert_eq!(
            winter.utc,
            "2026-03-10T08:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let summer = instant("2026-07-10T09:30", "Europe/Rome", now()).unwrap();
        assert_eq!(
            summer.utc,
            "2026-07-10T07:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            instant("2026-02-10T09:30", "Europe/Rome", now())
                .unwrap_err()
                .field_problem("send_at"),
            Some(Problem::TimeInPast)
        );
        assert_eq!(
            instant("2026-03-10T09:30", "Mars/Olympus", now())
                .unwrap_err()
                .field_problem("zone"),
            Some(Problem::TimeZoneUnknown)
        );
        assert_eq!(
            instant("10/03/2026 09:30", "Europe/Rome", now())
                .unwrap_err()
                .field_problem("send_at"),
            Some(Problem::DateTimeInvalid)
        );
    }

    #[test]
    fn the_hour_skipped_in_spring_is_refused_and_the_hour_lived_twice_in_autumn_is_the_first() {
        // 29 March 2026: in Rome the clocks jump from 02:00 to 03:00.
        assert_eq!(
            instant("2026-03-29T02:30", "Europe/Rome", now())
                .unwrap_err()
                .field_problem("send_at"),
            Some(Problem::TimeSkipped {
                time: "02:30".into(),
                zone: "Europe/Rome".into()
            })
        );
        // 25 October 2026: 02:30 happens twice; the first is 00:30 UTC (still summer time).
        let twice = instant("2026-10-25T02:30", "Europe/Rome", now()).unwrap();
        assert!(twice.first_of_two);
        assert_eq!(
            twice.utc,
            "2026-10-25T00:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn the_preview_shows_the_instant_on_the_user_s_clock() {
        let preview =
            preview("2026-03-10T09:30", "America/New_York", "Europe/Rome", now()).unwrap();
        assert_eq!(preview.in_user_zone, "2026-03-10T14:30");
        let unknown = preview_of_unknown();
        assert_eq!(unknown.in_user_zone, "2026-03-10T13:30");
    }

    fn preview_of_unknown() -> SchedulePreview {
        preview(
            "2026-03-10T09:30",
            "America/New_York",
            "Nowhere/Else",
            now(),
        )
        .unwrap()
    }
}
