//! Aligned text columns, and making text from an endpoint safe to print.

use std::borrow::Cow;

/// Rows under a header, printed as left-aligned columns two spaces apart.
#[derive(Debug)]
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&'static str]) -> Self {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; it should have one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    /// The table as lines, each ending in a newline, with no trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .map(|title| title.chars().count())
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        let header: Vec<String> = self
            .header
            .iter()
            .map(|title| (*title).to_owned())
            .collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if column > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// Text from an endpoint, with control characters escaped, so that a message or an origin
/// cannot move the cursor or recolour the operator's terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// A time left, short and readable: `850ms`, `42s`, `9m05s`, `2h03m`.
pub fn short_duration(millis: u64) -> String {
    let seconds = millis / 1000;
    match seconds {
        0 => format!("{millis}ms"),
        1..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_under_the_widest_cell_without_trailing_spaces() {
        let mut table = Table::new(&["ID", "STATE", "HITS"]);
        table.row(vec!["c42-card".into(), "running".into(), "3".into()]);
        table.row(vec!["x".into(), "halted".into(), "1200".into()]);
        assert_eq!(
            table.render(),
            "ID        STATE    HITS\n\
             c42-card  running  3\n\
             x         halted   1200\n"
        );
    }

    #[test]
    fn control_characters_from_an_endpoint_are_escaped() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\u{1b}[31mred\n"), "a\\u{1b}[31mred\\n");
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(850), "850ms");
        assert_eq!(short_duration(42_000), "42s");
        assert_eq!(short_duration(545_000), "9m05s");
        assert_eq!(short_duration(7_380_000), "2h03m");
    }
}
