use super::*;

#[test]
fn a_day_is_written_and_read_as_an_iso_date() {
    let day = Day::parse("From", "2026-12-03").unwrap();
    assert_eq!(day.to_string(), "2026-12-03");
    assert_eq!(day.start(), 1_796_256_000);
    assert_eq!(Day::of_time(day.start() + 86_399), day);
    assert_eq!(Day::of_time(day.start() - 1).to_string(), "2026-12-02");
    assert_eq!(Day::from_number(0).to_string(), "1970-01-01");
    assert_eq!(Day::hour_of(day.start() + 3 * 3600 + 59), 3);
}

#[test]
fn a_date_that_is_not_yyyy_mm_dd_is_refused_naming_the_field() {
    for bad in ["2026-13-01", "2026-02-30", "03.12.2026", "", "2026-12-3x"] {
        let e = Day::parse("To", bad).unwrap_err();
        assert_eq!(e.field, "To", "{bad}");
        assert!(e.rule.contains("YYYY-MM-DD"), "{bad}: {}", e.rule);
    }
}

#[test]
fn a_range_may_hold_366_days_but_not_367_and_must_not_run_backwards() {
    assert!(DayRange::parse("2024-01-01", "2024-12-31").is_ok()); // 366 days (a leap year)
    let e = DayRange::parse("2025-01-01", "2026-01-02").unwrap_err();
    assert_eq!(e.field, "To");
    assert!(e.rule.contains("366"), "{}", e.rule);
    let e = DayRange::parse("2026-01-02", "2026-01-01").unwrap_err();
    assert!(e.rule.contains("before From"), "{}", e.rule);
    let week = DayRange::last(7, Day::parse("d", "2026-12-03").unwrap());
    assert_eq!((week.from.to_string(), week.days().count()), ("2026-11-27".to_string(), 7));
}

#[test]
fn sources_are_spelled_as_the_rest_api_reports_them() {
    let spelled: Vec<String> =
        [Source::Api, Source::App, Source::Console, Source::Link("spring".into())].iter().map(Source::as_string).collect();
    assert_eq!(spelled, ["api", "app", "console", "link:spring"]);
}
