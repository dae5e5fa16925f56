//! Monetary amounts as written on invoices and statements: one number with an optional
//! currency symbol or code on either side, thousands separators in the Anglo, European
//! and Swiss styles, and the usual ways of writing a negative (`-12`, `12-`, `(12)`).
//! This module owns only the reading of one amount string into a value and a currency:
//! pure functions, no I/O, no locale or exchange-rate knowledge.

/// An ISO 4217 currency code, upper case ASCII.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(pub [u8; 3]);

impl Currency {
    /// The code as text. The field is public, so a hand-built value that is not ASCII
    /// reads as `???` rather than panicking.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// A parsed number and the currency written with it, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Amount {
    pub value: f64,
    pub currency: Option<Currency>,
}

/// Parses an amount such as `1.234,56 EUR`, `$1,234.56`, `CHF 1'234.50` or `(12.00)`;
/// `None` when the text is not exactly one amount.
///
/// - Currency: a symbol (`€ $ £ ¥` and a few more), `US$`-style dollars, `Fr.`/`SFr.`
///   (CHF), `zł`, `Kč`, `Ft`, `kr`, or any three ASCII letters (upper-cased), directly
///   before or after the number, with or without a space. `kr` alone is accepted but
///   leaves the currency unknown, since it is written for SEK, NOK, DKK and ISK alike.
/// - Separators: `,` `.` space, U+00A0, U+202F, U+2009, `'` and `’`. When both `.` and
///   `,` occur the last is the decimal separator; a separator repeated, or written
///   beside other grouping, groups thousands; a lone `.` or `,` before exactly three
///   digits groups thousands (`1,234` is 1234) when what precedes it can be a leading
///   group (1-3 digits, no leading zero), and is the decimal separator otherwise.
///   Thousands groups must be three digits.
/// - Numbers longer than 64 digits are not amounts.
/// - Sign: one of a leading `-`, `−` (U+2212) or `+`, a trailing `-`, or parentheses.
pub fn parse_amount(input: &str) -> Option<Amount> {
    let mut rest = input.trim();
    let mut number: Option<&str> = None;
    let mut currency_before: Option<Marker> = None;
    let mut currency_after: Option<Marker> = None;
    let mut sign: Option<Sign> = None;
    let (mut open, mut close) = (false, false);

    while let Some(c) = rest.chars().next() {
        let after_number = number.is_some();
        match c {
            c if c.is_whitespace() => {}
            '(' if !open && !after_number => open = true,
            ')' if open && !close && after_number => close = true,
            '-' | '\u{2212}' | '+' => {
                let this = if c == '+' { Sign::Plus } else { Sign::Minus };
                // A trailing `+` is not a convention anyone writes.
                if sign.is_some() || (after_number && this == Sign::Plus) {
                    return None;
                }
                sign = Some(this);
            }
            '0'..='9' if !after_number => {
                let (digits, tail) = scan_number(rest);
                number = Some(digits);
                rest = tail;
                continue;
            }
            _ => {
                let (marker, tail) = scan_currency(rest)?;
                let slot = if after_number {
                    &mut currency_after
                } else {
                    &mut currency_before
                };
                if slot.replace(marker).is_some() {
                    return None;
                }
                rest = tail;
                continue;
            }
        }
        rest = rest.get(c.len_utf8()..)?;
    }

    let digits = number?;
    // Parentheses already say negative; a sign as well is a contradiction or a typo.
    if open != close || (open && sign.is_some()) {
        return None;
    }
    let magnitude = parse_magnitude(digits)?;
    let negative = open || sign == Some(Sign::Minus);
    // `-0` would print as a negative zero downstream.
    let value = if negative && magnitude > 0.0 {
        -magnitude
    } else {
        magnitude
    };
    let marker = match (currency_before, currency_after) {
        (Some(a), Some(b)) => Some(a.combine(b)?),
        (a, b) => a.or(b),
    };
    Some(Amount {
        value,
        currency: marker.and_then(Marker::code),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sign {
    Plus,
    Minus,
}

/// A currency as written next to a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Code(Currency),
    /// `kr`: a crown of some Nordic country, which one the text does not say.
    Krona,
}

const CROWNS: [Currency; 4] = [
    Currency(*b"SEK"),
    Currency(*b"NOK"),
    Currency(*b"DKK"),
    Currency(*b"ISK"),
];

impl Marker {
    fn code(self) -> Option<Currency> {
        match self {
            Marker::Code(code) => Some(code),
            Marker::Krona => None,
        }
    }

    /// The currency meant when one is written on both sides (`€ 12 EUR`, `kr 12 SEK`);
    /// `None` when they disagree.
    fn combine(self, other: Marker) -> Option<Marker> {
        match (self, other) {
            (Marker::Code(a), Marker::Code(b)) => (a == b).then_some(self),
            (Marker::Krona, Marker::Krona) => Some(self),
            (Marker::Krona, Marker::Code(code)) | (Marker::Code(code), Marker::Krona) => {
                CROWNS.contains(&code).then_some(Marker::Code(code))
            }
        }
    }
}

/// Splits off the number at the start of `s`: digits, and separators that sit between
/// two digits. Stopping at a separator not followed by a digit leaves `12 EUR` and
/// `12-` to the caller, while `1 234` stays one number.
fn scan_number(s: &str) -> (&str, &str) {
    let mut end = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            end = i + 1;
            continue;
        }
        let digit_follows = chars.peek().is_some_and(|&(_, next)| next.is_ascii_digit());
        if separator_kind(c).is_none() || !digit_follows {
            break;
        }
    }
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// Splits off the currency symbol or word at the start of `s`; `None` when there is
/// none, which makes the whole amount unreadable.
fn scan_currency(s: &str) -> Option<(Marker, &str)> {
    let mut chars = s.chars();
    if let Some(code) = chars.next().and_then(symbol_currency) {
        return Some((Marker::Code(code), chars.as_str()));
    }
    let end = s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len());
    let (word, tail) = s.split_at_checked(end)?;
    if word.is_empty() {
        return None;
    }
    if let Some(tail) = tail.strip_prefix('$') {
        return Some((Marker::Code(prefixed_dollar(word)?), tail));
    }
    // Abbreviations such as `Fr.` and `kr.` are written with their dot.
    let tail = tail.strip_prefix('.').unwrap_or(tail);
    Some((word_currency(word)?, tail))
}

fn symbol_currency(c: char) -> Option<Currency> {
    let code = match c {
        '€' => b"EUR",
        '$' => b"USD",
        '£' => b"GBP",
        '¥' | '￥' => b"JPY",
        '₹' => b"INR",
        '₩' => b"KRW",
        '₽' => b"RUB",
        '₺' => b"TRY",
        '₪' => b"ILS",
        '₴' => b"UAH",
        '₫' => b"VND",
        '₱' => b"PHP",
        '₦' => b"NGN",
        '฿' => b"THB",
        _ => return None,
    };
    Some(Currency(*code))
}

/// `US$`, `C$`, `A$`, `HK$` ...: the letters say which dollar.
fn prefixed_dollar(prefix: &str) -> Option<Currency> {
    const DOLLARS: [(&str, &[u8; 3]); 11] = [
        ("us", b"USD"),
        ("c", b"CAD"),
        ("ca", b"CAD"),
        ("a", b"AUD"),
        ("au", b"AUD"),
        ("nz", b"NZD"),
        ("hk", b"HKD"),
        ("s", b"SGD"),
        ("sg", b"SGD"),
        ("mx", b"MXN"),
        ("r", b"BRL"),
    ];
    DOLLARS
        .iter()
        .find(|(name, _)| prefix.eq_ignore_ascii_case(name))
        .map(|(_, code)| Currency(**code))
}

fn word_currency(word: &str) -> Option<Marker> {
    const NAMED: [(&str, &[u8; 3]); 5] = [
        ("fr", b"CHF"),
        ("sfr", b"CHF"),
        ("zł", b"PLN"),
        ("kč", b"CZK"),
        ("ft", b"HUF"),
    ];
    // Three letters would otherwise pass as ISO-looking codes.
    const NOT_CURRENCIES: [&str; 2] = ["nan", "inf"];

    if let Some((_, code)) = NAMED.iter().find(|(name, _)| eq_lowercase(word, name)) {
        return Some(Marker::Code(Currency(**code)));
    }
    if eq_lowercase(word, "kr") {
        return Some(Marker::Krona);
    }
    if NOT_CURRENCIES.iter().any(|w| word.eq_ignore_ascii_case(w)) {
        return None;
    }
    match *word.as_bytes() {
        [a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Some(Marker::Code(Currency(
            [a, b, c].map(|b| b.to_ascii_uppercase()),
        ))),
        _ => None,
    }
}

/// Case-insensitive comparison with a lower-case name, for non-ASCII letters too (`ZŁ`).
fn eq_lowercase(word: &str, lower: &str) -> bool {
    word.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Separator {
    Dot,
    Comma,
    Space,
    Apostrophe,
}

fn separator_kind(c: char) -> Option<Separator> {
    match c {
        '.' => Some(Separator::Dot),
        ',' => Some(Separator::Comma),
        ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' => Some(Separator::Space),
        '\'' | '\u{2019}' => Some(Separator::Apostrophe),
        _ => None,
    }
}

/// Longest number read, in digits and decimal point: far more than an `f64` holds to
/// the cent, and short enough to rebuild on the stack.
const MAX_PLAIN_LEN: usize = 64;

/// The value of a scanned number: digits with single separators between them.
fn parse_magnitude(number: &str) -> Option<f64> {
    let (integer, fraction) = match decimal_separator(number) {
        Some(decimal) => number.rsplit_once(decimal)?,
        None => (number, ""),
    };
    if !is_grouped_integer(integer) {
        return None;
    }
    // Rebuilt as plain `1234.56` on the stack for the standard library's parser, which
    // rounds correctly where summing digits by hand would not.
    let mut buf = [0u8; MAX_PLAIN_LEN];
    let mut len = 0;
    let point = (!fraction.is_empty()).then_some(b'.');
    let plain_bytes = integer
        .bytes()
        .filter(u8::is_ascii_digit)
        .chain(point)
        .chain(fraction.bytes());
    for byte in plain_bytes {
        *buf.get_mut(len)? = byte;
        len += 1;
    }
    let value: f64 = std::str::from_utf8(buf.get(..len)?).ok()?.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Which character, if any, separates the decimals. Only the last separator can, and
/// only when it is a `.` or `,`.
fn decimal_separator(number: &str) -> Option<char> {
    let separators = || number.chars().filter(|&c| separator_kind(c).is_some());
    let last = separators().next_back()?;
    let kind = separator_kind(last)?;
    let other = match kind {
        Separator::Dot => ',',
        Separator::Comma => '.',
        Separator::Space | Separator::Apostrophe => return None,
    };
    if separators().any(|c| c == other) {
        return Some(last);
    }
    if separators().filter(|&c| c == last).count() > 1 {
        return None;
    }
    if separators().count() > 1 {
        // Spaces or apostrophes already group the thousands.
        return Some(last);
    }
    let (leading, trailing) = number.split_once(last)?;
    let groups_thousands = trailing.len() == 3 && is_leading_group(leading);
    (!groups_thousands).then_some(last)
}

/// Digits, optionally grouped in threes by one kind of thousands separator.
fn is_grouped_integer(integer: &str) -> bool {
    let mut kinds = integer.chars().filter_map(separator_kind);
    let Some(kind) = kinds.next() else {
        return true;
    };
    if kinds.any(|other| other != kind) {
        return false;
    }
    let mut groups = integer.split(|c: char| separator_kind(c).is_some());
    groups.next().is_some_and(is_leading_group) && groups.all(|group| group.len() == 3)
}

fn is_leading_group(group: &str) -> bool {
    (1..=3).contains(&group.len()) && !group.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(text: &str) -> Option<Currency> {
        match *text.as_bytes() {
            [a, b, c] => Some(Currency([a, b, c])),
            _ => None,
        }
    }

    #[track_caller]
    fn check(input: &str, value: f64, currency: Option<&str>) {
        let expected = Amount {
            value,
            currency: currency.and_then(code),
        };
        assert_eq!(parse_amount(input), Some(expected), "{input:?}");
    }

    #[track_caller]
    fn reject(input: &str) {
        assert_eq!(parse_amount(input), None, "{input:?}");
    }

    #[test]
    fn currency_as_str() {
        assert_eq!(Currency(*b"EUR").as_str(), "EUR");
        assert_eq!(Currency([0xff, 0, 0]).as_str(), "???");
    }

    #[test]
    fn plain_numbers() {
        check("12", 12.0, None);
        check("1234.56", 1234.56, None);
        check("0.5", 0.5, None);
        check("007", 7.0, None);
        check("  42  ", 42.0, None);
    }

    #[test]
    fn symbols_and_codes_either_side() {
        check("€1.240,00", 1240.0, Some("EUR"));
        check("1.240,00 EUR", 1240.0, Some("EUR"));
        check("EUR 1,240.00", 1240.0, Some("EUR"));
        check("$1,234.56", 1234.56, Some("USD"));
        check("USD1234.56", 1234.56, Some("USD"));
        check("1234.56USD", 1234.56, Some("USD"));
        check("£12", 12.0, Some("GBP"));
        check("¥1000", 1000.0, Some("JPY"));
        check("CHF 1'234.50", 1234.5, Some("CHF"));
        check("Fr. 12.50", 12.5, Some("CHF"));
        check("12.50 Fr.", 12.5, Some("CHF"));
        check("SFr. 12.50", 12.5, Some("CHF"));
        check("1 234,00 €", 1234.0, Some("EUR"));
        check("12 €", 12.0, Some("EUR"));
        check("12€", 12.0, Some("EUR"));
        check("100 SEK", 100.0, Some("SEK"));
        check("100 zł", 100.0, Some("PLN"));
        check("100 Kč", 100.0, Some("CZK"));
        check("100 Ft", 100.0, Some("HUF"));
        check("₹500", 500.0, Some("INR"));
    }

    #[test]
    fn any_three_letter_code_is_upper_cased() {
        check("12 eur", 12.0, Some("EUR"));
        check("nok 12", 12.0, Some("NOK"));
        check("12 Xyz", 12.0, Some("XYZ"));
    }

    #[test]
    fn dollar_alone_is_usd_and_prefixes_name_other_dollars() {
        check("$5", 5.0, Some("USD"));
        check("US$5", 5.0, Some("USD"));
        check("C$5", 5.0, Some("CAD"));
        check("A$5", 5.0, Some("AUD"));
        check("HK$5", 5.0, Some("HKD"));
        reject("XX$5");
    }

    #[test]
    fn krona_without_code_is_accepted_but_unknown() {
        check("kr 100", 100.0, None);
        check("100 kr.", 100.0, None);
        check("kr 100 SEK", 100.0, Some("SEK"));
        check("DKK 100 kr", 100.0, Some("DKK"));
        reject("kr 100 EUR");
    }

    #[test]
    fn same_currency_twice_is_one_currency() {
        check("€ 12 EUR", 12.0, Some("EUR"));
    }

    #[test]
    fn thousands_separators() {
        check("1,234", 1234.0, None);
        check("1.234", 1234.0, None);
        check("1.234.567", 1_234_567.0, None);
        check("1,234,567", 1_234_567.0, None);
        check("1 234", 1234.0, None);
        check("1\u{a0}234", 1234.0, None);
        check("1\u{202f}234", 1234.0, None);
        check("1'234", 1234.0, None);
        check("1\u{2019}234", 1234.0, None);
        check("1 234 567,89", 1_234_567.89, None);
        check("1'234'567.89", 1_234_567.89, None);
    }

    #[test]
    fn both_separators_last_is_decimal() {
        check("1.234,56", 1234.56, None);
        check("1,234.56", 1234.56, None);
        check("1.234.567,8", 1_234_567.8, None);
        check("1,234,567.891", 1_234_567.891, None);
    }

    #[test]
    fn lone_separator_is_decimal_unless_three_digits_follow() {
        check("12,5", 12.5, None);
        check("12,50", 12.5, None);
        check("1.2345", 1.2345, None);
        // Three digits after, but what comes before cannot be a leading group.
        check("0,123", 0.123, None);
        check("1234,567", 1234.567, None);
        // Grouping spaces fix the lone `.` as the decimal separator.
        check("1 234.567", 1234.567, None);
    }

    #[test]
    fn negatives() {
        check("-12", -12.0, None);
        check("- 12", -12.0, None);
        check("12-", -12.0, None);
        check("1.240,00- EUR", -1240.0, Some("EUR"));
        check("(12)", -12.0, None);
        check("(€ 12,00)", -12.0, Some("EUR"));
        check("€ (12,00)", -12.0, Some("EUR"));
        check("−12", -12.0, None);
        check("-€12", -12.0, Some("EUR"));
        check("EUR -12", -12.0, Some("EUR"));
        check("+12", 12.0, None);
        check("-0", 0.0, None);
        assert!(parse_amount("-0.00").is_some_and(|a| a.value.is_sign_positive()));
    }

    #[test]
    fn rejections() {
        for input in [
            "",
            "   ",
            "-",
            "()",
            "€",
            "EUR",
            "12 34",
            "12 apples",
            "apples 12",
            "EUR 12 USD",
            "$12 EUR",
            "€ $ 12",
            "1,23,4",
            "1.234.56",
            "1.23.456",
            "1,234.567,89",
            "1'234.567,89",
            "0,123,456",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "12 NaN",
            "1e5",
            "12,-",
            "12.",
            ".5",
            "--12",
            "-12-",
            "(-12)",
            "-(12)",
            "(12",
            "12)",
            "((12))",
            "12+",
            "12 - 3",
            "1 2",
            "12 EUR 34",
            "٣",
            "12 €€",
        ] {
            reject(input);
        }
        reject(&"9".repeat(65));
        check(&"9".repeat(64), 1e64, None);
    }

    /// `cents` written with `thousands` between groups of three and `decimal` before the
    /// two decimals, sign left to the caller.
    fn format_cents(cents: u64, thousands: &str, decimal: char) -> String {
        let integer = (cents / 100).to_string();
        let mut out = String::new();
        for (i, digit) in integer.chars().enumerate() {
            if i > 0 && (integer.len() - i) % 3 == 0 {
                out.push_str(thousands);
            }
            out.push(digit);
        }
        format!("{out}{decimal}{:02}", cents % 100)
    }

    fn close_to(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
    }

    const STYLES: [(&str, char); 5] = [
        ("", '.'),
        (",", '.'),
        (".", ','),
        ("'", '.'),
        ("\u{a0}", ','),
    ];

    proptest! {
        #[test]
        fn never_panics(input in any::<String>()) {
            let _ = parse_amount(&input);
        }

        #[test]
        fn never_panics_on_amount_like_text(
            input in "[0-9.,' \u{a0}\u{2019}€$()+\\-\u{2212}EURkrłFSs]{0,24}"
        ) {
            let _ = parse_amount(&input);
        }

        #[test]
        fn round_trips_formatted_amounts(cents in -1_000_000_000_000i64..1_000_000_000_000) {
            let expected = cents as f64 / 100.0;
            let sign = if cents < 0 { "-" } else { "" };
            for (thousands, decimal) in STYLES {
                let number = format_cents(cents.unsigned_abs(), thousands, decimal);
                let written = [
                    (format!("{sign}{number}"), None),
                    (format!("{sign}EUR {number}"), code("EUR")),
                    (format!("{sign}{number} EUR"), code("EUR")),
                    (format!("{sign}€{number}"), code("EUR")),
                    (format!("{sign}{number} €"), code("EUR")),
                ];
                for (text, currency) in written {
                    let parsed = parse_amount(&text);
                    prop_assert!(
                        parsed.is_some_and(|a| close_to(a.value, expected) && a.currency == currency),
                        "{:?} parsed as {:?}, expected {}", text, parsed, expected
                    );
                }
            }
        }

        #[test]
        fn negative_forms(cents in 1u64..1_000_000_000_000) {
            let expected = -(cents as f64 / 100.0);
            for (thousands, decimal) in STYLES {
                let number = format_cents(cents, thousands, decimal);
                for text in [
                    format!("({number})"),
                    format!("{number}-"),
                    format!("(€ {number})"),
                    format!("{number}- EUR"),
                ] {
                    let parsed = parse_amount(&text);
                    prop_assert!(
                        parsed.is_some_and(|a| close_to(a.value, expected)),
                        "{:?} parsed as {:?}, expected {}", text, parsed, expected
                    );
                }
            }
        }
    }
}
