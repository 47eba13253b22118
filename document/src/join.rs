//! Several documents as one fax, and the optional cover page in front of them.
//!
//! Each part is rendered on its own (under the caller's render budget) to TIFF-F; [`join_to_pdf`]
//! then wraps the coded pages of all parts, in order, in one PDF without re-encoding them. The
//! joined PDF holds exactly the fax pages (1728 pixels across, fax resolution), so counting,
//! previewing and faxing it later all see the same pages, and nothing of the original files
//! (scripts, fonts, broken objects) survives into the stored document.

use crate::bitmap::Bitmap;
use crate::encode::Encoding;
use crate::error::DocError;
use crate::inbound::{fax_pages_to_pdf, read_fax_tiff};
use crate::options::RenderOptions;
use crate::text::render_text;
use crate::tiff_out::write_tiff;

/// Longest `from`, `to` and `subject` of a cover page, in characters.
pub const COVER_FIELD_MAX: usize = 100;
/// Longest cover note, in characters (it must also fit on the one cover page).
pub const COVER_NOTE_MAX: usize = 2000;

/// The fields of a cover page: plain text, any of them may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverPage {
    /// Who sends (a name, a practice, a call-back number).
    pub from: String,
    /// Who it is for.
    pub to: String,
    /// One line.
    pub subject: String,
    /// Free text, several lines allowed.
    pub note: String,
}

/// Why a cover page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    /// A field is over its length limit.
    #[error("the cover page's {field} is longer than {limit} characters")]
    FieldTooLong {
        /// `from`, `to`, `subject` or `note`.
        field: &'static str,
        /// The limit in characters.
        limit: usize,
    },
    /// The note has too many lines to fit on one page.
    #[error("the cover page's note does not fit on one page")]
    DoesNotFit,
    /// Rendering or encoding failed.
    #[error(transparent)]
    Doc(#[from] DocError),
}

impl CoverPage {
    /// True when every field is blank: no cover page is wanted.
    pub fn is_empty(&self) -> bool {
        [&self.from, &self.to, &self.subject, &self.note]
            .iter()
            .all(|f| f.trim().is_empty())
    }

    /// Checks the length limits (before anything is rendered).
    pub fn check(&self) -> Result<(), CoverError> {
        for (field, value, limit) in [
            ("from", &self.from, COVER_FIELD_MAX),
            ("to", &self.to, COVER_FIELD_MAX),
            ("subject", &self.subject, COVER_FIELD_MAX),
            ("note", &self.note, COVER_NOTE_MAX),
        ] {
            if value.chars().count() > limit {
                return Err(CoverError::FieldTooLong { field, limit });
            }
        }
        Ok(())
    }

    /// The page as text for the monospace layout: one line per header field (line breaks and
    /// control characters in them become spaces), a rule, then the note.
    fn text(&self, pages_total: usize) -> String {
        fn line(v: &str) -> String {
            v.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim()
                .to_owned()
        }
        let note: String = self
            .note
            .replace("\r\n", "\n")
            .chars()
            .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
            .collect();
        let mut t = String::from("\n  F A X\n\n\n");
        for (label, value) in [
            ("From:", &self.from),
            ("To:", &self.to),
            ("Subject:", &self.subject),
        ] {
            let v = line(value);
            if !v.is_empty() {
                t.push_str(&format!("  {label:<10}{v}\n\n"));
            }
        }
        t.push_str(&format!(
            "  {:<10}{pages_total} (including this cover page)\n\n",
            "Pages:"
        ));
        t.push_str("  ");
        t.push_str(&"-".repeat(60));
        t.push_str("\n\n");
        for l in note.trim_end().lines() {
            t.push_str("  ");
            t.push_str(l);
            t.push('\n');
        }
        t
    }
}

/// Draws the cover page at the fax resolution and paper of `opts`, naming `pages_total` (the
/// whole fax, this page included). Always exactly one page: a note that would need a second one
/// is [`CoverError::DoesNotFit`].
pub fn render_cover(
    cover: &CoverPage,
    pages_total: usize,
    opts: &RenderOptions,
) -> Result<Bitmap, CoverError> {
    cover.check()?;
    let mut pages = match render_text(&cover.text(pages_total), opts.paper, opts.resolution, 1) {
        Ok(p) => p,
        Err(DocError::TextTooLong { .. }) => return Err(CoverError::DoesNotFit),
        Err(e) => return Err(e.into()),
    };
    match (pages.pop(), pages.is_empty()) {
        (Some(page), true) => Ok(page),
        _ => Err(CoverError::DoesNotFit),
    }
}

/// [`render_cover`] as a one-page TIFF-F, ready to be a part of [`join_to_pdf`].
pub fn cover_tiff(
    cover: &CoverPage,
    pages_total: usize,
    opts: &RenderOptions,
) -> Result<Vec<u8>, CoverError> {
    let page = render_cover(cover, pages_total, opts)?;
    Ok(write_tiff(&[page], opts.resolution, Encoding::Mmr)?)
}

/// Joins rendered parts (each a TIFF-F, as [`crate::render`] writes it) into one PDF, their
/// pages in order, the coded data copied unchanged, on pages of `opts.paper` so that rendering
/// the PDF with `opts` gives the same fax pages back. More than `opts.max_pages` pages in all is
/// [`DocError::TooManyPages`], found before the PDF is built.
pub fn join_to_pdf<P: AsRef<[u8]>>(parts: &[P], opts: &RenderOptions) -> Result<Vec<u8>, DocError> {
    let max_pages = opts.max_pages;
    let mut pages = Vec::new();
    let mut bytes = 0usize;
    for part in parts {
        let part = part.as_ref();
        pages.extend(read_fax_tiff(part)?);
        bytes += part.len();
        if pages.len() > max_pages {
            // Count the rest only to say how many there were; no more pages are kept.
            let rest: usize = parts
                .iter()
                .skip_while(|p| !std::ptr::eq(p.as_ref(), part))
                .skip(1)
                .map(|p| read_fax_tiff(p.as_ref()).map_or(0, |v| v.len()))
                .sum();
            return Err(DocError::TooManyPages {
                pages: pages.len() + rest,
                limit: max_pages,
            });
        }
    }
    if pages.is_empty() {
        return Err(DocError::NoPages);
    }
    fax_pages_to_pdf(&pages, bytes, Some(opts.paper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RenderOptions {
        RenderOptions::default()
    }

    fn text_tiff(text: &str) -> Vec<u8> {
        crate::render(text.as_bytes(), &opts()).unwrap().tiff
    }

    #[test]
    fn joined_parts_keep_their_pages_in_order() {
        let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let a = text_tiff("first part\n");
        let b = text_tiff(&long);
        let b_pages = crate::count_pages(long.as_bytes(), &opts()).unwrap();
        assert!(b_pages >= 2);
        let pdf = join_to_pdf(&[&a, &b], &opts()).unwrap();
        assert_eq!(crate::count_pages(&pdf, &opts()).unwrap(), 1 + b_pages);
        // Page 1 of the joined PDF is the first part's page, page 2 the second part's first.
        let rendered = crate::render(&pdf, &opts()).unwrap();
        let first = crate::render("first part\n".as_bytes(), &opts()).unwrap();
        let second = crate::render(long.as_bytes(), &opts()).unwrap();
        // Rendering the joined PDF gives the rendered parts back, pixel for pixel.
        assert_eq!(rendered.pages[0].data(), first.pages[0].data());
        assert_eq!(rendered.pages[1].data(), second.pages[0].data());
        assert_ne!(rendered.pages[1].data(), first.pages[0].data());
    }

    #[test]
    fn too_many_pages_in_all_and_no_parts_are_errors() {
        let one = text_tiff("x\n");
        let parts = vec![one.clone(); 4];
        let three = RenderOptions {
            max_pages: 3,
            ..opts()
        };
        match join_to_pdf(&parts, &three) {
            Err(DocError::TooManyPages { pages, limit }) => assert_eq!((pages, limit), (4, 3)),
            other => panic!("expected TooManyPages, got {other:?}"),
        }
        assert!(matches!(
            join_to_pdf::<Vec<u8>>(&[], &three),
            Err(DocError::NoPages)
        ));
        assert!(matches!(
            join_to_pdf(&[b"not a tiff".to_vec()], &three),
            Err(DocError::BadTiff(_))
        ));
    }

    #[test]
    fn the_cover_is_one_page_with_limits() {
        let cover = CoverPage {
            from: "Dr. A\nSmith".into(),
            to: "Clinic B".into(),
            subject: "Referral".into(),
            note: "Please call back.\r\nThanks.".into(),
        };
        assert!(!cover.is_empty() && CoverPage::default().is_empty());
        let text = cover.text(3);
        assert!(text.contains("From:     Dr. A Smith\n"), "{text}");
        assert!(text.contains("Pages:    3 (including this cover page)"));
        assert!(text.ends_with("  Please call back.\n  Thanks.\n"), "{text}");
        let page = render_cover(&cover, 3, &opts()).unwrap();
        assert_eq!(page.width(), crate::FAX_WIDTH);
        assert!(page.black_pixels() > 0);
        let tiff = cover_tiff(&cover, 3, &opts()).unwrap();
        assert_eq!(read_fax_tiff(&tiff).unwrap().len(), 1);

        let long_subject = CoverPage {
            subject: "s".repeat(COVER_FIELD_MAX + 1),
            ..CoverPage::default()
        };
        assert!(matches!(
            render_cover(&long_subject, 1, &opts()),
            Err(CoverError::FieldTooLong {
                field: "subject",
                ..
            })
        ));
        let many_lines = CoverPage {
            note: "x\n".repeat(COVER_NOTE_MAX / 2),
            ..CoverPage::default()
        };
        assert!(matches!(
            render_cover(&many_lines, 1, &opts()),
            Err(CoverError::DoesNotFit)
        ));
    }
}
