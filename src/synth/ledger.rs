//! Vendors and the ledger: how many rows each vendor has, their amounts and dates, near
//! duplicates, purchase orders, and the reference table written row by row.

use super::*;

/// One vendor per this many reference rows.
pub(super) const ROWS_PER_VENDOR: u64 = 50;
/// Zipf-Mandelbrot weights `(rank + ZIPF_OFFSET)^-1.5`: a few big vendors (the largest
/// about 5% of the rows at any size) and a long tail of vendors with a handful of rows.
pub(super) const ZIPF_OFFSET: u64 = 10;
/// Share of vendors made as a near duplicate of an earlier one.
pub(super) const NEAR_DUPLICATE_VENDORS: f64 = 0.04;
pub(super) const PO_FIRST: u64 = 10_000;
pub(super) const PO_LIMIT: u64 = 100_000_000;

/// Rows per vendor, largest first: one each, the rest by Zipf weights, all in integers.
pub(super) fn vendor_volumes(rows: u64) -> Vec<u64> {
    let vendors = ((rows + ROWS_PER_VENDOR / 2) / ROWS_PER_VENDOR).max(1);
    // k^1.5 as k * sqrt(k), the root in 16.16 fixed point: integers, exact everywhere.
    let weights: Vec<u64> = (0..vendors)
        .map(|rank| {
            let k = rank + ZIPF_OFFSET;
            (1u64 << 60) / (k * (k << 32).isqrt())
        })
        .collect();
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let spare = u128::from(rows - vendors);
    let mut volumes: Vec<u64> = weights
        .iter()
        .map(|&w| 1 + (spare * u128::from(w) / total) as u64)
        .collect();
    let assigned: u64 = volumes.iter().sum();
    for volume in volumes.iter_mut().take((rows - assigned) as usize) {
        *volume += 1;
    }
    volumes
}

/// How a vendor's totals are drawn: log-normal around its own median, and for
/// subscription vendors mostly a fixed amount that changes once a year.
#[derive(Clone, Debug)]
pub(super) struct AmountModel {
    pub(super) ln_median: f64,
    pub(super) sigma: f64,
    /// Cents in the first year, and the change per year.
    pub(super) fixed: Option<(u64, u64)>,
}

/// ln(40) and ln(100): medians are log-uniform between 40 and 4,000.
pub(super) const LN_40: f64 = 3.688_879_454_113_936;
pub(super) const LN_100: f64 = 4.605_170_185_988_092;
pub(super) const MIN_CENTS: u64 = 500;
pub(super) const MAX_CENTS: u64 = 999_999_999;

impl AmountModel {
    pub(super) fn plan(rng: &mut Rng) -> AmountModel {
        let ln_median = LN_40 + rng.unit() * LN_100;
        let sigma = 0.5 + 0.6 * rng.unit();
        let fixed = rng.chance(0.03).then(|| {
            let cents =
                ((portable_exp(ln_median) * 100.0).round() as u64 / 100 * 100).max(MIN_CENTS);
            let step = if rng.chance(0.5) {
                0
            } else {
                cents / 1_000 * 100
            };
            (cents, step)
        });
        AmountModel {
            ln_median,
            sigma,
            fixed,
        }
    }

    pub(super) fn draw(&self, rng: &mut Rng, year: i32) -> u64 {
        if let Some((cents, step)) = self.fixed {
            if rng.chance(0.7) {
                return cents + step * u64::try_from(year - 2024).unwrap_or(0);
            }
        }
        let value = portable_exp(self.ln_median + self.sigma * rng.normal());
        ((value * 100.0).round() as u64).clamp(MIN_CENTS, MAX_CENTS)
    }
}

#[derive(Debug)]
pub(super) struct Vendor {
    pub(super) name: VendorName,
    pub(super) display: String,
    pub(super) slug: String,
    pub(super) currency: &'static str,
    pub(super) format: NumberFormat,
    pub(super) rows: u64,
    /// Offset of its first possible day from `FIRST_DAY`, and the days it is active.
    pub(super) first_day: u64,
    pub(super) span_days: u64,
    /// Sequence numbers go up by 1 to this between two of our invoices (other customers
    /// get the numbers in between).
    pub(super) max_increment: u64,
    /// Where a sequence that never restarts starts.
    pub(super) first_seq: u64,
    pub(super) amounts: AmountModel,
    pub(super) po_share: f64,
    pub(super) new_po_share: f64,
}

impl Vendor {
    pub(super) fn plan(
        name: VendorName,
        rows: u64,
        profile: SynthProfile,
        rng: &mut Rng,
    ) -> Vendor {
        let country = name.country;
        let currency = rng.pick_weighted(country.currencies);
        let short =
            profile == SynthProfile::Realistic && rng.chance(realistic::rate::SHORT_NUMBER_VENDORS);
        let family = if short {
            NumberFamily::Short
        } else {
            rng.pick(&NumberFamily::ALL)
        };
        let prefix = if !family.has_prefix() {
            String::new()
        } else if rng.chance(0.5) && name.initials().len() >= 2 {
            name.initials()
        } else {
            rng.pick(country.invoice_prefixes).to_string()
        };
        let max_increment = match rows {
            0..=2_000 => 40,
            2_001..=20_000 => 12,
            _ => 4,
        };
        let unit = 10u64.pow(family.min_width().saturating_sub(1) as u32);
        let first_seq = match family {
            NumberFamily::Plain => unit + rng.below(3 * unit),
            NumberFamily::Short => realistic::short_first_number(rng),
            _ if family.yearly() => 0,
            _ => 1 + rng.below(3 * unit),
        };
        let last_seq = first_seq.max(YEAR_START_MAX) + (rows + 1) * max_increment;
        let width = match family {
            NumberFamily::SeqSlashYear | NumberFamily::Short => 0,
            _ => family.min_width().max(digit_count(last_seq)),
        };
        let (first_day, span_days) = if rows > 100 || rng.chance(0.65) {
            (0, LEDGER_DAYS)
        } else {
            let span = 90 + rng.below(LEDGER_DAYS - 90 + 1);
            (rng.below(LEDGER_DAYS - span + 1), span)
        };
        let amounts = AmountModel::plan(rng);
        let po_share = rng.pick_weighted(&[(0.0, 2), (0.7, 4), (0.9, 9), (1.0, 5)]);
        let new_po_share = if amounts.fixed.is_some() {
            0.05
        } else {
            rng.pick_weighted(&[(0.2, 1), (0.6, 2), (0.9, 1)])
        };
        Vendor {
            display: name.display(),
            slug: name.slug(rng.chance(0.4)),
            name,
            currency,
            format: NumberFormat {
                family,
                prefix,
                width,
            },
            rows,
            first_day,
            span_days,
            max_increment,
            first_seq,
            amounts,
            po_share,
            new_po_share,
        }
    }
}

pub(super) fn plan_vendors(
    rows: u64,
    seed: u64,
    profile: SynthProfile,
    names: &mut NameBook,
) -> Vec<Vendor> {
    let volumes = vendor_volumes(rows);
    let mut rng = Rng::new(seed, stream::VENDORS);
    let mut vendors: Vec<Vendor> = Vec::with_capacity(volumes.len());
    for volume in volumes {
        let name = if !vendors.is_empty() && rng.chance(NEAR_DUPLICATE_VENDORS) {
            let of = &vendors[rng.below(vendors.len() as u64) as usize].name;
            names
                .variant(&mut rng, of)
                .unwrap_or_else(|| names.fresh(&mut rng))
        } else {
            names.fresh(&mut rng)
        };
        vendors.push(Vendor::plan(name, volume, profile, &mut rng));
    }
    vendors
}

/// A vendor's place in its sequence while the ledger is written.
#[derive(Debug)]
pub(super) struct Cursor {
    pub(super) rng: Rng,
    pub(super) emitted: u64,
    pub(super) seq: u64,
    pub(super) year: i32,
    pub(super) day: i64,
    pub(super) po: Option<u64>,
}

/// The row before, of the same vendor: where a gap in its numbers can be.
#[derive(Clone, Copy, Debug)]
pub(super) struct Previous {
    pub(super) seq: u64,
    pub(super) year: i32,
    pub(super) day: i64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct LedgerRow {
    pub(super) vendor: usize,
    pub(super) id: u64,
    pub(super) seq: u64,
    pub(super) year: i32,
    pub(super) day: i64,
    pub(super) cents: u64,
    pub(super) po: Option<u64>,
    pub(super) previous: Option<Previous>,
    /// The vendor's last row.
    pub(super) last: bool,
}

/// The ledger as a stream in date order: each vendor's rows are drawn in its own rising
/// sequence and the vendors merged by date, so memory is per vendor, not per row.
pub(super) struct Ledger {
    pub(super) vendors: Vec<Vendor>,
    pub(super) cursors: Vec<Cursor>,
    /// `(date key, vendor)` of each vendor's next row; ties go to the lower vendor.
    pub(super) heap: BinaryHeap<Reverse<(u64, u32)>>,
    pub(super) next_id: u64,
    pub(super) ids: Rng,
    pub(super) po_numbers: Rng,
    pub(super) next_po: u64,
    pub(super) po_gap: u64,
}

/// The date key of row `i` of a vendor, in 2^-32 days from `FIRST_DAY`: row `i` of `n`
/// falls in the i-th n-th of the vendor's span, so dates rise with the sequence.
pub(super) fn date_key(vendor: &Vendor, i: u64, rng: &mut Rng) -> u64 {
    let jitter = rng.next_u64() >> 32;
    let position = ((u128::from(i) << 32) | u128::from(jitter)) * u128::from(vendor.span_days)
        / u128::from(vendor.rows.max(1));
    (vendor.first_day << 32) + position as u64
}

impl Ledger {
    pub(super) fn new(vendors: Vec<Vendor>, seed: u64, rows: u64) -> Ledger {
        let mut cursors = Vec::with_capacity(vendors.len());
        let mut heap = BinaryHeap::with_capacity(vendors.len());
        for (i, vendor) in vendors.iter().enumerate() {
            let mut rng = Rng::new(seed, stream::VENDOR_ROWS + i as u64);
            heap.push(Reverse((date_key(vendor, 0, &mut rng), i as u32)));
            cursors.push(Cursor {
                rng,
                emitted: 0,
                seq: vendor.first_seq,
                year: 0,
                day: FIRST_DAY,
                po: None,
            });
        }
        let mut ids = Rng::new(seed, stream::IDS);
        let next_id = 100 + ids.below(900);
        let mut po_numbers = Rng::new(seed, stream::PO_NUMBERS);
        let next_po = PO_FIRST + po_numbers.below(5_000);
        Ledger {
            vendors,
            cursors,
            heap,
            next_id,
            ids,
            po_numbers,
            next_po,
            // Purchase orders are numbered in time order across vendors, with gaps, and
            // must stay within 8 digits at `MAX_REFERENCE_ROWS`.
            po_gap: (40_000_000 / rows.max(1)).clamp(1, 8),
        }
    }

    pub(super) fn vendor(&self, index: usize) -> &Vendor {
        &self.vendors[index]
    }

    pub(super) fn current_po(&self, vendor: usize) -> Option<u64> {
        self.cursors[vendor].po
    }

    pub(super) fn next_row(&mut self) -> Option<LedgerRow> {
        let Reverse((key, index)) = self.heap.pop()?;
        let vendor_index = index as usize;
        let vendor = &self.vendors[vendor_index];
        let cursor = &mut self.cursors[vendor_index];
        let rng = &mut cursor.rng;
        let day = FIRST_DAY + (key >> 32) as i64;
        let year = ymd(day).year;
        let previous = (cursor.emitted > 0).then_some(Previous {
            seq: cursor.seq,
            year: cursor.year,
            day: cursor.day,
        });
        let seq = match previous {
            None if !vendor.format.family.yearly() => vendor.first_seq,
            Some(p) if !vendor.format.family.yearly() || p.year == year => {
                let step = if rng.chance(0.35) {
                    1
                } else {
                    2 + rng.below(vendor.max_increment - 1)
                };
                p.seq + step
            }
            _ => 1 + rng.below(YEAR_START_MAX),
        };
        let cents = vendor.amounts.draw(rng, year);
        let po = if rng.chance(vendor.po_share) {
            if cursor.po.is_none() || rng.chance(vendor.new_po_share) {
                cursor.po = Some(self.next_po);
                self.next_po += 1 + self.po_numbers.below(self.po_gap);
            }
            cursor.po
        } else {
            None
        };
        cursor.seq = seq;
        cursor.year = year;
        cursor.day = day;
        cursor.emitted += 1;
        let last = cursor.emitted >= vendor.rows;
        if !last {
            let key = date_key(vendor, cursor.emitted, &mut cursor.rng);
            self.heap.push(Reverse((key, index)));
        }
        let id = self.next_id;
        self.next_id += 1 + self.ids.below(3);
        Some(LedgerRow {
            vendor: vendor_index,
            id,
            seq,
            year,
            day,
            cents,
            po,
            previous,
            last,
        })
    }
}

/// The text of one ledger row, in buffers reused across rows.
#[derive(Default)]
pub(super) struct RowCells {
    pub(super) id: String,
    pub(super) number: String,
    pub(super) date: String,
    pub(super) total: String,
    pub(super) po: String,
}

impl RowCells {
    pub(super) fn fill(&mut self, row: &LedgerRow, vendor: &Vendor, id_width: usize) {
        self.id.clear();
        push_ledger_id(&mut self.id, row.id, id_width);
        self.number.clear();
        vendor.format.render(row.seq, row.year, &mut self.number);
        self.date.clear();
        push_date(&mut self.date, row.day, DateStyle::Iso);
        self.total.clear();
        push_amount(&mut self.total, row.cents, false, None, '.');
        self.po.clear();
        if let Some(po) = row.po {
            push_po(&mut self.po, po);
        }
    }
}

pub(super) fn push_po(out: &mut String, po: u64) {
    out.push_str("PO-45");
    push_padded(out, po, 8);
}

/// Near misses waiting for a vendor's numbers to show a gap, or for its last row.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PendingNearMisses {
    pub(super) in_gap: u64,
    pub(super) beyond_last: u64,
}

impl PendingNearMisses {
    /// `(seq, year, day)` of never-issued numbers this row makes known: one inside the gap
    /// before it, and at the vendor's last row every one still waiting, past its end.
    pub(super) fn resolve(
        &mut self,
        row: &LedgerRow,
        yearly: bool,
        rng: &mut Rng,
    ) -> Vec<(u64, i32, i64)> {
        let mut found = Vec::new();
        if let (true, Some(prev)) = (self.in_gap > 0, row.previous) {
            if yearly && row.year != prev.year {
                found.push((prev.seq + 1 + rng.below(3), prev.year, prev.day));
                self.in_gap -= 1;
            } else if row.seq > prev.seq + 1 {
                let seq = prev.seq + 1 + rng.below(row.seq - prev.seq - 1);
                let day = prev.day + rng.below((row.day - prev.day) as u64 + 1) as i64;
                found.push((seq, prev.year, day));
                self.in_gap -= 1;
            }
        }
        if row.last {
            let mut seq = row.seq;
            for _ in 0..self.in_gap + self.beyond_last {
                seq += 1 + rng.below(2);
                // A few days later, but within the year the number carries.
                let mut day = row.day;
                for _ in 0..rng.below(6) {
                    if ymd(day + 1).year != row.year {
                        break;
                    }
                    day += 1;
                }
                found.push((seq, row.year, day));
            }
            *self = PendingNearMisses::default();
        }
        found
    }
}
