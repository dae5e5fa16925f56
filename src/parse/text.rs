//! Text normalisation shared by every strategy that compares text: compatibility
//! decomposition (NFKC's folding of ligatures, full-width forms and the like), diacritics
//! removed, case folded, `ß` as `ss`, and runs of whitespace collapsed to one space.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Normalises text for comparison: `"  MÜLLER   Straße "` becomes `"muller strasse"`.
pub fn normalize_text(input: &str) -> String {
    if input.is_ascii() {
        return normalize_ascii(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for lower in c.to_lowercase() {
            push_folded(&mut out, lower);
        }
    }
    out
}

/// The same result for ASCII input, without the Unicode tables: most values are ASCII.
fn normalize_ascii(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for word in input.split(|c: char| c.is_ascii_whitespace() || c.is_ascii_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    out
}

/// Letters that Unicode does not decompose but that readers treat as their base letters.
fn push_folded(out: &mut String, c: char) {
    match c {
        'ß' => out.push_str("ss"),
        'æ' => out.push_str("ae"),
        'œ' => out.push_str("oe"),
        'ø' => out.push('o'),
        'đ' | 'ð' => out.push('d'),
        'ł' => out.push('l'),
        'þ' => out.push_str("th"),
        'ı' => out.push('i'),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_case_diacritics_and_whitespace() {
        assert_eq!(normalize_text("  MÜLLER \t  Straße "), "muller strasse");
        assert_eq!(normalize_text("Société Générale"), "societe generale");
        assert_eq!(normalize_text("Ñandú"), "nandu");
        assert_eq!(normalize_text("ﬁnance"), "finance");
        assert_eq!(normalize_text("ＡＢＣ１２"), "abc12");
        assert_eq!(normalize_text("Søren Æble"), "soren aeble");
        assert_eq!(normalize_text(""), "");
        assert_eq!(normalize_text(" \n "), "");
    }

    proptest! {
        #[test]
        fn the_ascii_path_equals_the_unicode_path(s in "[ -~\t\n\r\x0b\x0c\x00-\x1f]{0,40}") {
            let mut slow = String::new();
            let mut pending_space = false;
            for c in s.nfkd() {
                if c.is_whitespace() || c.is_control() {
                    pending_space = !slow.is_empty();
                    continue;
                }
                if pending_space {
                    slow.push(' ');
                    pending_space = false;
                }
                slow.extend(c.to_lowercase());
            }
            prop_assert_eq!(normalize_text(&s), slow);
        }

        #[test]
        fn is_idempotent(s in "\\PC{0,40}") {
            let once = normalize_text(&s);
            prop_assert_eq!(normalize_text(&once), once.clone());
        }

        #[test]
        fn never_has_edge_or_double_spaces(s in "\\PC{0,40}") {
            let n = normalize_text(&s);
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
        }
    }
}
