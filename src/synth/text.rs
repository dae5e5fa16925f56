//! Calendar and number text: dates in the many ways invoices write them, amounts with their
//! separators and currency marks, padded numbers.

/// 2024-01-01 as days since 1970-01-01: the ledger spans three years from it.
pub(super) const FIRST_DAY: i64 = 19_723;
pub(super) const LEDGER_DAYS: u64 = 1_096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ymd {
    pub(super) year: i32,
    pub(super) month: u32,
    pub(super) day: u32,
}

/// The calendar date of a day number (Hinnant's `civil_from_days`): integers only.
pub(super) fn ymd(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Ymd {
        year: year as i32,
        month: month as u32,
        day: day as u32,
    }
}

pub(super) fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Appends `n` in decimal, zero-padded to `width` digits.
pub(super) fn push_padded(out: &mut String, n: u64, width: usize) {
    for _ in digit_count(n)..width {
        out.push('0');
    }
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(buf[at..].iter().map(|&b| char::from(b)));
}

pub(super) fn push_ledger_id(out: &mut String, id: u64, width: usize) {
    out.push_str("OI-");
    push_padded(out, id, width);
}

/// The ways a date is written on an invoice; numeric ones day first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DateStyle {
    Iso,
    Dotted,
    Slashed,
    Dashed,
    Compact,
    DayMonEnglish,
    DayMonthEnglish,
    MonthDayEnglish,
    MonDayEnglish,
    German,
    French,
    Spanish,
    Italian,
    Dutch,
}

pub(super) const MONTHS_EN: [&str; 12] = [
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
];
pub(super) const MONTHS_DE: [&str; 12] = [
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
];
pub(super) const MONTHS_FR: [&str; 12] = [
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
];
pub(super) const MONTHS_ES: [&str; 12] = [
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
];
pub(super) const MONTHS_IT: [&str; 12] = [
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
];
pub(super) const MONTHS_NL: [&str; 12] = [
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
];

pub(super) fn push_date(out: &mut String, days: i64, style: DateStyle) {
    let Ymd { year, month, day } = ymd(days);
    let (year, month, day) = (
        u64::try_from(year).unwrap_or(0),
        month as usize,
        u64::from(day),
    );
    let month_index = month.saturating_sub(1).min(11);
    let numeric = |out: &mut String, sep: char| {
        push_padded(out, day, 2);
        out.push(sep);
        push_padded(out, month as u64, 2);
        out.push(sep);
        push_padded(out, year, 4);
    };
    // Day, then a month name, then the year: `2 Mar 2026`, `2. März 2026`.
    let named = |out: &mut String, after_day: &str, name: &str, before_year: &str| {
        push_padded(out, day, 1);
        out.push_str(after_day);
        out.push_str(name);
        out.push_str(before_year);
        push_padded(out, year, 4);
    };
    match style {
        DateStyle::Iso => {
            push_padded(out, year, 4);
            out.push('-');
            push_padded(out, month as u64, 2);
            out.push('-');
            push_padded(out, day, 2);
        }
        DateStyle::Dotted => numeric(out, '.'),
        DateStyle::Slashed => numeric(out, '/'),
        DateStyle::Dashed => numeric(out, '-'),
        DateStyle::Compact => {
            push_padded(out, year, 4);
            push_padded(out, month as u64, 2);
            push_padded(out, day, 2);
        }
        DateStyle::DayMonEnglish => {
            named(out, " ", &MONTHS_EN[month_index][..3], " ");
        }
        DateStyle::DayMonthEnglish => named(out, " ", MONTHS_EN[month_index], " "),
        DateStyle::MonthDayEnglish | DateStyle::MonDayEnglish => {
            let name = MONTHS_EN[month_index];
            out.push_str(if style == DateStyle::MonDayEnglish {
                &name[..3]
            } else {
                name
            });
            out.push(' ');
            push_padded(out, day, 1);
            out.push_str(", ");
            push_padded(out, year, 4);
        }
        DateStyle::German => named(out, ". ", MONTHS_DE[month_index], " "),
        DateStyle::French => named(out, " ", MONTHS_FR[month_index], " "),
        DateStyle::Spanish => named(out, " de ", MONTHS_ES[month_index], " de "),
        DateStyle::Italian => named(out, " ", MONTHS_IT[month_index], " "),
        DateStyle::Dutch => named(out, " ", MONTHS_NL[month_index], " "),
    }
}

/// The ways an amount is written: separators, and a currency code or symbol around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AmountStyle {
    /// `1240.00`, as the ledger has it.
    Plain,
    /// `1,240.00`
    Anglo,
    /// `£1,240.00`
    AngloSymbol,
    /// `USD 1,240.00`
    AngloCode,
    /// `1.240,00`
    Euro,
    /// `1240,00`
    EuroUngrouped,
    /// `EUR 1.240,00`
    EuroCodeBefore,
    /// `1.240,00 EUR`
    EuroCodeAfter,
    /// `1.240,00 €`
    EuroSymbolAfter,
    /// `€1240,00`, `€1240`
    SymbolCompact,
    /// `$1240.00`, `$1240`
    SymbolCompactAnglo,
    /// `CHF 1'240.00`
    Swiss,
    /// `1'240.00`
    SwissPlain,
}

pub(super) fn currency_symbol(currency: &str) -> &'static str {
    match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        _ => "Fr.",
    }
}

/// Appends `cents` with thousands grouped by `group` (if any) and, unless `whole`, two
/// decimals after `decimal`.
pub(super) fn push_amount(
    out: &mut String,
    cents: u64,
    whole: bool,
    group: Option<char>,
    decimal: char,
) {
    let units = cents / 100;
    let mut text = String::new();
    push_padded(&mut text, units, 1);
    match group {
        Some(sep) => {
            let lead = text.len() % 3;
            for (i, c) in text.chars().enumerate() {
                if i > 0 && (i + 3 - lead) % 3 == 0 {
                    out.push(sep);
                }
                out.push(c);
            }
        }
        None => out.push_str(&text),
    }
    if !whole {
        out.push(decimal);
        push_padded(out, cents % 100, 2);
    }
}

pub(super) fn push_styled_amount(
    out: &mut String,
    cents: u64,
    whole: bool,
    currency: &str,
    style: AmountStyle,
) {
    let symbol = currency_symbol(currency);
    match style {
        AmountStyle::Plain => push_amount(out, cents, whole, None, '.'),
        AmountStyle::Anglo => push_amount(out, cents, whole, Some(','), '.'),
        AmountStyle::AngloSymbol => {
            out.push_str(symbol);
            push_amount(out, cents, whole, Some(','), '.');
        }
        AmountStyle::AngloCode | AmountStyle::Swiss => {
            out.push_str(currency);
            out.push(' ');
            let group = if style == AmountStyle::Swiss {
                '\''
            } else {
                ','
            };
            push_amount(out, cents, whole, Some(group), '.');
        }
        AmountStyle::Euro => push_amount(out, cents, whole, Some('.'), ','),
        AmountStyle::EuroUngrouped => push_amount(out, cents, whole, None, ','),
        AmountStyle::EuroCodeBefore => {
            out.push_str(currency);
            out.push(' ');
            push_amount(out, cents, whole, Some('.'), ',');
        }
        AmountStyle::EuroCodeAfter | AmountStyle::EuroSymbolAfter => {
            push_amount(out, cents, whole, Some('.'), ',');
            out.push(' ');
            out.push_str(if style == AmountStyle::EuroCodeAfter {
                currency
            } else {
                symbol
            });
        }
        AmountStyle::SymbolCompact | AmountStyle::SymbolCompactAnglo => {
            out.push_str(if currency == "CHF" { currency } else { symbol });
            let decimal = if style == AmountStyle::SymbolCompact {
                ','
            } else {
                '.'
            };
            push_amount(out, cents, whole, None, decimal);
        }
        AmountStyle::SwissPlain => push_amount(out, cents, whole, Some('\''), '.'),
    }
}
