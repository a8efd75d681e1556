//! The days of the trip a message names: "day 3", "the third day", "Saturday", "3 July",
//! "2027-07-03", "tomorrow", "the weekend", "the rest of the trip", "the whole trip".

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::words::{is, phrase};

const ORDINALS: [&str; 10] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];
const NUMBER_WORDS: [&str; 10] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];
const WEEKDAYS: [(Weekday, &[&str]); 7] = [
    (Weekday::Mon, &["monday", "mon"]),
    (Weekday::Tue, &["tuesday", "tue", "tues"]),
    (Weekday::Wed, &["wednesday", "wed"]),
    (Weekday::Thu, &["thursday", "thu", "thur", "thurs"]),
    (Weekday::Fri, &["friday", "fri"]),
    (Weekday::Sat, &["saturday", "sat"]),
    (Weekday::Sun, &["sunday", "sun"]),
];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A day number written as digits, `3rd`, a word or an ordinal.
fn day_number(word: &str) -> Option<usize> {
    let digits = word.trim_end_matches(|c: char| c.is_alphabetic());
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse().ok();
    }
    ORDINALS
        .iter()
        .chain(&NUMBER_WORDS)
        .position(|o| is(word, o))
        .map(|i| i % 10 + 1)
}

fn month(word: &str) -> Option<u32> {
    let stem: String = word.chars().take(3).collect();
    (word.len() >= 3 && MONTHS.contains(&stem.as_str()))
        .then(|| MONTHS.iter().position(|m| *m == stem).unwrap() as u32 + 1)
}

/// The days of the trip (`days`, in order) that `words` name, sorted; empty when none is
/// named. `today` places "today", "tomorrow", "the rest of the trip" and "the weekend".
pub fn days_named(days: &[NaiveDate], words: &[String], today: NaiveDate) -> Vec<NaiveDate> {
    let Some((&first, &last)) = days.first().zip(days.last()) else {
        return Vec::new();
    };
    let from_today: Vec<NaiveDate> = days.iter().copied().filter(|d| *d >= today).collect();
    let mut named: Vec<NaiveDate> = Vec::new();
    let nth = |n: usize| n.checked_sub(1).and_then(|i| days.get(i)).copied();
    if phrase(words, "rest of the trip")
        || phrase(words, "rest of the week")
        || phrase(words, "remaining days")
        || phrase(words, "days left")
    {
        named.extend(if from_today.is_empty() {
            days.to_vec()
        } else {
            from_today.clone()
        });
    }
    if phrase(words, "whole trip")
        || phrase(words, "entire trip")
        || phrase(words, "every day")
        || phrase(words, "all days")
        || phrase(words, "all the days")
    {
        named.extend(days);
    }
    if words.iter().any(|w| is(w, "weekend")) {
        let weekend = |d: &&NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let ahead: Vec<NaiveDate> = from_today.iter().filter(weekend).copied().collect();
        named.extend(if ahead.is_empty() {
            days.iter().filter(weekend).copied().collect()
        } else {
            ahead
        });
    }
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        let before = i.checked_sub(1).map(|j| words[j].as_str());
        match word.as_str() {
            "today" | "tonight" => named.push(today),
            w if is(w, "tomorrow") || w == "tmrw" || w == "tmr" => {
                if before == Some("after") {
                    named.push(today + Duration::days(2));
                } else {
                    named.push(today + Duration::days(1));
                }
            }
            "day" => {
                if let Some(n) = next.and_then(day_number) {
                    named.extend(nth(n));
                }
                match before {
                    Some("first") => named.push(first),
                    Some("last") | Some("final") => named.push(last),
                    Some(b) => {
                        if let Some(n) = day_number(b) {
                            named.extend(nth(n));
                        }
                    }
                    None => {}
                }
            }
            w => {
                if let Ok(date) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
                    named.push(date);
                }
                for (weekday, names) in WEEKDAYS {
                    if names.iter().any(|n| *n == w || (n.len() > 4 && is(w, n))) {
                        named.extend(days.iter().filter(|d| d.weekday() == weekday));
                    }
                }
                if let Some(m) = month(w) {
                    let day_of = |s: Option<&str>| s.and_then(day_number).filter(|n| *n <= 31);
                    if let Some(n) = day_of(next).or(day_of(before)) {
                        named.extend(
                            days.iter()
                                .filter(|d| d.month() == m && d.day() == n as u32),
                        );
                    }
                }
            }
        }
    }
    named.retain(|d| days.contains(d));
    named.sort();
    named.dedup();
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::words::words;

    fn trip_days() -> Vec<NaiveDate> {
        // Thursday 1 to Sunday 4 July 2027.
        (1..=4)
            .map(|d| NaiveDate::from_ymd_opt(2027, 7, d).unwrap())
            .collect()
    }

    fn named(text: &str) -> Vec<u32> {
        let today = NaiveDate::from_ymd_opt(2027, 7, 2).unwrap();
        days_named(&trip_days(), &words(text), today)
            .iter()
            .map(|d| d.day())
            .collect()
    }

    #[test]
    fn every_way_of_naming_a_day() {
        assert_eq!(named("plan day 3"), [3]);
        assert_eq!(named("the third day"), [3]);
        assert_eq!(named("day three please"), [3]);
        assert_eq!(named("on Saturday"), [3]);
        assert_eq!(named("on saturdy"), [3]);
        assert_eq!(named("3 July"), [3]);
        assert_eq!(named("july 3rd"), [3]);
        assert_eq!(named("2027-07-04"), [4]);
        assert_eq!(named("tomorrow"), [3]);
        assert_eq!(named("the day after tomorrow"), [4]);
        assert_eq!(named("the weekend"), [3, 4]);
        assert_eq!(named("the rest of the trip"), [2, 3, 4]);
        assert_eq!(named("the whole trip"), [1, 2, 3, 4]);
        assert_eq!(named("the last day"), [4]);
        assert_eq!(named("day 9"), Vec::<u32>::new());
        assert_eq!(named("hello"), Vec::<u32>::new());
    }
}
