//! Dates as people, ERPs and OCR write them on business documents: ISO and other
//! all-numeric forms, two-digit years, compact `YYYYMMDD`, and day / month name / year
//! forms in English, German, French, Spanish, Italian and Dutch. This module owns only
//! the reading of one date string into a calendar date: pure functions, no I/O, no
//! locale lookups and no heap allocation.

use chrono::NaiveDate;

/// How an ambiguous all-numeric date such as `03/04/2024` is read.
///
/// The order only settles ambiguity. Year-first dates (`2024-04-03`) are always
/// year-month-day, and when the preferred reading is not a real date but the other one is
/// (`10/25/2024` under [`DateOrder::Dmy`]), the only valid reading is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Day first: `03/04/2024` is 3 April 2024.
    #[default]
    Dmy,
    /// Month first: `03/04/2024` is 4 March 2024.
    Mdy,
}

/// Parses a date written in any common form; `None` when it is not a valid date.
///
/// Accepted, with surrounding whitespace and punctuation ignored:
/// - ISO `2024-10-02` (also `/` or `.` between the parts, and a trailing time such as
///   `T10:00:00Z` or ` 10:00`), and compact `20241002`;
/// - `02.10.2024`, `02/10/2024`, `02-10-2024` and two-digit years (`02.10.24`; 00-69 is
///   20xx, 70-99 is 19xx), read day- or month-first according to `order`;
/// - a month name or abbreviation in English, German, French, Spanish, Italian or Dutch
///   with a day and a year in either order: `2 Oct 2024`, `Oct 2, 2024`,
///   `October 2nd, 2024`, `2nd of October 2024`, `02-Oct-2024`, `2. Oktober 2024`,
///   `1er août 2024`, `2 de octubre de 2024`, `Wednesday, 2 October 2024`.
pub fn parse_date(input: &str, order: DateOrder) -> Option<NaiveDate> {
    let trimmed = input.trim_matches(|c: char| !c.is_alphanumeric());
    let parts = scan(strip_time(trimmed)?)?;
    match parts.month {
        Some(month) => named_month_date(parts.numbers(), month),
        None => numeric_date(parts.numbers(), order),
    }
}

/// A run of ASCII digits. Runs longer than 8 digits are rejected while scanning, since
/// no date form needs more, so `value` cannot overflow.
#[derive(Clone, Copy, Debug, Default)]
struct Num {
    value: u32,
    digits: usize,
}

/// What a date string is made of once separators and ignorable words are gone.
#[derive(Debug, Default)]
struct Parts {
    nums: [Num; 3],
    count: usize,
    month: Option<u32>,
}

impl Parts {
    fn numbers(&self) -> &[Num] {
        self.nums.get(..self.count).unwrap_or(&[])
    }

    /// `None` when there are more numbers than any date form has.
    fn push(&mut self, num: Num) -> Option<()> {
        *self.nums.get_mut(self.count)? = num;
        self.count += 1;
        Some(())
    }
}

const MAX_DIGITS: usize = 8;

/// Drops a trailing time of day (`T10:00:00Z`, ` 10:00`, `, 10:00 pm`) so that only the
/// date is left to tokenise. A colon that does not start such a time makes the input
/// unreadable, hence `None`.
fn strip_time(s: &str) -> Option<&str> {
    let Some(colon) = s.find(':') else {
        return Some(s);
    };
    let (before, time) = s.split_at_checked(colon)?;
    let date = before.trim_end_matches(|c: char| c.is_ascii_digit());
    let hour_digits = before.len() - date.len();
    if !(1..=2).contains(&hour_digits) || !is_time(time) {
        return None;
    }
    match date.strip_suffix(['T', 't']) {
        Some(date) => Some(date),
        None if date.ends_with(|c: char| c.is_whitespace() || c == ',') => Some(date),
        None => None,
    }
}

/// Whether `tail` (starting at the first colon) is the rest of a time of day, with
/// seconds, fractions, a UTC offset or an am/pm marker.
fn is_time(tail: &str) -> bool {
    const TIME_WORDS: [&str; 5] = ["z", "utc", "gmt", "am", "pm"];
    tail.split(|c: char| {
        c.is_ascii_digit() || c.is_whitespace() || matches!(c, ':' | '.' | ',' | '+' | '-')
    })
    .all(|word| word.is_empty() || TIME_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)))
}

/// Splits the date into number and word tokens. Separators between them carry no
/// meaning (people mix them freely), but anything that is neither a known word, a
/// number nor a separator means this is not a date.
fn scan(s: &str) -> Option<Parts> {
    let mut parts = Parts::default();
    let mut rest = s;
    // Digits of the number that the next token is glued to, which is what makes `nd`
    // in `2nd` an ordinal suffix rather than an unknown word.
    let mut glued_to: Option<usize> = None;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let (digits, tail) = take_while(rest, |c| c.is_ascii_digit());
            let num = number(digits)?;
            parts.push(num)?;
            glued_to = Some(num.digits);
            rest = tail;
        } else if is_word_char(c) {
            let (word, tail) = take_while(rest, is_word_char);
            let word = Folded::new(word)?;
            let is_ordinal = glued_to.is_some_and(|digits| digits <= 2)
                && ORDINAL_SUFFIXES.contains(&word.as_bytes());
            if !is_ordinal {
                if let Some(month) = month_number(word.as_bytes()) {
                    if parts.month.replace(month).is_some() {
                        return None;
                    }
                } else if !IGNORED_WORDS.contains(&word.as_bytes()) {
                    return None;
                }
            }
            glued_to = None;
            rest = tail;
        } else if is_separator(c) {
            glued_to = None;
            rest = rest.get(c.len_utf8()..)?;
        } else {
            return None;
        }
    }
    Some(parts)
}

fn number(digits: &str) -> Option<Num> {
    if digits.len() > MAX_DIGITS {
        return None;
    }
    let value = digits
        .bytes()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some(Num {
        value,
        digits: digits.len(),
    })
}

/// Splits `s` after its longest prefix of chars that satisfy `pred`.
fn take_while(s: &str, pred: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c: char| !pred(c)).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// Combining marks belong to the word so that decomposed text (`Ma\u{308}rz`) reads like
/// the precomposed form.
fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}')
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ','
                | '/'
                | '-'
                | '\''
                | '\u{2019}'
                | '\u{2010}'
                | '\u{2011}'
                | '\u{2013}'
                | '\u{2014}'
        )
}

/// Longest word worth comparing; every known month or weekday name is shorter.
const MAX_WORD: usize = 12;

/// A word lower-cased and stripped of diacritics into ASCII, so that `März`, `MÄRZ` and
/// `Marz` compare equal without allocating.
struct Folded {
    buf: [u8; MAX_WORD],
    len: usize,
}

impl Folded {
    /// `None` for a word that cannot be one we know: too long, or with letters outside
    /// the Latin alphabets of the supported languages.
    fn new(word: &str) -> Option<Self> {
        let mut folded = Folded {
            buf: [0; MAX_WORD],
            len: 0,
        };
        for c in word.chars().flat_map(char::to_lowercase) {
            if is_combining_mark(c) {
                continue;
            }
            *folded.buf.get_mut(folded.len)? = fold_char(c)?;
            folded.len += 1;
        }
        Some(folded)
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

fn fold_char(c: char) -> Option<u8> {
    match c {
        'a'..='z' => u8::try_from(c).ok(),
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ª' => Some(b'a'),
        'ç' => Some(b'c'),
        'è' | 'é' | 'ê' | 'ë' => Some(b'e'),
        'ì' | 'í' | 'î' | 'ï' => Some(b'i'),
        'ñ' => Some(b'n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'º' => Some(b'o'),
        'ù' | 'ú' | 'û' | 'ü' => Some(b'u'),
        'ý' | 'ÿ' => Some(b'y'),
        _ => None,
    }
}

/// Full month names, folded. Abbreviations are recognised as unambiguous prefixes of
/// these (see [`month_number`]), so only abbreviations that are not prefixes are listed.
const MONTH_NAMES: &[(&[u8], u32)] = &[
    // English
    (b"january", 1),
    (b"february", 2),
    (b"march", 3),
    (b"april", 4),
    (b"may", 5),
    (b"june", 6),
    (b"july", 7),
    (b"august", 8),
    (b"september", 9),
    (b"october", 10),
    (b"november", 11),
    (b"december", 12),
    // German, with Austrian Jänner / Feber and the ASCII spelling Maerz
    (b"januar", 1),
    (b"janner", 1),
    (b"februar", 2),
    (b"feber", 2),
    (b"marz", 3),
    (b"maerz", 3),
    (b"mrz", 3),
    (b"mai", 5),
    (b"juni", 6),
    (b"juli", 7),
    (b"oktober", 10),
    (b"dezember", 12),
    // French
    (b"janvier", 1),
    (b"fevrier", 2),
    (b"mars", 3),
    (b"avril", 4),
    (b"juin", 6),
    (b"juillet", 7),
    (b"aout", 8),
    (b"septembre", 9),
    (b"octobre", 10),
    (b"novembre", 11),
    (b"decembre", 12),
    // Spanish
    (b"enero", 1),
    (b"febrero", 2),
    (b"marzo", 3),
    (b"abril", 4),
    (b"mayo", 5),
    (b"junio", 6),
    (b"julio", 7),
    (b"agosto", 8),
    (b"septiembre", 9),
    (b"setiembre", 9),
    (b"octubre", 10),
    (b"noviembre", 11),
    (b"diciembre", 12),
    // Italian
    (b"gennaio", 1),
    (b"febbraio", 2),
    (b"aprile", 4),
    (b"maggio", 5),
    (b"giugno", 6),
    (b"luglio", 7),
    (b"settembre", 9),
    (b"ottobre", 10),
    (b"dicembre", 12),
    // Dutch
    (b"januari", 1),
    (b"februari", 2),
    (b"maart", 3),
    (b"mrt", 3),
    (b"mei", 5),
    (b"augustus", 8),
];

/// Shortest abbreviation accepted; two letters would be too easily noise.
const MIN_ABBREVIATION: usize = 3;

/// The month named by a folded word: a full name, or a prefix of at least three letters
/// that every name it starts agrees on (`sep`, `janv`, `okt`, but not `jui`, which could
/// be juin or juillet).
fn month_number(word: &[u8]) -> Option<u32> {
    if let Some(&(_, month)) = MONTH_NAMES.iter().find(|(name, _)| *name == word) {
        return Some(month);
    }
    if word.len() < MIN_ABBREVIATION {
        return None;
    }
    let mut found = None;
    for &(name, month) in MONTH_NAMES {
        if name.starts_with(word) {
            if found.is_some_and(|m| m != month) {
                return None;
            }
            found = Some(month);
        }
    }
    found
}

/// Suffixes of ordinal days (`2nd`, `1er`, `1º`, `2e`), only recognised glued to a day.
const ORDINAL_SUFFIXES: &[&[u8]] = &[
    b"st", b"nd", b"rd", b"th", b"er", b"re", b"e", b"eme", b"o", b"a", b"de", b"ste",
];

/// Weekday names and filler words that carry nothing the date does not already say.
const IGNORED_WORDS: &[&[u8]] = &[
    // fillers: `2nd of October`, `2 de octubre de 2024`, `le 2 octobre`, `am 2. Oktober`
    b"of",
    b"the",
    b"de",
    b"del",
    b"le",
    b"el",
    b"il",
    b"den",
    b"der",
    b"am",
    // English
    b"monday",
    b"tuesday",
    b"wednesday",
    b"thursday",
    b"friday",
    b"saturday",
    b"sunday",
    b"mon",
    b"tue",
    b"tues",
    b"wed",
    b"thu",
    b"thur",
    b"thurs",
    b"fri",
    b"sat",
    b"sun",
    // German
    b"montag",
    b"dienstag",
    b"mittwoch",
    b"donnerstag",
    b"freitag",
    b"samstag",
    b"sonnabend",
    b"sonntag",
    b"mo",
    b"di",
    b"mi",
    b"do",
    b"fr",
    b"sa",
    b"so",
    // French
    b"lundi",
    b"mardi",
    b"mercredi",
    b"jeudi",
    b"vendredi",
    b"samedi",
    b"dimanche",
    // Spanish
    b"lunes",
    b"martes",
    b"miercoles",
    b"jueves",
    b"viernes",
    b"sabado",
    b"domingo",
    // Italian
    b"lunedi",
    b"martedi",
    b"mercoledi",
    b"giovedi",
    b"venerdi",
    b"sabato",
    b"domenica",
    // Dutch
    b"maandag",
    b"dinsdag",
    b"woensdag",
    b"donderdag",
    b"vrijdag",
    b"zaterdag",
    b"zondag",
];

/// A date with a month name: the other two numbers are the day and the year, day first
/// unless the first number has four digits (`2024 Oct 02`).
fn named_month_date(nums: &[Num], month: u32) -> Option<NaiveDate> {
    let (day, year) = match *nums {
        [year, day] if year.digits == 4 => (day, year),
        [day, year] => (day, year),
        _ => return None,
    };
    if day.digits > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(full_year(year)?, month, day.value)
}

fn numeric_date(nums: &[Num], order: DateOrder) -> Option<NaiveDate> {
    match *nums {
        [compact] if compact.digits == 8 => {
            let year = i32::try_from(compact.value / 10_000).ok()?;
            NaiveDate::from_ymd_opt(year, compact.value / 100 % 100, compact.value % 100)
        }
        [year, month, day] if year.digits == 4 && month.digits <= 2 && day.digits <= 2 => {
            NaiveDate::from_ymd_opt(full_year(year)?, month.value, day.value)
        }
        [first, second, year] if first.digits <= 2 && second.digits <= 2 => {
            let year = full_year(year)?;
            let day_first = || NaiveDate::from_ymd_opt(year, second.value, first.value);
            let month_first = || NaiveDate::from_ymd_opt(year, first.value, second.value);
            match order {
                DateOrder::Dmy => day_first().or_else(month_first),
                DateOrder::Mdy => month_first().or_else(day_first),
            }
        }
        _ => None,
    }
}

/// Four digits as written; two digits pivot at 70, the usual reading on documents
/// (`24` is 2024, `85` is 1985). Other lengths are not years.
fn full_year(year: Num) -> Option<i32> {
    let value = i32::try_from(year.value).ok()?;
    match year.digits {
        4 => Some(value),
        2 if value < 70 => Some(2000 + value),
        2 => Some(1900 + value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;
    use DateOrder::{Dmy, Mdy};

    fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, month, day)
    }

    fn oct2() -> Option<NaiveDate> {
        ymd(2024, 10, 2)
    }

    #[track_caller]
    fn assert_oct2(input: &str) {
        assert!(oct2().is_some());
        assert_eq!(parse_date(input, Dmy), oct2(), "{input:?} under Dmy");
        assert_eq!(parse_date(input, Mdy), oct2(), "{input:?} under Mdy");
    }

    #[test]
    fn iso() {
        assert_oct2("2024-10-02");
    }

    #[test]
    fn iso_with_time() {
        assert_oct2("2024-10-02T10:00:00Z");
        assert_oct2("2024-10-02T10:00:00.123+02:00");
        assert_oct2("2024-10-02 10:00");
        assert_oct2("2024-10-02 10:00:00 UTC");
        assert_oct2("2 Oct 2024, 10:00 pm");
    }

    #[test]
    fn iso_with_slashes_and_dots() {
        assert_oct2("2024/10/02");
        assert_oct2("2024.10.02");
        assert_eq!(parse_date("2024-1-5", Dmy), ymd(2024, 1, 5));
    }

    #[test]
    fn dotted_day_first() {
        assert_eq!(parse_date("02.10.2024", Dmy), oct2());
        assert_eq!(parse_date("2.10.2024", Dmy), oct2());
    }

    #[test]
    fn slashed_day_first() {
        assert_eq!(parse_date("02/10/2024", Dmy), oct2());
    }

    #[test]
    fn dashed_day_first() {
        assert_eq!(parse_date("02-10-2024", Dmy), oct2());
    }

    #[test]
    fn month_first() {
        assert_eq!(parse_date("10/02/2024", Mdy), oct2());
        assert_eq!(parse_date("10-02-2024", Mdy), oct2());
        assert_eq!(parse_date("10.02.2024", Mdy), oct2());
    }

    #[test]
    fn ambiguous_date_follows_order() {
        assert_eq!(parse_date("03/04/2024", Dmy), ymd(2024, 4, 3));
        assert_eq!(parse_date("03/04/2024", Mdy), ymd(2024, 3, 4));
    }

    #[test]
    fn only_valid_reading_wins_over_order() {
        assert_eq!(parse_date("10/25/2024", Dmy), ymd(2024, 10, 25));
        assert_eq!(parse_date("25/10/2024", Mdy), ymd(2024, 10, 25));
    }

    #[test]
    fn two_digit_years() {
        assert_eq!(parse_date("02.10.24", Dmy), oct2());
        assert_eq!(parse_date("02.10.00", Dmy), ymd(2000, 10, 2));
        assert_eq!(parse_date("02.10.69", Dmy), ymd(2069, 10, 2));
        assert_eq!(parse_date("02.10.70", Dmy), ymd(1970, 10, 2));
        assert_eq!(parse_date("02.10.99", Dmy), ymd(1999, 10, 2));
        assert_eq!(parse_date("10/02/24", Mdy), oct2());
        assert_eq!(parse_date("2 Oct 24", Dmy), oct2());
    }

    #[test]
    fn day_abbreviated_month_year() {
        assert_oct2("2 Oct 2024");
        assert_oct2("2 Oct. 2024");
        assert_oct2("2 OCT 2024");
    }

    #[test]
    fn day_full_month_year() {
        assert_oct2("2 October 2024");
    }

    #[test]
    fn month_day_comma_year() {
        assert_oct2("Oct 2, 2024");
    }

    #[test]
    fn month_ordinal_day_year() {
        assert_oct2("October 2nd, 2024");
        assert_eq!(parse_date("September 1st, 2024", Dmy), ymd(2024, 9, 1));
        assert_eq!(parse_date("March 3rd 2024", Dmy), ymd(2024, 3, 3));
        assert_eq!(parse_date("May 4th 2024", Dmy), ymd(2024, 5, 4));
    }

    #[test]
    fn ordinal_of_month() {
        assert_oct2("2nd of October 2024");
        assert_oct2("the 2nd of October, 2024");
    }

    #[test]
    fn dashed_abbreviated_month() {
        assert_oct2("02-Oct-2024");
        assert_oct2("02-OCT-24");
        assert_oct2("02Oct2024");
    }

    #[test]
    fn year_first_with_month_name() {
        assert_oct2("2024-Oct-02");
        assert_oct2("2024 October 2");
    }

    #[test]
    fn german() {
        assert_oct2("2. Oktober 2024");
        assert_oct2("Mittwoch, 2. Okt. 2024");
        assert_eq!(parse_date("5. März 2024", Dmy), ymd(2024, 3, 5));
        assert_eq!(parse_date("5. Maerz 2024", Dmy), ymd(2024, 3, 5));
        assert_eq!(parse_date("5. Marz 2024", Dmy), ymd(2024, 3, 5));
        assert_eq!(parse_date("5. MÄRZ 2024", Dmy), ymd(2024, 3, 5));
        assert_eq!(parse_date("5. Ma\u{308}rz 2024", Dmy), ymd(2024, 3, 5));
        assert_eq!(parse_date("5. Jänner 2024", Dmy), ymd(2024, 1, 5));
        assert_eq!(parse_date("5. Januar 2024", Dmy), ymd(2024, 1, 5));
        assert_eq!(parse_date("5. Februar 2024", Dmy), ymd(2024, 2, 5));
        assert_eq!(parse_date("5. Mai 2024", Dmy), ymd(2024, 5, 5));
        assert_eq!(parse_date("5. Juni 2024", Dmy), ymd(2024, 6, 5));
        assert_eq!(parse_date("5. Juli 2024", Dmy), ymd(2024, 7, 5));
        assert_eq!(parse_date("5. Dezember 2024", Dmy), ymd(2024, 12, 5));
        assert_eq!(parse_date("am 5. Dez. 2024", Dmy), ymd(2024, 12, 5));
    }

    #[test]
    fn french() {
        assert_eq!(parse_date("1er août 2024", Dmy), ymd(2024, 8, 1));
        assert_eq!(parse_date("1er aout 2024", Dmy), ymd(2024, 8, 1));
        assert_eq!(parse_date("mercredi 2 octobre 2024", Dmy), oct2());
        assert_eq!(parse_date("le 3 février 2024", Dmy), ymd(2024, 2, 3));
        assert_eq!(parse_date("3 févr. 2024", Dmy), ymd(2024, 2, 3));
        assert_eq!(parse_date("3 juil. 2024", Dmy), ymd(2024, 7, 3));
        assert_eq!(parse_date("3 juin 2024", Dmy), ymd(2024, 6, 3));
        assert_eq!(parse_date("3 décembre 2024", Dmy), ymd(2024, 12, 3));
        assert_eq!(parse_date("3 DÉCEMBRE 2024", Dmy), ymd(2024, 12, 3));
    }

    #[test]
    fn spanish() {
        assert_oct2("2 de octubre de 2024");
        assert_eq!(parse_date("15 de setiembre de 2024", Dmy), ymd(2024, 9, 15));
        assert_eq!(
            parse_date("15 de septiembre de 2024", Dmy),
            ymd(2024, 9, 15)
        );
        assert_eq!(
            parse_date("miércoles, 1º de enero de 2025", Dmy),
            ymd(2025, 1, 1)
        );
        assert_eq!(parse_date("7 dic. 2024", Dmy), ymd(2024, 12, 7));
    }

    #[test]
    fn italian() {
        assert_oct2("2 ottobre 2024");
        assert_eq!(parse_date("lunedì 6 gennaio 2025", Dmy), ymd(2025, 1, 6));
        assert_eq!(parse_date("6 giu 2025", Dmy), ymd(2025, 6, 6));
        assert_eq!(parse_date("6 lug. 2025", Dmy), ymd(2025, 7, 6));
    }

    #[test]
    fn dutch() {
        assert_oct2("2 okt 2024");
        assert_eq!(parse_date("4 mrt. 2024", Dmy), ymd(2024, 3, 4));
        assert_eq!(parse_date("4 maart 2024", Dmy), ymd(2024, 3, 4));
        assert_eq!(parse_date("woensdag 2 oktober 2024", Dmy), oct2());
        assert_eq!(parse_date("4 augustus 2024", Dmy), ymd(2024, 8, 4));
    }

    #[test]
    fn weekday_is_ignored() {
        assert_oct2("Wednesday, 2 October 2024");
        // the weekday is not checked against the date: OCR gets it wrong as often as the date
        assert_oct2("Monday, 2 October 2024");
    }

    #[test]
    fn compact() {
        assert_oct2("20241002");
        assert_eq!(parse_date("20240231", Dmy), None);
    }

    #[test]
    fn surrounding_whitespace_and_punctuation() {
        assert_oct2("  2024-10-02  ");
        assert_oct2("(2024-10-02)");
        assert_oct2("\"2 Oct 2024\".");
        assert_eq!(parse_date("\u{a0}02.10.2024;", Dmy), oct2());
    }

    #[test]
    fn invalid_calendar_dates() {
        assert_eq!(parse_date("31.02.2024", Dmy), None);
        assert_eq!(parse_date("29.02.2023", Dmy), None);
        assert_eq!(parse_date("29.02.2024", Dmy), ymd(2024, 2, 29));
        assert_eq!(parse_date("2024-13-01", Dmy), None);
        assert_eq!(parse_date("2024-00-10", Dmy), None);
        assert_eq!(parse_date("13/13/2024", Dmy), None);
        assert_eq!(parse_date("32 Oct 2024", Dmy), None);
        assert_eq!(parse_date("0 Oct 2024", Dmy), None);
    }

    #[test]
    fn garbage() {
        for input in [
            "",
            "   ",
            "hello",
            "October",
            "Oct 2024",
            "2 Oct",
            "12.50",
            "1,234.56",
            "2024",
            "02.10.2024.05",
            "2024-10-02 garbage",
            "2 Oct 2024 Oct",
            "2 Octember 2024",
            "2 jui 2024",
            "2 ma 2024",
            "2 Oct 202",
            "2 Oct 20245",
            "123 Oct 2024",
            "02.10.2",
            "02.10.2024 25:00x",
            "10:00",
            "2024-10-02T",
            "2024-10-0210:00",
            "2024-10-02 100:00",
            "2024_10_02",
            "2024-10-02 (Wed)",
            "999999999999999999999",
            "2 Ωct 2024",
        ] {
            assert_eq!(parse_date(input, Dmy), None, "{input:?}");
            assert_eq!(parse_date(input, Mdy), None, "{input:?}");
        }
    }

    const MONTHS: [[&str; 12]; 12] = [
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ],
        [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        [
            "Jan.", "Feb.", "Mär.", "Apr.", "Mai", "Jun.", "Jul.", "Aug.", "Sep.", "Okt.", "Nov.",
            "Dez.",
        ],
        [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        [
            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
            "nov.", "déc.",
        ],
        [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        [
            "ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.",
            "nov.", "dic.",
        ],
        [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        [
            "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic",
        ],
        [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ],
        [
            "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
        ],
    ];

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1950i32..=2100, 1u32..=12, 1u32..=31)
            .prop_filter_map("not a calendar date", |(y, m, d)| ymd(y, m, d))
    }

    proptest! {
        #[test]
        fn never_panics(input in any::<String>()) {
            let _ = parse_date(&input, Dmy);
            let _ = parse_date(&input, Mdy);
        }

        #[test]
        fn never_panics_on_date_like_text(
            input in "[0-9./\\- :,TZaäeéiostuñºÄMOT\u{308}\u{a0}]{0,24}"
        ) {
            let _ = parse_date(&input, Dmy);
            let _ = parse_date(&input, Mdy);
        }

        #[test]
        fn round_trips_common_forms(date in any_date()) {
            let (y, m, d) = (date.year(), date.month(), date.day());
            let mut forms = vec![
                format!("{y:04}-{m:02}-{d:02}"),
                format!("{y:04}{m:02}{d:02}"),
                format!("{d:02}.{m:02}.{y:04}"),
            ];
            let index = usize::try_from(m - 1).unwrap_or_default();
            for names in MONTHS {
                let name = names.get(index).copied().unwrap_or_default();
                forms.push(format!("{d} {name} {y}"));
                forms.push(format!("{} {d}, {y}", name.to_uppercase()));
            }
            for form in &forms {
                prop_assert_eq!(parse_date(form, Dmy), Some(date), "{}", form);
            }
        }

        #[test]
        fn round_trips_month_first(date in any_date()) {
            let form = format!("{:02}/{:02}/{:04}", date.month(), date.day(), date.year());
            prop_assert_eq!(parse_date(&form, Mdy), Some(date), "{}", form);
        }
    }
}
