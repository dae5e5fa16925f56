//! Invoice numbers: the families of numbering schemes vendors use and how one is written.

use super::*;

/// The shapes of invoice numbers vendors use. Year-bearing ones restart every year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NumberFamily {
    /// `INV-2025-0142`
    PrefixYearSeq,
    /// `RE-2025/00871`
    PrefixYearSlashSeq,
    /// `F2025-1203`
    PrefixGluedYearSeq,
    /// `FAC-000731`
    PrefixSeq,
    /// `2025-88123`
    YearSeq,
    /// `SI/24/0099`
    PrefixShortYearSeq,
    /// `INV0413189`
    PrefixGluedSeq,
    /// `485771`
    Plain,
    /// `348/2026`, not padded
    SeqSlashYear,
    /// `2025001251`
    YearGluedSeq,
    /// `LI-24-003487`
    PrefixShortYearDashSeq,
    /// `2025.0377`
    YearDotSeq,
    /// `10452`: short, not padded, started low; many vendors issue the same ones. Only
    /// the realistic profile draws it, so `ALL` leaves it out.
    Short,
}

impl NumberFamily {
    pub(super) const ALL: [NumberFamily; 12] = [
        NumberFamily::PrefixYearSeq,
        NumberFamily::PrefixYearSlashSeq,
        NumberFamily::PrefixGluedYearSeq,
        NumberFamily::PrefixSeq,
        NumberFamily::YearSeq,
        NumberFamily::PrefixShortYearSeq,
        NumberFamily::PrefixGluedSeq,
        NumberFamily::Plain,
        NumberFamily::SeqSlashYear,
        NumberFamily::YearGluedSeq,
        NumberFamily::PrefixShortYearDashSeq,
        NumberFamily::YearDotSeq,
    ];

    pub(super) fn yearly(self) -> bool {
        !matches!(
            self,
            NumberFamily::PrefixSeq
                | NumberFamily::PrefixGluedSeq
                | NumberFamily::Plain
                | NumberFamily::Short
        )
    }

    pub(super) fn has_prefix(self) -> bool {
        matches!(
            self,
            NumberFamily::PrefixYearSeq
                | NumberFamily::PrefixYearSlashSeq
                | NumberFamily::PrefixGluedYearSeq
                | NumberFamily::PrefixSeq
                | NumberFamily::PrefixShortYearSeq
                | NumberFamily::PrefixGluedSeq
                | NumberFamily::PrefixShortYearDashSeq
        )
    }

    /// Digits the sequence is padded to; 0 for none.
    pub(super) fn min_width(self) -> usize {
        match self {
            NumberFamily::PrefixYearSeq
            | NumberFamily::PrefixGluedYearSeq
            | NumberFamily::PrefixShortYearSeq
            | NumberFamily::YearDotSeq => 4,
            NumberFamily::PrefixYearSlashSeq | NumberFamily::YearSeq => 5,
            NumberFamily::PrefixSeq
            | NumberFamily::Plain
            | NumberFamily::YearGluedSeq
            | NumberFamily::PrefixShortYearDashSeq => 6,
            NumberFamily::PrefixGluedSeq => 7,
            NumberFamily::SeqSlashYear | NumberFamily::Short => 0,
        }
    }
}

/// A vendor's invoice-number format. The width always fits the vendor's sequence, so
/// the text is unique per (year, sequence).
#[derive(Clone, Debug)]
pub(super) struct NumberFormat {
    pub(super) family: NumberFamily,
    pub(super) prefix: String,
    pub(super) width: usize,
}

impl NumberFormat {
    pub(super) fn render(&self, seq: u64, year: i32, out: &mut String) {
        let year = u64::try_from(year).unwrap_or(0);
        let p = self.prefix.as_str();
        let w = self.width;
        let push = |out: &mut String, parts: &[Part]| {
            for part in parts {
                match *part {
                    Part::Text(t) => out.push_str(t),
                    Part::Year => push_padded(out, year, 4),
                    Part::ShortYear => push_padded(out, year % 100, 2),
                    Part::Seq => push_padded(out, seq, w),
                }
            }
        };
        use Part::{Seq, ShortYear, Text, Year};
        match self.family {
            NumberFamily::PrefixYearSeq => push(out, &[Text(p), Text("-"), Year, Text("-"), Seq]),
            NumberFamily::PrefixYearSlashSeq => {
                push(out, &[Text(p), Text("-"), Year, Text("/"), Seq])
            }
            NumberFamily::PrefixGluedYearSeq => push(out, &[Text(p), Year, Text("-"), Seq]),
            NumberFamily::PrefixSeq => push(out, &[Text(p), Text("-"), Seq]),
            NumberFamily::YearSeq => push(out, &[Year, Text("-"), Seq]),
            NumberFamily::PrefixShortYearSeq => {
                push(out, &[Text(p), Text("/"), ShortYear, Text("/"), Seq])
            }
            NumberFamily::PrefixGluedSeq => push(out, &[Text(p), Seq]),
            NumberFamily::Plain => push(out, &[Seq]),
            NumberFamily::SeqSlashYear => push(out, &[Seq, Text("/"), Year]),
            NumberFamily::YearGluedSeq => push(out, &[Year, Seq]),
            NumberFamily::PrefixShortYearDashSeq => {
                push(out, &[Text(p), Text("-"), ShortYear, Text("-"), Seq])
            }
            NumberFamily::YearDotSeq => push(out, &[Year, Text("."), Seq]),
            NumberFamily::Short => push(out, &[Seq]),
        }
    }
}

pub(super) enum Part<'a> {
    Text(&'a str),
    Year,
    ShortYear,
    Seq,
}

/// Where a yearly sequence restarts: somewhere in `1..=YEAR_START_MAX`.
pub(super) const YEAR_START_MAX: u64 = 100;
