//! Plain text to fax pages: monospace layout with a font compiled into the binary.
//!
//! Glyphs are rasterized directly with `ab_glyph` (DejaVu Sans Mono, `assets/`), each one once per
//! document, then stamped as 1-bit masks. Going through a generated PDF and hayro would
//! also work, but costs a full page rasterization plus dithering (about 4–20 ms per page); this path
//! stays well inside the 3 ms-per-page budget and keeps text strictly bilevel.
//!
//! Layout: 10 pt type on a 12 pt line pitch (6 lines per inch), 0.5 in margins, long lines wrapped
//! at the last space (or hard at the margin), tabs every 8 columns, form feed starts a new page.
//! Characters the font lacks are drawn as an empty box, so the reader can see that something was
//! there.

use crate::bitmap::Bitmap;
use crate::error::DocError;
use crate::glyph_cache::GlyphMask;
use crate::options::{FAX_WIDTH, Paper, Resolution};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use rayon::prelude::*;
use std::collections::HashMap;

/// The shipped font (Bitstream Vera licence with DejaVu changes, see `assets/`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");

const FONT_PT: f64 = 10.0;
const LINE_PT: f64 = 12.0;
const MARGIN_IN: f64 = 0.5;
const TAB: usize = 8;

/// A glyph as a 1-bit mask placed relative to the pen position on the baseline (`None`: no ink).
struct Glyph {
    mask: Option<GlyphMask>,
}

impl Glyph {
    /// From runs `(dx, dy, len)`: `len` black pixels starting at (pen.x + dx, baseline + dy).
    fn from_runs(runs: &[(i32, i32, u32)]) -> Self {
        Self {
            mask: GlyphMask::from_runs(runs),
        }
    }
}

struct Layout<'f> {
    font: ab_glyph::PxScaleFont<&'f FontRef<'f>>,
    advance: f64,
    line: f64,
    margin_x: f64,
    margin_y: f64,
    ascent: f64,
    cols: usize,
    rows: usize,
    height: u32,
    cache: HashMap<char, Option<Glyph>>,
    box_glyph: Glyph,
}

impl<'f> Layout<'f> {
    fn new(font: &'f FontRef<'f>, paper: Paper, res: Resolution) -> Self {
        let (xdpi, ydpi) = (f64::from(res.x_dpi()), f64::from(res.y_dpi()));
        let upem = f64::from(font.units_per_em().unwrap_or(2048.0));
        let h = f64::from(font.height_unscaled());
        // PxScale is the pixel height of ascent−descent; derive it from the em size per axis.
        let scale = PxScale {
            x: (FONT_PT / 72.0 * xdpi * h / upem) as f32,
            y: (FONT_PT / 72.0 * ydpi * h / upem) as f32,
        };
        let scaled = font.as_scaled(scale);
        let advance = f64::from(scaled.h_advance(font.glyph_id('M')));
        let line = LINE_PT / 72.0 * ydpi;
        let margin_x = MARGIN_IN * xdpi;
        let margin_y = MARGIN_IN * ydpi;
        let height = paper.rows(res);
        let cols = ((f64::from(FAX_WIDTH) - 2.0 * margin_x) / advance).floor() as usize;
        let rows = ((f64::from(height) - 2.0 * margin_y) / line).floor() as usize;
        let ascent = f64::from(scaled.ascent());
        // Replacement box: an outlined rectangle from the baseline to about cap height.
        let (bw, bh) = ((advance * 0.7) as i32, (ascent * 0.75) as i32);
        let (bx, stroke) = (((advance - f64::from(bw)) / 2.0) as i32, 2i32);
        let mut runs = Vec::new();
        for dy in -bh..0 {
            if dy < -bh + stroke || dy >= -stroke {
                runs.push((bx, dy, bw as u32));
            } else {
                runs.push((bx, dy, stroke as u32));
                runs.push((bx + bw - stroke, dy, stroke as u32));
            }
        }
        Self {
            font: scaled,
            advance,
            line,
            margin_x,
            margin_y,
            ascent,
            cols: cols.max(1),
            rows: rows.max(1),
            height,
            cache: HashMap::new(),
            box_glyph: Glyph::from_runs(&runs),
        }
    }

    fn rasterize(&self, c: char) -> Option<Glyph> {
        let id = self.font.font.glyph_id(c);
        if id.0 == 0 {
            return None;
        }
        let mut runs = Vec::new();
        let glyph = id.with_scale_and_position(self.font.scale, point(0.0, 0.0));
        if let Some(outline) = self.font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (w, h) = (b.width() as usize, b.height() as usize);
            let mut cov = vec![false; w * h];
            outline.draw(|x, y, c| {
                if let Some(p) = cov.get_mut(y as usize * w + x as usize) {
                    *p = c >= 0.5;
                }
            });
            let (ox, oy) = (b.min.x as i32, b.min.y as i32);
            for y in 0..h {
                let mut x = 0;
                while x < w {
                    if cov[y * w + x] {
                        let start = x;
                        while x < w && cov[y * w + x] {
                            x += 1;
                        }
                        runs.push((ox + start as i32, oy + y as i32, (x - start) as u32));
                    } else {
                        x += 1;
                    }
                }
            }
        }
        Some(Glyph::from_runs(&runs))
    }

    fn stamp(&mut self, page: &mut Bitmap, c: char, col: usize, row: usize) {
        if !self.cache.contains_key(&c) {
            let g = self.rasterize(c);
            self.cache.insert(c, g);
        }
        let glyph = self.cache.get(&c).and_then(Option::as_ref);
        let glyph = glyph.unwrap_or(&self.box_glyph);
        let pen_x = (self.margin_x + col as f64 * self.advance).round() as i32;
        let base_y = (self.margin_y + row as f64 * self.line + self.ascent).round() as i32;
        if let Some(mask) = &glyph.mask {
            mask.blit(page, pen_x, base_y);
        }
    }
}

/// Lines of one page, each at most `cols` characters.
type Page = Vec<Vec<char>>;

/// Split text into page-sized lists of lines: tabs expanded, long lines wrapped, form feed breaks
/// the page, control characters dropped. One pass over the text, in time and memory linear in
/// the output: `None` as soon as the text needs more than `max_pages` pages, so a huge file costs
/// no more than `max_pages` pages of lines (a line of megabytes is wrapped as it is read, never
/// held whole).
fn paginate(text: &str, cols: usize, rows: usize, max_pages: usize) -> Option<Vec<Page>> {
    let mut out = Pages {
        pages: vec![Vec::new()],
        rows,
        max_pages,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections = text.split('\u{c}').enumerate().peekable();
    while let Some((k, section)) = sections.next() {
        let last = sections.peek().is_none();
        if k > 0 && last && section.trim_end_matches('\n').is_empty() {
            break; // a trailing form feed does not start a blank page
        }
        if k > 0 {
            out.new_page()?;
        }
        // A section that ends with a newline has no extra empty line after it.
        let body = section.strip_suffix('\n').unwrap_or(section);
        for raw in body.split('\n') {
            let mut wrap = Wrap::new(cols);
            let mut logical = 0; // columns of the unwrapped line, for tab stops
            for c in raw.chars() {
                match c {
                    '\t' => {
                        let n = TAB - logical % TAB;
                        for _ in 0..n {
                            out.push_all(wrap.push(' '))?;
                        }
                        logical += n;
                    }
                    c if c.is_control() => {}
                    c => {
                        out.push_all(wrap.push(c))?;
                        logical += 1;
                    }
                }
            }
            out.push(wrap.finish())?;
        }
    }
    let mut pages = out.pages;
    // A trailing form feed leaves an empty page behind; drop it unless it is the only page.
    if pages.len() > 1 && pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    Some(pages)
}

/// Pages filled line by line, refusing to grow past the limit.
struct Pages {
    pages: Vec<Page>,
    rows: usize,
    max_pages: usize,
}

impl Pages {
    fn new_page(&mut self) -> Option<()> {
        self.pages.push(Vec::new());
        (self.pages.len() <= self.max_pages).then_some(())
    }

    fn push(&mut self, line: Vec<char>) -> Option<()> {
        if self.pages.last().is_some_and(|p| p.len() == self.rows) {
            self.new_page()?;
        }
        self.pages.last_mut()?.push(line);
        Some(())
    }

    fn push_all(&mut self, line: Option<Vec<char>>) -> Option<()> {
        match line {
            Some(line) => self.push(line),
            None => Some(()),
        }
    }
}

/// Word wrap of one line fed a character at a time: it never holds more than `cols + 1`
/// characters, so wrapping costs O(cols) per emitted line whatever the length of the input line.
/// A line is cut at its last space in the right half of the row, else hard at the margin; the
/// spaces at a cut are dropped.
struct Wrap {
    cols: usize,
    cur: Vec<char>,
    skip_spaces: bool,
}

impl Wrap {
    fn new(cols: usize) -> Self {
        Self {
            cols,
            cur: Vec::new(),
            skip_spaces: false,
        }
    }

    /// Adds a character; returns a finished row when one is cut off.
    fn push(&mut self, c: char) -> Option<Vec<char>> {
        if self.skip_spaces {
            if c == ' ' {
                return None;
            }
            self.skip_spaces = false;
        }
        self.cur.push(c);
        if self.cur.len() <= self.cols {
            return None;
        }
        let cols = self.cols;
        let cut = self.cur[..=cols]
            .iter()
            .rposition(|&c| c == ' ')
            .filter(|&p| p > cols / 2)
            .unwrap_or(cols);
        let rest: Vec<char> = self.cur[cut..]
            .iter()
            .copied()
            .skip_while(|&c| c == ' ')
            .collect();
        self.skip_spaces = rest.is_empty();
        self.cur.truncate(cut);
        Some(std::mem::replace(&mut self.cur, rest))
    }

    /// The last (possibly empty) row of the line.
    fn finish(self) -> Vec<char> {
        self.cur
    }
}

/// The number of pages [`render_text`] makes of the text, without drawing them.
pub(crate) fn count_pages(
    text: &str,
    paper: Paper,
    res: Resolution,
    max_pages: usize,
) -> Result<usize, DocError> {
    let font = FontRef::try_from_slice(FONT).map_err(|_| DocError::Write {
        what: "text page",
        detail: "built-in font is unreadable".into(),
    })?;
    let layout = Layout::new(&font, paper, res);
    paginate(text, layout.cols, layout.rows, max_pages)
        .map(|p| p.len())
        .ok_or(DocError::TextTooLong { limit: max_pages })
}

/// Lay out UTF-8 text as fax pages.
pub fn render_text(
    text: &str,
    paper: Paper,
    res: Resolution,
    max_pages: usize,
) -> Result<Vec<Bitmap>, DocError> {
    let font = FontRef::try_from_slice(FONT).map_err(|_| DocError::Write {
        what: "text page",
        detail: "built-in font is unreadable".into(),
    })?;
    let layout = Layout::new(&font, paper, res);
    let pages = paginate(text, layout.cols, layout.rows, max_pages)
        .ok_or(DocError::TextTooLong { limit: max_pages })?;
    // Pages are drawn in parallel, each worker with its own layout and glyph cache.
    Ok(pages
        .into_par_iter()
        .map_init(
            || Layout::new(&font, paper, res),
            |layout, lines| {
                let mut page = Bitmap::new(FAX_WIDTH, layout.height);
                for (row, line) in lines.iter().enumerate() {
                    for (col, &c) in line.iter().enumerate() {
                        if c != ' ' {
                            layout.stamp(&mut page, c, col, row);
                        }
                    }
                }
                page
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_hard_wraps_long_words() {
        let pages = paginate(
            &format!("{} {}", "a".repeat(50), "b".repeat(50)),
            80,
            60,
            10,
        )
        .unwrap();
        assert_eq!(pages[0].len(), 2);
        let pages = paginate(&"x".repeat(200), 80, 60, 10).unwrap();
        assert_eq!(
            pages[0].iter().map(Vec::len).collect::<Vec<_>>(),
            [80, 80, 40]
        );
    }

    #[test]
    fn form_feed_and_overflow_break_pages() {
        assert_eq!(paginate("a\u{c}b\u{c}", 80, 60, 10).unwrap().len(), 2);
        assert_eq!(
            paginate(&"line\n".repeat(121), 80, 60, 10).unwrap().len(),
            3
        );
        assert_eq!(paginate("", 80, 60, 10).unwrap().len(), 1);
    }

    #[test]
    fn tabs_expand_to_eight_columns() {
        let pages = paginate("a\tb", 80, 60, 10).unwrap();
        assert_eq!(pages[0][0].len(), 9);
    }

    #[test]
    fn spaces_after_a_cut_are_dropped_and_tabs_count_the_whole_line() {
        let line = format!("{}     {}", "a".repeat(78), "b".repeat(3));
        let pages = paginate(&line, 80, 60, 10).unwrap();
        let rows: Vec<String> = pages[0].iter().map(|l| l.iter().collect()).collect();
        assert_eq!(rows, ["a".repeat(78) + "  ", "bbb".to_owned()]);
        // The tab stop is counted on the unwrapped line: 85 columns, then a tab to 88.
        let pages = paginate(&format!("{}\tz", "x".repeat(85)), 80, 60, 10).unwrap();
        assert_eq!(pages[0][1].len(), 9);
    }

    /// A line of megabytes without a newline was copied once per wrapped row (quadratic time, and
    /// each row kept the capacity of the whole rest: 9 MB took the process down). It is now
    /// wrapped as it is read and stops one page past the limit.
    #[test]
    fn one_huge_line_is_wrapped_in_linear_time_and_bounded() {
        let line = "x".repeat(100_000);
        let pages = paginate(&line, 80, 60, 100).unwrap();
        let rows: usize = pages.iter().map(Vec::len).sum();
        assert_eq!(rows, 100_000usize.div_ceil(80));
        assert!(pages.iter().flatten().all(|l| l.len() <= 80));

        let huge = "word ".repeat(2_000_000); // 10 MB, one line
        assert!(paginate(&huge, 80, 60, 100).is_none());
        assert!(matches!(
            render_text(&huge, Paper::Letter, Resolution::Fine, 100),
            Err(DocError::TextTooLong { limit: 100 })
        ));
        // Many short lines are bounded the same way.
        assert!(paginate(&"a\n".repeat(5_000_000), 80, 60, 100).is_none());
    }

    #[test]
    fn missing_glyphs_are_boxed_not_fatal() {
        // CJK and emoji are not in DejaVu Sans Mono: each becomes a box, the Latin text renders.
        let pages = render_text("Hello 你好 🙂 Привет", Paper::Letter, Resolution::Fine, 10)
            .expect("renders");
        assert_eq!(pages.len(), 1);
        assert!(pages[0].black_pixels() > 500);
    }
}
