//! The full line-simulation matrix, in parallel, written as a markdown success table:
//!
//! `cargo run --release -p faxline-t38 --example sim_matrix [-- --unpaced] [--out t38/SIMULATION.md]`
//!
//! Rows: T.38 version × UDPTL error correction × ECM × bit rate × document (1 or 10 pages);
//! columns: loss 0/1/5/10 % random and 1/5/10 % bursty (Gilbert–Elliott, mean burst 4 packets),
//! both directions. Each cell is one call with a fixed seed: ✓ (success, with the trained rate) or
//! the T.30 failure code. By default spandsp paces packets as on a real line.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss, Transport};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

const LOSSES: [(u32, bool); 7] = [
    (0, false),
    (1, false),
    (5, false),
    (10, false),
    (1, true),
    (5, true),
    (10, true),
];

#[derive(Clone, Copy)]
struct Row {
    version: u8,
    ec: &'static str,
    ecm: bool,
    rate: u32,
    pages: u32,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let paced = !args.iter().any(|a| a == "--unpaced");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("SIMULATION.md"));
    let fixtures = root.join("../fixtures/tiff");
    let mut rows = Vec::new();
    for pages in [1, 10] {
        for version in [0, 3] {
            for ec in ["none", "redundancy", "fec"] {
                for ecm in [true, false] {
                    for rate in [14400, 9600] {
                        rows.push(Row {
                            version,
                            ec,
                            ecm,
                            rate,
                            pages,
                        });
                    }
                }
            }
        }
    }
    let jobs: Vec<(usize, usize)> = (0..rows.len())
        .flat_map(|r| (0..LOSSES.len()).map(move |l| (r, l)))
        .collect();
    let cells = Mutex::new(vec![vec![String::new(); LOSSES.len()]; rows.len()]);
    let next = AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!("faxline-sim-matrix-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let started = Instant::now();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(r, l)) = jobs.get(j) else { break };
                    let row = rows[r];
                    let (loss_pct, bursty) = LOSSES[l];
                    let ec = match row.ec {
                        "none" => ErrorCorrection::None,
                        "fec" => ErrorCorrection::Fec {
                            span: 3,
                            entries: 3,
                        },
                        _ => ErrorCorrection::Redundancy(RedundancyDepth {
                            indicator: 3,
                            control: 3,
                            image: 2,
                        }),
                    };
                    let doc = fixtures.join(if row.pages == 1 {
                        "gpl3_1p.tif"
                    } else {
                        "libtasn1_10p.tif"
                    });
                    let mut c =
                        CallConfig::t38(doc, tmp.join(format!("{r}-{l}.tif")), row.version, ec);
                    for fax in [&mut c.sender, &mut c.receiver] {
                        fax.ecm = row.ecm;
                        fax.max_bit_rate = row.rate;
                    }
                    if let Transport::T38 { params, pacing, .. } = &mut c.transport {
                        params.max_bit_rate = row.rate;
                        *pacing = paced;
                    }
                    let p = f64::from(loss_pct) / 100.0;
                    let loss = match (loss_pct, bursty) {
                        (0, _) => Loss::None,
                        (_, false) => Loss::Random(p),
                        (_, true) => Loss::bursty(p, 4.0),
                    };
                    c.forward = ChannelModel::with_loss(loss);
                    c.backward = ChannelModel::with_loss(loss);
                    c.seed = 0x5EED ^ u64::from(loss_pct) ^ (u64::from(row.version) << 8);
                    let report = Call::new(c).expect("call setup").run();
                    let cell = if report.is_success() {
                        let bad = report.receiver.bad_rows;
                        if bad > 0 {
                            format!("✓ {} ({bad} bad rows)", report.sender.bit_rate)
                        } else {
                            format!("✓ {}", report.sender.bit_rate)
                        }
                    } else {
                        let e = report.failure();
                        let why = if report.timed_out {
                            "TimeLimit".to_owned()
                        } else {
                            e.map(|e| format!("{:?}", e.kind)).unwrap_or_default()
                        };
                        format!("✗ {} {}/{}", why, report.receiver.pages, row.pages)
                    };
                    let _ = std::fs::remove_file(tmp.join(format!("{r}-{l}.tif")));
                    cells.lock().unwrap()[r][l] = cell;
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&tmp);
    let cells = cells.into_inner().unwrap();
    let mut md = String::new();
    md.push_str("# Line simulation results\n\n");
    md.push_str(
        "Send a fax over the simulated line (the README's first command):\n\n```sh\n\
         faxline send fixtures/tiff/gpl3_1p.tif --to +15551234567 --line sim -o received.tif\n\
         faxline send fixtures/tiff/libtasn1_10p.tif --to +15551234567 --line sim --loss 5 --bursty --ec fec\n```\n\n",
    );
    md.push_str(&format!(
        "Generated by `cargo run --release -p faxline-t38 --example sim_matrix{}` ({} calls, {:.0} s on {} threads).\n\n",
        if paced { "" } else { " -- --unpaced" },
        jobs.len(),
        started.elapsed().as_secs_f64(),
        threads
    ));
    md.push_str(
        "Two spandsp T.38 terminals joined by the line simulator (`faxline_t38::sim`): real UDPTL packets with \
         the wire core's error correction (redundancy: 3 secondaries for indicators/control, 2 for image data; \
         FEC: span 3, 3 entries), 40 ms latency and 10 ms jitter each way, the loss applied independently in both \
         directions, one fixed seed per cell. ",
    );
    md.push_str(if paced {
        "spandsp paces packets as on a real line (30 ms image chunks).\n\n"
    } else {
        "Pacing off (image data in large bursts).\n\n"
    });
    md.push_str("Documents: 1 page = `fixtures/tiff/gpl3_1p.tif` (dense text), 10 pages = `fixtures/tiff/libtasn1_10p.tif`. ");
    md.push_str("Cells: ✓ + trained bit rate (bad rows for non-ECM pages that arrived damaged), or ✗ + T.30 completion code + pages received. The code is the one of the end that gave up first: the other end is hung up 10 s later, as that end's BYE would (`TimeLimit`: neither end finished within 30 simulated minutes).\n\n");
    md.push_str("| pages | T.38 ver | EC | ECM | max rate | 0 % | 1 % | 5 % | 10 % | 1 % bursty | 5 % bursty | 10 % bursty |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (row, cells) in rows.iter().zip(&cells) {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.pages,
            row.version,
            row.ec,
            if row.ecm { "on" } else { "off" },
            row.rate,
            cells.join(" | ")
        ));
    }
    std::fs::write(&out, &md).expect("write the table");
    println!("{md}");
    eprintln!("wrote {}", out.display());
}
