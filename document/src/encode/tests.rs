use super::*;
use crate::ccitt_decode::decode;

/// A deterministic page with text-like strokes, long runs, edges at both margins and noise.
fn sample_page(width: u32, height: u32, seed: u64) -> Bitmap {
    let mut b = Bitmap::new(width, height);
    let mut s = seed;
    let mut rnd = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for y in 0..height {
        match y % 37 {
            0..=9 => {
                for _ in 0..(rnd() % 40) {
                    let x = (rnd() % u64::from(width)) as u32;
                    let len = (rnd() % 9) as u32;
                    for dx in 0..len {
                        b.set_black(x + dx, y);
                    }
                }
            }
            20 => {
                for x in 0..width {
                    b.set_black(x, y);
                }
            }
            21 => {
                b.set_black(0, y);
                b.set_black(width - 1, y);
            }
            22 => {
                for x in 100..width.min(3000) {
                    b.set_black(x, y);
                }
            }
            23..=26 => {
                for x in 0..width {
                    if rnd() % 3 == 0 {
                        b.set_black(x, y);
                    }
                }
            }
            _ => {}
        }
    }
    b
}

#[test]
fn round_trips_through_hayro_ccitt() {
    for (w, h) in [(1728, 300), (2560 + 64 * 3 + 5, 60), (17, 40), (8, 3)] {
        let page = sample_page(w, h, 0x9e3779b97f4a7c15 ^ u64::from(w));
        for enc in [Encoding::Mh, Encoding::Mr, Encoding::Mmr] {
            let data = encode(&page, enc);
            let back = decode(&data, enc, w, h).expect("decodes");
            assert!(back == page, "{enc:?} {w}x{h} differs after decoding");
        }
    }
}

#[test]
fn g4_matches_the_fax_crate_decoder() {
    let page = sample_page(1728, 400, 42);
    let data = encode(&page, Encoding::Mmr);
    let mut back = Bitmap::new(1728, 400);
    let mut y = 0;
    fax::decoder::decode_g4(data.iter().copied(), 1728, Some(400), |changes| {
        back.fill_row_from_changes(y, changes);
        y += 1;
    })
    .expect("fax crate decodes our G4");
    assert_eq!(y, 400);
    assert!(back == page);
}

#[test]
fn mh_matches_the_fax_crate_decoder() {
    let page = sample_page(1728, 200, 7);
    let data = encode(&page, Encoding::Mh);
    let mut back = Bitmap::new(1728, 200);
    let mut y = 0;
    fax::decoder::decode_g3(data.iter().copied(), |changes| {
        if y < 200 {
            back.fill_row_from_changes(y, changes);
        }
        y += 1;
    })
    .expect("fax crate decodes our MH");
    assert!(y >= 200);
    assert!(back == page);
}

#[test]
fn g3_eols_end_on_byte_boundaries() {
    let page = sample_page(1728, 50, 3);
    for enc in [Encoding::Mh, Encoding::Mr] {
        let data = encode(&page, enc);
        // Every EOL (eleven zeros and a one) that ends a byte must be followed by row data,
        // and the stream starts with 0x00 0x1? (fill bits then EOL).
        assert_eq!(data[0], 0x00);
        assert_eq!(data[1], 0x01, "{enc:?}: first EOL not byte-aligned");
    }
}

/// Rows that repeat their predecessor (long V0 streaks, more than 32 in a row) and rows that
/// shift it by one pixel, through both independent decoders.
#[test]
fn repeated_and_shifted_rows_round_trip() {
    let (w, h) = (1728u32, 120u32);
    let mut page = Bitmap::new(w, h);
    for y in 0..h {
        let shift = if y % 10 < 5 { 0 } else { y % 3 };
        for x in (0..w).filter(|x| (x + shift) % 7 < 3) {
            page.set_black(x, y);
        }
    }
    for enc in [Encoding::Mh, Encoding::Mr, Encoding::Mmr] {
        let data = encode(&page, enc);
        assert!(
            decode(&data, enc, w, h).expect("decodes") == page,
            "{enc:?}"
        );
    }
    let data = encode(&page, Encoding::Mmr);
    let mut back = Bitmap::new(w, h);
    let mut y = 0;
    fax::decoder::decode_g4(data.iter().copied(), 1728, Some(120), |changes| {
        back.fill_row_from_changes(y, changes);
        y += 1;
    })
    .expect("fax crate decodes our G4");
    assert!(back == page);
}
