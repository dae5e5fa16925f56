//! The reference table as the matcher holds it: column-major, each column one string
//! buffer with end offsets, so a million rows cost two allocations per column instead of
//! one per cell.

/// An append-only column of strings stored back to back.
#[derive(Clone, Debug, Default)]
pub struct StrColumn {
    buf: String,
    ends: Vec<usize>,
}

impl StrColumn {
    pub fn push(&mut self, value: &str) {
        self.buf.push_str(value);
        self.ends.push(self.buf.len());
    }

    /// The value at `row`; the empty string past the end.
    pub fn get(&self, row: usize) -> &str {
        let Some(&end) = self.ends.get(row) else {
            return "";
        };
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.buf[start..end]
    }

    /// A column from its text and each value's length in bytes; `None` unless the lengths
    /// add up to the text and every value ends on a character boundary.
    pub fn from_parts(buf: String, lengths: &[u32]) -> Option<StrColumn> {
        let mut ends = Vec::with_capacity(lengths.len());
        let mut end = 0usize;
        for &length in lengths {
            end = end.checked_add(length as usize)?;
            if !buf.is_char_boundary(end) {
                return None;
            }
            ends.push(end);
        }
        (end == buf.len()).then_some(StrColumn { buf, ends })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes held: the text and one end offset per value.
    pub fn approx_bytes(&self) -> usize {
        self.buf.len() + self.ends.len() * std::mem::size_of::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|row| self.get(row))
    }
}

/// Reference rows: a stable id per row and the values of every column. An empty value is
/// a missing one.
#[derive(Clone, Debug, Default)]
pub struct ReferenceTable {
    pub columns: Vec<String>,
    pub ids: StrColumn,
    pub values: Vec<StrColumn>,
}

impl ReferenceTable {
    pub fn new(columns: Vec<String>) -> Self {
        let values = columns.iter().map(|_| StrColumn::default()).collect();
        ReferenceTable {
            columns,
            ids: StrColumn::default(),
            values,
        }
    }

    /// Appends a row; `values` follow `columns`, shorter rows are padded with missing values.
    pub fn push_row<'a>(&mut self, id: &str, values: impl IntoIterator<Item = &'a str>) {
        self.ids.push(id);
        let mut values = values.into_iter();
        for column in &mut self.values {
            column.push(values.next().unwrap_or(""));
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn id(&self, row: usize) -> &str {
        self.ids.get(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_rows_column_major() {
        let mut table = ReferenceTable::new(vec!["a".into(), "b".into()]);
        table.push_row("r1", ["x", "y"]);
        table.push_row("r2", ["", "zz"]);
        table.push_row("r3", ["only a"]);
        assert_eq!(table.len(), 3);
        assert_eq!(table.id(1), "r2");
        assert_eq!(table.values[0].get(1), "");
        assert_eq!(table.values[1].get(1), "zz");
        assert_eq!(table.values[1].get(2), "");
        assert_eq!(table.values[0].get(99), "");
        assert_eq!(table.column_index("b"), Some(1));
    }
}
