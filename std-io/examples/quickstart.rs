//! Builds an SST from a TSV file (`key<TAB>value` lines, sorted) into `./out/`, then opens it and reads it back.
//!
//! ```text
//! cargo run --release -p sstkit --example quickstart -- [INPUT.tsv] [OUTPUT.sst]
//! ```
//! Defaults: `examples/data/sample.tsv` → `out/sample.sst`. The file is written to a temporary name and renamed
//! into place only when complete.

use std::io::Write;
use std::path::PathBuf;

use sstkit::core::table::{Options, Table, TableBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = PathBuf::from(args.next().unwrap_or_else(|| "examples/data/sample.tsv".into()));
    let output = PathBuf::from(args.next().unwrap_or_else(|| "out/sample.sst".into()));
    let text = std::fs::read_to_string(&input).map_err(|e| format!("{}: {e}", input.display()))?;

    // Build: feed entries, write every finished chunk as it comes out.
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = output.with_extension("sst.tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut builder = TableBuilder::new(Vec::new(), Options::default())?;
    for (n, line) in text.lines().enumerate() {
        let (key, value) = line.split_once('\t').unwrap_or((line, ""));
        builder.put(key.as_bytes(), value.as_bytes()).map_err(|e| format!("{}:{}: {e}", input.display(), n + 1))?;
        while let Some(chunk) = builder.next_output()? {
            file.write_all(chunk)?;
        }
    }
    builder.finish()?;
    while let Some(chunk) = builder.next_output()? {
        file.write_all(chunk)?;
    }
    file.into_inner()?.sync_all()?;
    std::fs::rename(&tmp, &output)?;
    let stats = builder.stats();
    println!(
        "wrote {}: {} entries, {} data blocks, {} bytes",
        output.display(),
        stats.num_entries(),
        stats.num_data_blocks,
        stats.file_size
    );

    // Read back: open zero-copy, verify every block, scan and look up.
    let bytes = std::fs::read(&output)?;
    let table = Table::open(&bytes)?;
    let blocks = table.verify_all()?;
    println!("verified {blocks} blocks; footer format_version {}", table.footer().format_version);
    let mut cursor = table.iter();
    cursor.seek_to_first()?;
    let mut shown = 0;
    while let Some(e) = cursor.entry()? {
        if shown < 5 {
            println!("  {} => {}", String::from_utf8_lossy(e.user_key), String::from_utf8_lossy(e.value));
        }
        shown += 1;
        cursor.next()?;
    }
    println!("scanned {shown} entries");
    let mut buf = Vec::new();
    for key in [&b"mango/007"[..], b"no-such-fruit"] {
        match table.get(key, &mut buf)? {
            Some(hit) => println!("get {} = {}", String::from_utf8_lossy(key), String::from_utf8_lossy(hit.value)),
            None => println!("get {} = (absent)", String::from_utf8_lossy(key)),
        }
    }
    Ok(())
}
