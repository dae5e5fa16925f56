//! Documents: what an extractor returns from an invoice, with the noise of
//! `fixtures/README.md` (legal forms, typos, OCR look-alikes, date and amount styles).

use super::*;

/// Noise rates per document, after the counts out of 150 in fixtures/README.md. A fifth
/// of the documents are extracted cleanly, as there; the others get every rate scaled by
/// `1 / (1 - CLEAN)`, so that the overall rates stay these.
pub(super) mod rate {
    pub const CLEAN: f64 = 0.2;

    pub const LEGAL_FORM_CHANGED: f64 = 0.18;
    /// Of the changed legal forms, the share dropped rather than written differently.
    pub const LEGAL_FORM_DROPPED: f64 = 0.4;
    pub const NAME_TYPO: f64 = 0.09;
    /// Of names with accents.
    pub const DIACRITICS_LOST: f64 = 0.25;
    /// Of German names with umlauts.
    pub const UMLAUTS_WRITTEN_OUT: f64 = 0.08;
    pub const WORD_DROPPED: f64 = 0.03;
    pub const WORD_ORDER_CHANGED: f64 = 0.015;
    pub const ALL_CAPS: f64 = 0.11;
    pub const LOWER_CASE: f64 = 0.01;

    pub const NUMBER_MISSING: f64 = 0.05;
    pub const NUMBER_SEPARATORS: f64 = 0.11;
    pub const NUMBER_PREFIX_DROPPED: f64 = 0.06;
    pub const NUMBER_LOOK_ALIKE: f64 = 0.08;
    pub const NUMBER_LOWER_CASE: f64 = 0.04;
    pub const NUMBER_TRANSPOSED: f64 = 0.02;

    pub const DATE_MISSING: f64 = 0.05;
    pub const DATE_SHIFTED: f64 = 0.10;
    pub const DATE_REFORMATTED: f64 = 0.39;

    pub const TOTAL_MISSING: f64 = 0.03;
    pub const TOTAL_ROUNDED: f64 = 0.06;
    pub const TOTAL_OFF: f64 = 0.03;
    pub const TOTAL_REFORMATTED: f64 = 0.40;

    pub const CURRENCY_SYMBOL: f64 = 0.12;
    pub const CURRENCY_EMPTY: f64 = 0.12;

    /// Of documents whose row has a PO number, 60% show it.
    pub const PO_DROPPED: f64 = 0.40;
    pub const PO_REWRITTEN: f64 = 0.19;
    pub const PO_LOOK_ALIKE: f64 = 0.05;
}

/// An invoice as its vendor issued it: a ledger row, or one the ledger does not have.
pub(super) struct Issued<'a> {
    pub(super) vendor: &'a Vendor,
    pub(super) seq: u64,
    pub(super) year: i32,
    pub(super) day: i64,
    pub(super) cents: u64,
    pub(super) po: Option<u64>,
}

impl<'a> Issued<'a> {
    pub(super) fn row(row: &LedgerRow, vendor: &'a Vendor) -> Issued<'a> {
        Issued {
            vendor,
            seq: row.seq,
            year: row.year,
            day: row.day,
            cents: row.cents,
            po: row.po,
        }
    }
}

/// Separates the fields of a draft; generated text never holds it.
pub(super) const FIELD_SEPARATOR: char = '\0';

/// One document before shuffling: its true row and its seven extracted fields in one
/// string, so that many drafts stay small.
pub(super) struct DocDraft {
    pub(super) row_id: Option<u64>,
    pub(super) text: String,
}

impl DocDraft {
    pub(super) fn fields(&self) -> impl Iterator<Item = &str> {
        self.text.split(FIELD_SEPARATOR)
    }
}

pub(super) fn extract(
    issued: &Issued<'_>,
    row_id: Option<u64>,
    profile: SynthProfile,
    rng: &mut Rng,
) -> DocDraft {
    match profile {
        SynthProfile::Clean => extract_clean(issued, row_id, rng),
        SynthProfile::Realistic => realistic::extract(issued, row_id, rng),
    }
}

/// The documents of the clean profile: the fixtures' noise, a fifth of them untouched.
pub(super) fn extract_clean(issued: &Issued<'_>, row_id: Option<u64>, rng: &mut Rng) -> DocDraft {
    let vendor = issued.vendor;
    let country = vendor.name.country;
    let mut text = String::with_capacity(160);
    push_filename(&mut text, issued, rng);
    let scale = if rng.chance(rate::CLEAN) {
        0.0
    } else {
        1.0 / (1.0 - rate::CLEAN)
    };
    let noise = &mut Noise { rng, scale };
    text.push(FIELD_SEPARATOR);
    text.push_str(&noisy_vendor_name(&vendor.name, noise));
    text.push(FIELD_SEPARATOR);
    if !noise.hit(rate::NUMBER_MISSING) {
        let mut clean = String::new();
        vendor.format.render(issued.seq, issued.year, &mut clean);
        text.push_str(&noisy_number(&clean, noise));
    }
    text.push(FIELD_SEPARATOR);
    if !noise.hit(rate::DATE_MISSING) {
        let mut day = issued.day;
        if noise.hit(rate::DATE_SHIFTED) {
            let shift = 1 + noise.rng.below(4) as i64;
            day += if noise.rng.chance(0.5) { shift } else { -shift };
        }
        let style = if noise.hit(rate::DATE_REFORMATTED) {
            noise.rng.pick_weighted(country.date_styles)
        } else {
            DateStyle::Iso
        };
        push_date(&mut text, day, style);
    }
    text.push(FIELD_SEPARATOR);
    push_noisy_total(&mut text, issued.cents, vendor.currency, country, noise);
    text.push(FIELD_SEPARATOR);
    if noise.hit(rate::CURRENCY_SYMBOL) {
        text.push_str(currency_symbol(vendor.currency));
    } else if !noise.hit(rate::CURRENCY_EMPTY) {
        text.push_str(vendor.currency);
    }
    text.push(FIELD_SEPARATOR);
    if let Some(po) = issued.po {
        if !noise.hit(rate::PO_DROPPED) {
            push_noisy_po(&mut text, po, noise);
        }
    }
    DocDraft { row_id, text }
}

/// The noise draws of one document: every rate scaled, by 0 for a clean document.
pub(super) struct Noise<'a> {
    pub(super) rng: &'a mut Rng,
    pub(super) scale: f64,
}

impl Noise<'_> {
    pub(super) fn hit(&mut self, rate: f64) -> bool {
        self.rng.chance(rate * self.scale)
    }
}

/// `invoice-nordwind-02575.pdf`, `nordwind-rechnung-02575.pdf` or a bare
/// `scan-20250406-006.pdf`.
pub(super) fn push_filename(out: &mut String, issued: &Issued<'_>, rng: &mut Rng) {
    let vendor = issued.vendor;
    match rng.below(20) {
        0..=10 => {
            out.push_str("invoice-");
            out.push_str(&vendor.slug);
            out.push('-');
            push_padded(out, issued.seq, vendor.format.width);
        }
        11..=15 => {
            out.push_str(&vendor.slug);
            out.push('-');
            out.push_str(vendor.name.country.invoice_word);
            out.push('-');
            push_padded(out, issued.seq, vendor.format.width);
        }
        _ => {
            out.push_str("scan-");
            push_date(out, issued.day + rng.below(7) as i64, DateStyle::Compact);
            out.push('-');
            push_padded(out, 1 + rng.below(40), 3);
        }
    }
    out.push_str(".pdf");
}

pub(super) fn noisy_vendor_name(name: &VendorName, noise: &mut Noise<'_>) -> String {
    let core = name.core();
    let mut tokens: Vec<String> = core.words.iter().map(|w| w.to_string()).collect();
    if noise.hit(rate::WORD_ORDER_CHANGED) {
        tokens.swap(core.stem, core.industry);
    } else if noise.hit(rate::WORD_DROPPED) {
        let others: Vec<usize> = (0..tokens.len()).filter(|&i| i != core.stem).collect();
        tokens.remove(noise.rng.pick(&others));
    }
    if noise.hit(rate::NAME_TYPO) {
        let long: Vec<usize> = (0..tokens.len())
            .filter(|&i| tokens[i].chars().filter(|c| c.is_alphabetic()).count() >= 4)
            .collect();
        if !long.is_empty() {
            let at = noise.rng.pick(&long);
            tokens[at] = typo(&tokens[at], noise.rng);
        }
    }
    let mut out = tokens.join(" ");
    if !noise.hit(rate::LEGAL_FORM_CHANGED) {
        push_legal(&mut out, name.legal.name);
    } else if !noise.rng.chance(rate::LEGAL_FORM_DROPPED) {
        push_legal(&mut out, noise.rng.pick(name.legal.variants));
    }
    if name.country.lang == Lang::De
        && out.contains(['ä', 'ö', 'ü', 'Ä', 'Ö', 'Ü', 'ß'])
        && noise.hit(rate::UMLAUTS_WRITTEN_OUT)
    {
        out = expand_umlauts(&out);
    } else if !out.is_ascii() && noise.hit(rate::DIACRITICS_LOST) {
        out = strip_diacritics(&out);
    }
    if noise.hit(rate::ALL_CAPS) {
        out = out.to_uppercase();
    } else if noise.hit(rate::LOWER_CASE) {
        out = out.to_lowercase();
    }
    out
}

/// One letter swapped with the next, dropped or replaced; never the first letter.
pub(super) fn typo(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        return word.to_string();
    }
    let at = 1 + rng.below(chars.len() as u64 - 2) as usize;
    match rng.below(3) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        _ => {
            let letters: Vec<char> = ('a'..='z').filter(|&c| c != chars[at]).collect();
            chars[at] = rng.pick(&letters);
        }
    }
    chars.into_iter().collect()
}

pub(super) fn noisy_number(clean: &str, noise: &mut Noise<'_>) -> String {
    let mut number = clean.to_string();
    if noise.hit(rate::NUMBER_PREFIX_DROPPED) {
        number = drop_prefix(&number);
    }
    if noise.hit(rate::NUMBER_SEPARATORS) {
        number = change_separators(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_TRANSPOSED) {
        number = transpose_digits(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_LOOK_ALIKE) {
        number = look_alike(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_LOWER_CASE) {
        number = number.to_lowercase();
    }
    number
}

/// `INV-2025-0142` as `2025-0142`; numbers without a letter prefix stay as they are.
pub(super) fn drop_prefix(number: &str) -> String {
    let rest = number.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if rest.len() == number.len() || !rest.contains(|c: char| c.is_ascii_digit()) {
        return number.to_string();
    }
    rest.trim_start_matches(['-', '/', '.', ' ']).to_string()
}

pub(super) fn is_number_separator(c: char) -> bool {
    matches!(c, '-' | '/' | '.')
}

/// Every separator replaced by the same other one (or dropped); a number without
/// separators gets a space after its prefix.
pub(super) fn change_separators(number: &str, rng: &mut Rng) -> String {
    if !number.contains(is_number_separator) {
        let digits_at = number.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
        if digits_at == 0 {
            return number.to_string();
        }
        let (prefix, rest) = number.split_at(digits_at);
        return format!("{prefix}{}{rest}", rng.pick(&[" ", "-"]));
    }
    let replacement = rng.pick(&["", " ", "-", "/", " - ", "."]);
    let mut out = String::with_capacity(number.len() + 4);
    for c in number.chars() {
        if is_number_separator(c) {
            out.push_str(replacement);
        } else {
            out.push(c);
        }
    }
    out
}

/// Two different adjacent digits swapped.
pub(super) fn transpose_digits(number: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = number.chars().collect();
    let spots: Vec<usize> = (0..chars.len().saturating_sub(1))
        .filter(|&i| {
            chars[i].is_ascii_digit() && chars[i + 1].is_ascii_digit() && chars[i] != chars[i + 1]
        })
        .collect();
    if spots.is_empty() {
        return number.to_string();
    }
    let at = rng.pick(&spots);
    chars.swap(at, at + 1);
    chars.into_iter().collect()
}

/// One character read as its OCR look-alike: 0/O, 1/I/l, 5/S, 8/B.
pub(super) fn look_alike(number: &str, rng: &mut Rng) -> String {
    fn swap(c: char) -> &'static [char] {
        match c {
            '0' => &['O'],
            '1' => &['I', 'l'],
            '5' => &['S'],
            '8' => &['B'],
            'O' => &['0'],
            'I' => &['1'],
            'S' => &['5'],
            'B' => &['8'],
            _ => &[],
        }
    }
    let mut chars: Vec<char> = number.chars().collect();
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| !swap(chars[i]).is_empty())
        .collect();
    if spots.is_empty() {
        return number.to_string();
    }
    let at = rng.pick(&spots);
    chars[at] = rng.pick(swap(chars[at]));
    chars.into_iter().collect()
}

pub(super) fn push_noisy_total(
    out: &mut String,
    cents: u64,
    currency: &str,
    country: &Country,
    noise: &mut Noise<'_>,
) {
    if noise.hit(rate::TOTAL_MISSING) {
        return;
    }
    let mut cents = cents;
    let mut whole = false;
    if noise.hit(rate::TOTAL_ROUNDED) {
        cents = (cents + 50) / 100 * 100;
        whole = noise.rng.chance(0.6);
    } else if noise.hit(rate::TOTAL_OFF) {
        // Less than 1 % (at most 0.8 %) off, at least a cent.
        let delta = (cents * (1 + noise.rng.below(8)) / 1_000).max(1);
        cents = if noise.rng.chance(0.5) {
            cents + delta
        } else {
            cents - delta
        };
    }
    let style = if noise.hit(rate::TOTAL_REFORMATTED) {
        noise.rng.pick_weighted(country.amount_styles)
    } else {
        AmountStyle::Plain
    };
    push_styled_amount(out, cents, whole, currency, style);
}

pub(super) fn push_noisy_po(out: &mut String, po: u64, noise: &mut Noise<'_>) {
    let mut text = String::with_capacity(16);
    push_po(&mut text, po);
    if noise.hit(rate::PO_REWRITTEN) {
        let digits = text.trim_start_matches("PO-").to_string();
        let prefix = noise.rng.pick(&["", "PO ", "PO-Nr. ", "PO", "P.O. "]);
        text = format!("{prefix}{digits}");
    }
    if noise.hit(rate::PO_LOOK_ALIKE) {
        text = look_alike(&text, noise.rng);
    }
    out.push_str(&text);
}
