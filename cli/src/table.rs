//! Aligned columns for people: a header, then one line per row, each column as wide as its
//! widest cell. The last column is not padded (no trailing blanks).

/// The table as text, ending with a newline.
pub fn render<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let last = N.saturating_sub(1);
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_lines_end_clean() {
        let rows = [
            ["production".to_owned(), "x".to_owned()],
            ["dev".to_owned(), "longer cell".to_owned()],
        ];
        assert_eq!(
            render(["ENV", "WHAT"], &rows),
            "ENV         WHAT\nproduction  x\ndev         longer cell\n"
        );
    }
}
