//! Deadline status at a given moment, derived from facts rather than stored, so it is never stale.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not submitted, not yet due.
    Open,
    /// First submitted before `due_at`.
    Submitted,
    /// First submitted at or after `due_at`.
    Late,
    /// Due and not submitted.
    Overdue,
    /// Exempted.
    Waived,
    /// Sent back for revision and not resubmitted yet.
    Returned,
}

impl DeadlineStatus {
    pub const ALL: [DeadlineStatus; 6] = [
        DeadlineStatus::Open,
        DeadlineStatus::Submitted,
        DeadlineStatus::Late,
        DeadlineStatus::Overdue,
        DeadlineStatus::Waived,
        DeadlineStatus::Returned,
    ];

    /// The status a word names, as the API writes it.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineStatus::Open => "open",
            DeadlineStatus::Submitted => "submitted",
            DeadlineStatus::Late => "late",
            DeadlineStatus::Overdue => "overdue",
            DeadlineStatus::Waived => "waived",
            DeadlineStatus::Returned => "returned",
        }
    }
}

/// A cell of the compliance matrix, in DHIS2's vocabulary: how one unit stood for one
/// period at a moment. Timeliness is judged against the deadline as it stood then (an extension granted by then
/// counts); `extended` is a deadline not yet due, and not yet filed, whose last day was extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    OnTime,
    Late,
    Overdue,
    Open,
    Returned,
    Extended,
    Waived,
    /// No deadline: the unit did not exist, or was not a reporter, for that period.
    NotExpected,
}

/// A deadline's status as the compliance matrix names it (an extension shows only in the matrix).
impl From<DeadlineStatus> for CellStatus {
    fn from(status: DeadlineStatus) -> Self {
        match status {
            DeadlineStatus::Open => CellStatus::Open,
            DeadlineStatus::Submitted => CellStatus::OnTime,
            DeadlineStatus::Late => CellStatus::Late,
            DeadlineStatus::Overdue => CellStatus::Overdue,
            DeadlineStatus::Waived => CellStatus::Waived,
            DeadlineStatus::Returned => CellStatus::Returned,
        }
    }
}

impl CellStatus {
    pub const ALL: [CellStatus; 8] = [
        CellStatus::OnTime,
        CellStatus::Late,
        CellStatus::Overdue,
        CellStatus::Open,
        CellStatus::Returned,
        CellStatus::Extended,
        CellStatus::Waived,
        CellStatus::NotExpected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::OnTime => "on_time",
            CellStatus::Late => "late",
            CellStatus::Overdue => "overdue",
            CellStatus::Open => "open",
            CellStatus::Returned => "returned",
            CellStatus::Extended => "extended",
            CellStatus::Waived => "waived",
            CellStatus::NotExpected => "not_expected",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// The status that holds at `now`.
///
/// A waiver wins over everything; `returned` (which the caller clears on resubmission) wins over
/// the submission it sent back. Timeliness is judged on the first submission only, and a
/// submission after `now` is not seen, so replaying an earlier moment (`tick --at`) tells the
/// truth of that moment.
pub fn status_at(
    due_at: DateTime<Utc>,
    first_submitted_at: Option<DateTime<Utc>>,
    waived: bool,
    returned: bool,
    now: DateTime<Utc>,
) -> DeadlineStatus {
    if waived {
        return DeadlineStatus::Waived;
    }
    if returned {
        return DeadlineStatus::Returned;
    }
    match first_submitted_at.filter(|at| *at <= now) {
        Some(at) if is_on_time(at, due_at) => DeadlineStatus::Submitted,
        Some(_) => DeadlineStatus::Late,
        None if now < due_at => DeadlineStatus::Open,
        None => DeadlineStatus::Overdue,
    }
}

/// On time means strictly before `due_at`: the last day ends at 24:00, and 24:00 is the next day.
pub fn is_on_time(received_at: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    received_at < due_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn status_table() {
        use DeadlineStatus::*;
        let due = utc("2024-12-03T00:00:00+07:00");
        let second = TimeDelta::seconds(1);
        let before = due - second;
        let after = due + TimeDelta::days(2);
        let table = [
            // (first submission, waived, returned, now, expected)
            (None, false, false, before, Open),
            (None, false, false, due, Overdue),
            (None, false, false, after, Overdue),
            (Some(before), false, false, before, Submitted),
            (Some(before), false, false, after, Submitted),
            (Some(due), false, false, due, Late),
            (Some(due + second), false, false, after, Late),
            (Some(due + second), false, false, due, Overdue),
            (
                Some(before - second),
                false,
                false,
                before - second * 2,
                Open,
            ),
            (Some(after), true, false, after, Waived),
            (None, true, false, after, Waived),
            (Some(before), false, true, after, Returned),
            (Some(before), true, true, after, Waived),
        ];
        for (submitted, waived, returned, now, expected) in table {
            let got = status_at(due, submitted, waived, returned, now);
            assert_eq!(got, expected, "{submitted:?} {waived} {returned} {now}");
        }
    }

    #[test]
    fn on_time_is_strictly_before() {
        let due = utc("2023-12-01T00:00:00+07:00");
        assert!(is_on_time(utc("2023-11-30T23:59:59.999+07:00"), due));
        assert!(!is_on_time(due, due));
    }

    #[test]
    fn cell_status_words_are_their_serde_names() {
        for status in CellStatus::ALL {
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
            assert_eq!(CellStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn serde_names() {
        let json = serde_json::to_string(&DeadlineStatus::Overdue).unwrap();
        assert_eq!(json, "\"overdue\"");
        for status in DeadlineStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(DeadlineStatus::parse(status.as_str()), Some(status));
        }
    }
}
