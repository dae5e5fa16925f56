//! The `realistic` profile: documents with the noise real extraction produces, and
//! vendors that number their invoices with short plain numbers. Every rate it uses is a
//! row of `rate` below; `docs/synth.md` is the same table with where each rate comes
//! from, and a test keeps the two equal. Like the rest of `synth`, nothing here knows
//! the matcher: confusions it folds and confusions it does not are both generated, at the
//! rates extraction makes them.

use super::rng::Rng;
use super::{
    change_separators, currency_symbol, drop_prefix, expand_umlauts, push_date, push_filename,
    push_legal, push_po, push_styled_amount, strip_diacritics, transpose_digits, typo, ymd,
    AmountStyle, DateStyle, DocDraft, Issued, Lang, VendorName, Ymd, FIELD_SEPARATOR,
};

/// Defines each rate as a documented `f64` constant and lists them all in `ALL`, so that
/// the table in `docs/synth.md` can be checked against the code.
macro_rules! rate_table {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        $($(#[$doc])* pub const $name: f64 = $value;)*
        /// Every rate by name, in table order.
        #[cfg(test)]
        pub const ALL: &[(&str, f64)] = &[$((stringify!($name), $name)),*];
    };
}

/// The rates of the realistic profile. Unless a row says "of", a rate is the chance per
/// document, drawn independently of the others. Sources are in `docs/synth.md`.
pub(super) mod rate {
    rate_table! {
        /// Vendors that number invoices with a short plain number (`10452`), started
        /// low, so that vendors share numbers. Judgment.
        SHORT_NUMBER_VENDORS = 0.30;

        /// The vendor name is empty.
        VENDOR_MISSING = 0.02;
        /// The invoice number is empty.
        NUMBER_MISSING = 0.03;
        /// The invoice date is empty.
        DATE_MISSING = 0.03;
        /// The total is empty.
        TOTAL_MISSING = 0.02;

        /// The legal form is left out (`Müller Logistik`).
        LEGAL_FORM_DROPPED = 0.07;
        /// The legal form is written another way (`G.m.b.H.`, `Gesellschaft mbH`, `Limited`).
        LEGAL_FORM_VARIANT = 0.11;
        /// One character of the name inserted, dropped, replaced or swapped.
        NAME_TYPO = 0.05;
        /// Of names with a typo, a second one.
        NAME_SECOND_TYPO = 0.25;
        /// One OCR letter confusion in the name (`rn`/`m`, `cl`/`d`, `l`/`I`, `e`/`c`).
        NAME_OCR_CONFUSION = 0.04;
        /// The name cut off after 12 to 25 characters.
        NAME_TRUNCATED = 0.02;
        /// The stem and the industry word change places.
        WORD_ORDER_CHANGED = 0.02;
        /// A word other than the stem is left out.
        WORD_DROPPED = 0.03;
        /// Of names with accents, the accents lost.
        DIACRITICS_LOST = 0.25;
        /// Of German names with umlauts, the umlauts written out (`Mueller`).
        UMLAUTS_WRITTEN_OUT = 0.08;
        /// The name in capitals.
        ALL_CAPS = 0.11;
        /// The name in lower case.
        LOWER_CASE = 0.01;

        /// The letter prefix left out (`INV-2023-0042` as `2023-0042`).
        NUMBER_PREFIX_DROPPED = 0.06;
        /// The prefix replaced or added (`RE-2023-0042`, `Nr. 10452`).
        NUMBER_PREFIX_CHANGED = 0.03;
        /// The separators changed or dropped (`INV/2023/0042`, `INV20230042`).
        NUMBER_SEPARATORS_CHANGED = 0.11;
        /// The leading zeros of the last digit group dropped (`INV-2023-42`).
        NUMBER_LEADING_ZEROS_DROPPED = 0.02;
        /// One character read as a look-alike that matchers usually fold: O/0, I/1/l,
        /// S/5, B/8, Z/2, G/6.
        NUMBER_FOLDED_CONFUSION = 0.04;
        /// One character read as a look-alike that is not folded: D/0, Q/0, U/V, rn/m,
        /// 7/1, 3/8.
        NUMBER_UNFOLDED_CONFUSION = 0.015;
        /// One digit misread as another, or two adjacent digits transposed (half each).
        NUMBER_DIGIT_ERROR = 0.03;
        /// Of numbers with a digit error, a second one.
        NUMBER_SECOND_ERROR = 0.2;
        /// The number in lower case.
        NUMBER_LOWER_CASE = 0.04;

        /// The date 1 to 5 days off, four times in five earlier (the document date
        /// against the ledger's posting date).
        DATE_SHIFTED = 0.12;
        /// Of dates whose day is 12 or less (and not the month), day and month swapped.
        DATE_DAY_MONTH_SWAPPED = 0.03;
        /// The date written in a style of the vendor's country rather than ISO.
        DATE_REFORMATTED = 0.39;

        /// The total rounded to whole units, then written with or without `.00`.
        TOTAL_ROUNDED = 0.04;
        /// The total 0.1% to 2% off, three times in four lower (cash discount, net
        /// against gross of a small item, a fee).
        TOTAL_OFF = 0.04;
        /// The total written in a style of the vendor's country rather than `1240.00`.
        TOTAL_REFORMATTED = 0.40;
        /// The currency as a symbol (`€`).
        CURRENCY_SYMBOL = 0.12;
        /// The currency empty.
        CURRENCY_EMPTY = 0.12;

        /// Of documents whose invoice has a PO number, the PO number not extracted.
        PO_DROPPED = 0.40;
        /// The PO number written another way (`PO 4500012345`).
        PO_REWRITTEN = 0.19;
        /// One look-alike in the PO number.
        PO_LOOK_ALIKE = 0.05;
    }
}

/// Where a short plain sequence starts: `1001` (the default of common small-business
/// accounting software), or anywhere from 100 to 30,000, so that vendors overlap.
pub(super) fn short_first_number(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => 1_001,
        1 => 100 + rng.below(900),
        2 => 1_000 + rng.below(9_000),
        _ => 10_000 + rng.below(20_000),
    }
}

pub(super) fn extract(issued: &Issued<'_>, row_id: Option<u64>, rng: &mut Rng) -> DocDraft {
    let vendor = issued.vendor;
    let country = vendor.name.country;
    let mut text = String::with_capacity(160);
    push_filename(&mut text, issued, rng);
    text.push(FIELD_SEPARATOR);
    if !rng.chance(rate::VENDOR_MISSING) {
        text.push_str(&vendor_name(&vendor.name, rng));
    }
    text.push(FIELD_SEPARATOR);
    if !rng.chance(rate::NUMBER_MISSING) {
        let mut clean = String::new();
        vendor.format.render(issued.seq, issued.year, &mut clean);
        text.push_str(&invoice_number(&clean, rng));
    }
    text.push(FIELD_SEPARATOR);
    if !rng.chance(rate::DATE_MISSING) {
        let day = document_day(issued.day, rng);
        let style = if rng.chance(rate::DATE_REFORMATTED) {
            rng.pick_weighted(country.date_styles)
        } else {
            DateStyle::Iso
        };
        push_date(&mut text, day, style);
    }
    text.push(FIELD_SEPARATOR);
    if !rng.chance(rate::TOTAL_MISSING) {
        let (cents, whole) = document_total(issued.cents, rng);
        let style = if rng.chance(rate::TOTAL_REFORMATTED) {
            rng.pick_weighted(country.amount_styles)
        } else {
            AmountStyle::Plain
        };
        push_styled_amount(&mut text, cents, whole, vendor.currency, style);
    }
    text.push(FIELD_SEPARATOR);
    if rng.chance(rate::CURRENCY_SYMBOL) {
        text.push_str(currency_symbol(vendor.currency));
    } else if !rng.chance(rate::CURRENCY_EMPTY) {
        text.push_str(vendor.currency);
    }
    text.push(FIELD_SEPARATOR);
    if let Some(po) = issued.po.filter(|_| !rng.chance(rate::PO_DROPPED)) {
        text.push_str(&po_number(po, rng));
    }
    DocDraft { row_id, text }
}

// ---------------------------------------------------------------------------------------
// Vendor names

/// The ways extraction writes a legal form beyond the fixtures' variants: long forms,
/// dotted forms and the abbreviations registries accept.
fn more_legal_variants(legal: &str) -> &'static [&'static str] {
    match legal {
        "GmbH" => &[
            "G.m.b.H.",
            "Gesellschaft mbH",
            "Gesellschaft mit beschränkter Haftung",
            "mbH",
        ],
        "AG" => &["Aktiengesellschaft", "A.G."],
        "GmbH & Co. KG" => &["GmbH & Co. Kommanditgesellschaft", "GmbH + Co. KG"],
        "Ltd" | "Limited" => &["Limited", "Ltd", "Ltd."],
        "Inc." => &["Incorporated", "INC"],
        "LLC" => &["L.L.C.", "Limited Liability Company"],
        "Corp." => &["Corporation", "Corp"],
        "S.r.l." => &["S.R.L.", "Società a responsabilità limitata"],
        "SARL" => &["S.à r.l.", "S.A.R.L."],
        "B.V." => &["BV", "Besloten Vennootschap"],
        "S.L." => &["SL", "Sociedad Limitada"],
        _ => &[],
    }
}

/// OCR letter confusions in names, as `(read, written)` pairs.
const NAME_CONFUSIONS: &[(&str, &str)] = &[
    ("m", "rn"),
    ("rn", "m"),
    ("d", "cl"),
    ("cl", "d"),
    ("h", "li"),
    ("l", "I"),
    ("I", "l"),
    ("i", "l"),
    ("e", "c"),
    ("c", "e"),
    ("a", "o"),
    ("w", "vv"),
    ("ü", "ii"),
    ("é", "e"),
];

fn vendor_name(name: &VendorName, rng: &mut Rng) -> String {
    let core = name.core();
    let mut tokens: Vec<String> = core.words.iter().map(|w| w.to_string()).collect();
    if rng.chance(rate::WORD_ORDER_CHANGED) {
        tokens.swap(core.stem, core.industry);
    } else if rng.chance(rate::WORD_DROPPED) {
        let others: Vec<usize> = (0..tokens.len()).filter(|&i| i != core.stem).collect();
        tokens.remove(rng.pick(&others));
    }
    if rng.chance(rate::NAME_TYPO) {
        let edits = if rng.chance(rate::NAME_SECOND_TYPO) {
            2
        } else {
            1
        };
        for _ in 0..edits {
            let long: Vec<usize> = (0..tokens.len())
                .filter(|&i| tokens[i].chars().filter(|c| c.is_alphabetic()).count() >= 4)
                .collect();
            if !long.is_empty() {
                let at = rng.pick(&long);
                tokens[at] = typo(&tokens[at], rng);
            }
        }
    }
    let mut out = tokens.join(" ");
    if !rng.chance(rate::LEGAL_FORM_DROPPED) {
        let legal = if rng.chance(rate::LEGAL_FORM_VARIANT) {
            let more = more_legal_variants(name.legal.name);
            let all = name.legal.variants.len() + more.len();
            let at = rng.below(all as u64) as usize;
            name.legal
                .variants
                .get(at)
                .copied()
                .unwrap_or_else(|| more[at - name.legal.variants.len()])
        } else {
            name.legal.name
        };
        push_legal(&mut out, legal);
    }
    if name.country.lang == Lang::De
        && out.contains(['ä', 'ö', 'ü', 'Ä', 'Ö', 'Ü', 'ß'])
        && rng.chance(rate::UMLAUTS_WRITTEN_OUT)
    {
        out = expand_umlauts(&out);
    } else if !out.is_ascii() && rng.chance(rate::DIACRITICS_LOST) {
        out = strip_diacritics(&out);
    }
    if rng.chance(rate::NAME_OCR_CONFUSION) {
        out = confuse(&out, NAME_CONFUSIONS, rng);
    }
    if rng.chance(rate::NAME_TRUNCATED) {
        out = truncate(&out, 12 + rng.below(14) as usize);
    }
    if rng.chance(rate::ALL_CAPS) {
        out = out.to_uppercase();
    } else if rng.chance(rate::LOWER_CASE) {
        out = out.to_lowercase();
    }
    out
}

/// The first `chars` characters, without trailing spaces; shorter text as it is.
fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => text[..at].trim_end().to_string(),
        None => text.to_string(),
    }
}

/// One occurrence of one `(read, written)` pair's `read` replaced by `written`, chosen
/// uniformly among all occurrences of all pairs; the text as it is when none occurs.
fn confuse(text: &str, pairs: &[(&str, &str)], rng: &mut Rng) -> String {
    let spots: Vec<(usize, usize)> = pairs
        .iter()
        .enumerate()
        .flat_map(|(pair, (read, _))| text.match_indices(read).map(move |(at, _)| (at, pair)))
        .collect();
    if spots.is_empty() {
        return text.to_string();
    }
    let (at, pair) = rng.pick(&spots);
    let (read, written) = pairs[pair];
    format!("{}{written}{}", &text[..at], &text[at + read.len()..])
}

// ---------------------------------------------------------------------------------------
// Invoice numbers

/// Look-alikes a matcher usually folds.
const FOLDED_CONFUSIONS: &[(&str, &str)] = &[
    ("0", "O"),
    ("1", "I"),
    ("1", "l"),
    ("5", "S"),
    ("8", "B"),
    ("2", "Z"),
    ("6", "G"),
    ("O", "0"),
    ("I", "1"),
    ("l", "1"),
    ("S", "5"),
    ("B", "8"),
    ("Z", "2"),
    ("G", "6"),
];

/// Look-alikes a matcher does not fold: they change the number.
const UNFOLDED_CONFUSIONS: &[(&str, &str)] = &[
    ("0", "D"),
    ("0", "Q"),
    ("D", "0"),
    ("Q", "0"),
    ("U", "V"),
    ("V", "U"),
    ("M", "RN"),
    ("rn", "m"),
    ("m", "rn"),
    ("7", "1"),
    ("1", "7"),
    ("3", "8"),
    ("8", "3"),
];

/// Digits a digit is misread as: the shapes closest to it.
const MISREAD_DIGITS: [&[u8]; 10] = [
    b"869", b"74", b"73", b"859", b"19", b"63", b"580", b"12", b"3069", b"480",
];

/// Prefixes an invoice number is given instead of its own: other vendors' habits and
/// the label on the invoice read along with the number.
const OTHER_PREFIXES: &[&str] = &["INV-", "RE-", "RG-", "Nr. ", "No. ", "F-", "R"];

fn invoice_number(clean: &str, rng: &mut Rng) -> String {
    let mut number = clean.to_string();
    if rng.chance(rate::NUMBER_PREFIX_DROPPED) {
        number = drop_prefix(&number);
    } else if rng.chance(rate::NUMBER_PREFIX_CHANGED) {
        number = change_prefix(&number, rng);
    }
    if rng.chance(rate::NUMBER_SEPARATORS_CHANGED) {
        number = change_separators(&number, rng);
    }
    if rng.chance(rate::NUMBER_LEADING_ZEROS_DROPPED) {
        number = drop_leading_zeros(&number);
    }
    if rng.chance(rate::NUMBER_FOLDED_CONFUSION) {
        number = confuse(&number, FOLDED_CONFUSIONS, rng);
    }
    if rng.chance(rate::NUMBER_UNFOLDED_CONFUSION) {
        number = confuse(&number, UNFOLDED_CONFUSIONS, rng);
    }
    if rng.chance(rate::NUMBER_DIGIT_ERROR) {
        let errors = if rng.chance(rate::NUMBER_SECOND_ERROR) {
            2
        } else {
            1
        };
        for _ in 0..errors {
            number = if rng.chance(0.5) {
                misread_digit(&number, rng)
            } else {
                transpose_digits(&number, rng)
            };
        }
    }
    if rng.chance(rate::NUMBER_LOWER_CASE) {
        number = number.to_lowercase();
    }
    number
}

/// Another prefix in place of the letters before the first digit, or one added to a
/// number that has none.
fn change_prefix(number: &str, rng: &mut Rng) -> String {
    let digits_at = number.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    let (prefix, rest) = number.split_at(digits_at);
    let letters = prefix.trim_end_matches(['-', '/', '.', ' ']);
    let others: Vec<&str> = OTHER_PREFIXES
        .iter()
        .copied()
        .filter(|p| p.trim_end_matches(['-', '.', ' ']) != letters)
        .collect();
    format!("{}{rest}", rng.pick(&others))
}

/// `INV-2023-0042` as `INV-2023-42`: the zeros of the last digit group, one digit kept.
fn drop_leading_zeros(number: &str) -> String {
    let end = number.trim_end_matches(|c: char| !c.is_ascii_digit()).len();
    let start = number[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let group = &number[start..end];
    let kept = group.trim_start_matches('0');
    let kept = if kept.is_empty() { "0" } else { kept };
    format!("{}{kept}{}", &number[..start], &number[end..])
}

/// One digit read as a similar-looking other digit.
fn misread_digit(number: &str, rng: &mut Rng) -> String {
    let spots: Vec<usize> = number
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if spots.is_empty() {
        return number.to_string();
    }
    let at = rng.pick(&spots);
    let digit = number.as_bytes()[at] - b'0';
    let read = rng.pick(MISREAD_DIGITS[usize::from(digit)]);
    let mut out = number.to_string();
    // A digit is one byte, and so is its replacement.
    out.replace_range(at..=at, &char::from(read).to_string());
    out
}

fn po_number(po: u64, rng: &mut Rng) -> String {
    let mut text = String::with_capacity(16);
    push_po(&mut text, po);
    if rng.chance(rate::PO_REWRITTEN) {
        let digits = text.trim_start_matches("PO-").to_string();
        let prefix = rng.pick(&["", "PO ", "PO-Nr. ", "PO", "P.O. "]);
        text = format!("{prefix}{digits}");
    }
    if rng.chance(rate::PO_LOOK_ALIKE) {
        text = confuse(&text, &FOLDED_CONFUSIONS[..7], rng);
    }
    text
}

// ---------------------------------------------------------------------------------------
// Dates and totals

/// The day the document shows for an invoice the ledger posted on `day`.
fn document_day(day: i64, rng: &mut Rng) -> i64 {
    let mut day = day;
    if rng.chance(rate::DATE_SHIFTED) {
        let shift = 1 + rng.below(5) as i64;
        day += if rng.chance(0.8) { -shift } else { shift };
    }
    let Ymd {
        year,
        month,
        day: dom,
    } = ymd(day);
    if dom <= 12 && dom != month && rng.chance(rate::DATE_DAY_MONTH_SWAPPED) {
        day = days_from_civil(year, dom, month);
    }
    day
}

/// Days since 1970-01-01 of a calendar date (Hinnant's `days_from_civil`), the inverse
/// of `ymd`: integers only.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The cents the document shows, and whether they are written without decimals.
fn document_total(cents: u64, rng: &mut Rng) -> (u64, bool) {
    if rng.chance(rate::TOTAL_ROUNDED) {
        return ((cents + 50) / 100 * 100, rng.chance(0.6));
    }
    if rng.chance(rate::TOTAL_OFF) {
        let delta = (cents * (1 + rng.below(20)) / 1_000).max(1);
        let cents = if rng.chance(0.75) {
            cents - delta
        } else {
            cents + delta
        };
        return (cents, false);
    }
    (cents, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_civil_inverts_ymd() {
        for days in 18_000..22_000 {
            let Ymd { year, month, day } = ymd(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }

    #[test]
    fn number_noise_does_what_its_row_says() {
        assert_eq!(drop_leading_zeros("INV-2023-0042"), "INV-2023-42");
        assert_eq!(drop_leading_zeros("00042"), "42");
        assert_eq!(drop_leading_zeros("348/2026"), "348/2026");
        assert_eq!(drop_leading_zeros("RE-0000"), "RE-0");
        let mut rng = Rng::new(4, 99);
        for _ in 0..200 {
            let changed = change_prefix("INV-2023-0042", &mut rng);
            assert!(changed.ends_with("2023-0042") && !changed.starts_with("INV-"));
            assert!(change_prefix("10452", &mut rng).ends_with("10452"));
            let misread = misread_digit("RE-2025/00871", &mut rng);
            assert_eq!(misread.len(), "RE-2025/00871".len());
            assert_ne!(misread, "RE-2025/00871");
            assert_ne!(confuse("10452", UNFOLDED_CONFUSIONS, &mut rng), "10452");
        }
        assert_eq!(confuse("ABC", UNFOLDED_CONFUSIONS, &mut rng), "ABC");
    }

    #[test]
    fn names_are_truncated_on_characters_and_lose_trailing_spaces() {
        assert_eq!(truncate("Müller Logistik GmbH", 7), "Müller");
        assert_eq!(truncate("Müller", 12), "Müller");
    }

    #[test]
    fn the_rate_table_in_docs_synth_md_is_the_one_in_the_code() {
        let doc = include_str!("../../docs/synth.md");
        for &(name, value) in rate::ALL {
            assert!((0.0..=1.0).contains(&value), "{name}");
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` ")))
                .unwrap_or_else(|| panic!("docs/synth.md has no row for {name}"));
            let percent = format!("| {}% |", (value * 1_000.0).round() / 10.0);
            assert!(row.contains(&percent), "{name}: {row} lacks {percent}");
        }
        let rows = doc.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(
            rows,
            rate::ALL.len(),
            "a row in docs/synth.md the code lacks"
        );
    }
}
