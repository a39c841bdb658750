//! Dates, instants, periods and durations in words, as official letters write them.
//!
//! Vietnamese follows Decree 30/2020/NĐ-CP on administrative documents: "ngày 05 tháng 02 năm 2026" — a zero
//! before days under 10 and before months 1 and 2 only ("ngày 30 tháng 4 năm 2025") — and times as "16 giờ 05".
//! English writes "5 February 2026" and "16:05". No ISO dates, no UTC offsets: an instant is shown in the
//! reader's own zone.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use crate::domain::Period;

/// The label of a compliance status (`../shared/UX.md` §4.1), the same everywhere: pages, exports, letters.
pub fn status_label(language: &str, status: crate::domain::CellStatus) -> &'static str {
    use crate::domain::CellStatus::*;
    match (english(language), status) {
        (false, OnTime) => "Đúng hạn",
        (false, Late) => "Nộp muộn",
        (false, Overdue) => "Quá hạn",
        (false, Open) => "Chưa đến hạn",
        (false, Returned) => "Bị trả lại",
        (false, Extended) => "Được gia hạn",
        (false, Waived) => "Được miễn",
        (false, NotExpected) => "Không thuộc diện phải nộp",
        (true, OnTime) => "On time",
        (true, Late) => "Submitted late",
        (true, Overdue) => "Overdue",
        (true, Open) => "Not yet due",
        (true, Returned) => "Returned for correction",
        (true, Extended) => "Extension granted",
        (true, Waived) => "Exempt",
        (true, NotExpected) => "Not expected",
    }
}

fn english(language: &str) -> bool {
    language == "en"
}

/// "ngày 05 tháng 02 năm 2026" / "5 February 2026".
pub fn date_words(language: &str, date: NaiveDate) -> String {
    if english(language) {
        return date.format("%-d %B %Y").to_string();
    }
    format!(
        "ngày {:02} tháng {} năm {}",
        date.day(),
        vi_month(date.month()),
        date.year()
    )
}

/// A month as Decree 30/2020 writes it in a date: 01 and 02 with a zero (so that "tháng 1" cannot be misread),
/// 3 to 12 without.
fn vi_month(month: u32) -> String {
    if month < 3 {
        format!("{month:02}")
    } else {
        month.to_string()
    }
}

/// "16 giờ 05 ngày 02 tháng 12 năm 2024" / "16:05 on 2 December 2024", in the zone `tz`.
pub fn instant_words(language: &str, instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    let date = date_words(language, local.date_naive());
    if english(language) {
        format!("{:02}:{:02} on {date}", local.hour(), local.minute())
    } else {
        format!("{:02} giờ {:02} {date}", local.hour(), local.minute())
    }
}

/// The period a report covers: "năm 2024", "quý III năm 2024", "tháng 9 năm 2024" / "2024", "Q3 2024",
/// "September 2024". An event period is the event's name ("đợt tuyên truyền tháng 3/2025"), given by the caller.
pub fn period_words(language: &str, period: &Period, event_name: Option<&str>) -> String {
    let en = english(language);
    let month_name = |y: i32, m: u32| {
        NaiveDate::from_ymd_opt(y, m, 1).map_or_else(
            || format!("{m}/{y}"),
            |d| {
                if en {
                    d.format("%B %Y").to_string()
                } else {
                    format!("tháng {} năm {y}", vi_month(m))
                }
            },
        )
    };
    match (*period, en) {
        (Period::Year(y), true) => y.to_string(),
        (Period::Year(y), false) => format!("năm {y}"),
        (Period::SixMonth(y, 1), true) => format!("first half of {y}"),
        (Period::SixMonth(y, _), true) => format!("second half of {y}"),
        (Period::SixMonth(y, 1), false) => format!("6 tháng đầu năm {y}"),
        (Period::SixMonth(y, _), false) => format!("6 tháng cuối năm {y}"),
        (Period::Quarter(y, q), true) => format!("Q{q} {y}"),
        (Period::Quarter(y, q), false) => {
            let roman = ["I", "II", "III", "IV"].get(usize::from(q).saturating_sub(1));
            format!("quý {} năm {y}", roman.copied().unwrap_or("?"))
        }
        (Period::Month(y, m), _) => month_name(y, m),
        (Period::Week(y, w), true) => format!("week {w} of {y}"),
        (Period::Week(y, w), false) => format!("tuần {w} năm {y}"),
        (Period::Once, true) => "(one-off report)".to_owned(),
        (Period::Once, false) => "(báo cáo một lần)".to_owned(),
        (Period::Event(id), _) => event_name.map_or_else(
            || {
                if en {
                    format!("campaign no. {id}")
                } else {
                    format!("đợt số {id}")
                }
            },
            str::to_owned,
        ),
    }
}

/// How often a report is due: "Hằng năm" / "Yearly".
pub fn period_type_words(language: &str, period_type: crate::domain::PeriodType) -> &'static str {
    use crate::domain::PeriodType::*;
    match (english(language), period_type) {
        (false, Yearly) => "Hằng năm",
        (false, SixMonthly) => "6 tháng",
        (false, Quarterly) => "Hằng quý",
        (false, Monthly) => "Hằng tháng",
        (false, Weekly) => "Hằng tuần",
        (false, Once) => "Một lần",
        (false, Event) => "Theo từng đợt",
        (true, Yearly) => "Yearly",
        (true, SixMonthly) => "Six-monthly",
        (true, Quarterly) => "Quarterly",
        (true, Monthly) => "Monthly",
        (true, Weekly) => "Weekly",
        (true, Once) => "Once",
        (true, Event) => "After each event",
    }
}

/// A positive duration in words, truncated to the minute like the API's `lateness` is to the second:
/// "20 giờ 27 phút" / "20 hours 27 minutes"; under a minute, "dưới 1 phút" / "less than a minute".
pub fn duration_words(language: &str, seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let names: [(&str, &str); 3] = if english(language) {
        [("day", "days"), ("hour", "hours"), ("minute", "minutes")]
    } else {
        [("ngày", "ngày"), ("giờ", "giờ"), ("phút", "phút")]
    };
    let parts: Vec<String> = [days, hours, mins]
        .into_iter()
        .zip(names)
        .filter(|(n, _)| *n > 0)
        .map(|(n, (one, many))| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
    if !parts.is_empty() {
        parts.join(" ")
    } else if english(language) {
        "less than a minute".to_owned()
    } else {
        "dưới 1 phút".to_owned()
    }
}

/// The days on which a report is still in time, today included: 14 on the P14D reminder's day, 1 on the last
/// day itself, 0 once it has passed.
pub fn days_left(today: NaiveDate, last_day: NaiveDate) -> i64 {
    ((last_day - today).num_days() + 1).max(0)
}

/// Whole days since the last day: 1 on the morning after it.
pub fn days_late(today: NaiveDate, last_day: NaiveDate) -> i64 {
    (today - last_day).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_as_decree_30_writes_them() {
        assert_eq!(
            date_words("vi", d(2025, 11, 30)),
            "ngày 30 tháng 11 năm 2025"
        );
        assert_eq!(date_words("vi", d(2026, 2, 5)), "ngày 05 tháng 02 năm 2026");
        assert_eq!(
            date_words("vi", d(2025, 1, 31)),
            "ngày 31 tháng 01 năm 2025"
        );
        assert_eq!(date_words("vi", d(2025, 4, 7)), "ngày 07 tháng 4 năm 2025");
        assert_eq!(date_words("en", d(2024, 12, 2)), "2 December 2024");
    }

    #[test]
    fn instants_in_the_readers_zone() {
        let hcm = chrono_tz::Asia::Ho_Chi_Minh;
        let t = Utc.with_ymd_and_hms(2024, 12, 2, 9, 5, 0).unwrap();
        assert_eq!(
            instant_words("vi", t, hcm),
            "16 giờ 05 ngày 02 tháng 12 năm 2024"
        );
        assert_eq!(instant_words("en", t, hcm), "16:05 on 2 December 2024");
    }

    #[test]
    fn periods() {
        let cases = [
            ("2024", "năm 2024", "2024"),
            ("2024S1", "6 tháng đầu năm 2024", "first half of 2024"),
            ("2024Q3", "quý III năm 2024", "Q3 2024"),
            ("202409", "tháng 9 năm 2024", "September 2024"),
            ("202602", "tháng 02 năm 2026", "February 2026"),
            ("2024W07", "tuần 7 năm 2024", "week 7 of 2024"),
        ];
        for (id, vi, en) in cases {
            let period: Period = id.parse().unwrap();
            assert_eq!(period_words("vi", &period, None), vi);
            assert_eq!(period_words("en", &period, None), en);
        }
        let event: Period = "E3".parse().unwrap();
        assert_eq!(
            period_words("vi", &event, Some("đợt tuyên truyền tháng 3/2025")),
            "đợt tuyên truyền tháng 3/2025"
        );
    }

    #[test]
    fn durations_truncate_like_the_api() {
        // The API says PT20H27M50S: the words say 20 hours 27 minutes, never 28.
        assert_eq!(
            duration_words("vi", 20 * 3600 + 27 * 60 + 50),
            "20 giờ 27 phút"
        );
        assert_eq!(duration_words("en", 2 * 86400 + 3600), "2 days 1 hour");
        assert_eq!(duration_words("vi", 30), "dưới 1 phút");
    }

    #[test]
    fn days_left_and_late() {
        let last = d(2025, 12, 1);
        assert_eq!(days_left(d(2025, 11, 18), last), 14);
        assert_eq!(days_left(d(2025, 11, 30), last), 2);
        assert_eq!(days_left(last, last), 1);
        assert_eq!(days_late(d(2025, 12, 2), last), 1);
        assert_eq!(days_late(d(2025, 12, 5), last), 4);
    }
}
