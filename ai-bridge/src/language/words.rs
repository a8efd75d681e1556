//! Words of a message, as the rest of `language` reads them: lower case, without punctuation
//! or emoji, and matched with a typo's tolerance.

/// The words of `text`: lower case, split at anything that is not a letter, a digit, `-` or
/// `:` (so `2027-07-03` and `14:30` stay whole), apostrophes dropped (`what's` is `whats`).
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == ':'))
        .map(|w| w.trim_matches(|c| c == '-' || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`: the
/// optimal string alignment distance, as `strsim` computes it.
pub fn edits(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// True when `word` is `keyword`, or a typo of it: one edit for keywords of 5 to 7 letters,
/// two from 8. Words of four letters or fewer must match exactly ("more" is not "move").
pub fn is(word: &str, keyword: &str) -> bool {
    if word == keyword {
        return true;
    }
    let len = keyword.chars().count();
    let allowed = match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && word.chars().count().abs_diff(len) <= allowed && edits(word, keyword) <= allowed
}

/// True when one of `words` is one of `keywords` (typos tolerated, see [`is`]), or starts
/// with one of them given with a trailing `*` (`conflict*`; a typo tolerated in the stem too).
pub fn any(words: &[String], keywords: &[&str]) -> bool {
    words.iter().any(|w| {
        keywords.iter().any(|k| match k.strip_suffix('*') {
            Some(stem) => w.starts_with(stem) || starts_like(w, stem),
            None => is(w, k),
        })
    })
}

/// True when `word` begins with a typo of `stem` (one letter more, fewer or other).
fn starts_like(word: &str, stem: &str) -> bool {
    let len = stem.chars().count();
    let chars: Vec<char> = word.chars().collect();
    len >= 5
        && (len - 1..=len + 1)
            .filter(|n| *n <= chars.len())
            .any(|n| is(&chars[..n].iter().collect::<String>(), stem))
}

/// True when the phrase `phrase` (words separated by spaces) appears in `words`, in order,
/// word by word (typos tolerated).
pub fn phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(wanted.len())
        .any(|window| window.iter().zip(&wanted).all(|(w, k)| is(w, k)))
}

/// Words that say nothing about what is asked: politeness, articles, the assistant's name.
pub const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "please",
    "pls",
    "plz",
    "could",
    "can",
    "would",
    "you",
    "kindly",
    "hey",
    "hi",
    "hello",
    "assistant",
    "@assistant",
    "thanks",
    "thank",
    "us",
    "me",
    "for",
    "to",
    "our",
    "we",
    "of",
    "on",
    "in",
    "at",
    "and",
    "some",
    "any",
    "is",
    "are",
    "it",
    "do",
    "with",
    "this",
    "that",
    "what",
    "there",
    "ok",
    "okay",
    "just",
    "maybe",
    "i",
    "my",
    "be",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_dates_and_times_and_drop_the_rest() {
        assert_eq!(
            words("@assistant What's on, 2027-07-03 at 14:30?? 🙏"),
            ["assistant", "whats", "on", "2027-07-03", "at", "14:30"]
        );
    }

    #[test]
    fn a_typo_is_tolerated_in_long_words_only() {
        assert!(is("shedule", "schedule"));
        assert!(is("summarise", "summarize"));
        assert!(is("chek", "check"));
        assert!(!is("more", "move"));
        assert!(!is("day", "dry"));
        assert!(any(&words("any conflcts?"), &["conflict*"]));
        assert!(any(&words("optoins please"), &["option*"]));
    }
}
