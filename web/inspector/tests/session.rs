//! The inspector's session on the host, driven as the page drives it: open from a tail (reading more when asked),
//! answer questions, read what an answer names, verify in chunks. Damaged files give errors, never panics.

use serde_json::Value;
use sstkit_core::table::{Options, TableBuilder};
use sstkit_core::{CompressionType, TableWriter};
use sstkit_inspector::session::{Inspector, Opened, Step};

/// 2000 keys at seqno 5 in small LZ4 blocks with a Bloom filter, every 5th deleted, and one range deletion.
fn table() -> Vec<u8> {
    let opts = Options::default()
        .compression(CompressionType::Lz4)
        .block_size(256)
        .bloom_bits_per_key(10)
        .external_file(false)
        .seqno(5);
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..2000u32 {
        let k = format!("k{i:05}");
        if i % 5 == 2 {
            w.delete(k.as_bytes()).unwrap();
        } else {
            w.put(k.as_bytes(), format!("v{i}").repeat(4).as_bytes()).unwrap();
        }
    }
    // Newer than the entries (seqno 5), so it hides the puts it covers.
    w.delete_range_at(b"k00100", b"k00110", 9).unwrap();
    w.finish().unwrap().1
}

/// Opens as the page does: a small tail first, then from wherever the answer says.
fn open(file: &[u8], tail: usize) -> Result<Inspector, sstkit_core::Error> {
    let mut from = file.len().saturating_sub(tail);
    let mut rounds = 0;
    loop {
        match Inspector::open(&file[from..], file.len() as u64)? {
            Opened::Ready(t) => return Ok(*t),
            Opened::Need { from: f } => {
                assert!((f as usize) < from, "each round asks for earlier bytes");
                from = f as usize;
            }
        }
        rounds += 1;
        assert!(rounds < 4);
    }
}

/// Runs a question until it needs no more bytes, providing each range it names; returns the answer and how
/// many ranges were read.
fn ask(t: &mut Inspector, file: &[u8], mut q: impl FnMut(&mut Inspector) -> Step<Value>) -> (Value, usize) {
    for reads in 0..4 {
        match q(t) {
            Step::Done(v) => return (v, reads),
            Step::Need { offset, len } => {
                let (o, l) = (offset as usize, len as usize);
                t.provide(offset, file[o..o + l].to_vec());
            }
        }
    }
    panic!("kept asking");
}

fn verify(t: &mut Inspector, file: &[u8], chunk: usize) -> Vec<Value> {
    let mut pos = 0usize;
    let mut bad = Vec::new();
    while pos < file.len() {
        let mut len = chunk.min(file.len() - pos);
        let r = loop {
            let r = t.verify_chunk(pos as u64, &file[pos..pos + len]);
            match r["need_len"].as_u64() {
                Some(n) if n > 0 => len = n as usize,
                _ => break r,
            }
        };
        bad.extend(r["bad"].as_array().unwrap().iter().cloned());
        let next = r["next"].as_u64().unwrap() as usize;
        assert!(next > pos, "verify moves on");
        pos = next;
    }
    bad
}

#[test]
fn opens_from_a_small_tail_and_answers() {
    let file = table();
    let mut t = open(&file, 64).unwrap();
    let s = t.summary().unwrap();
    assert_eq!(s["file_size"], file.len());
    assert!((s["metadata_from"].as_u64().unwrap() as usize) < file.len() - 64, "it asked for more than the tail");
    let props = s["properties"].as_array().unwrap();
    let entries = props.iter().find(|p| p[0] == "rocksdb.num.entries").unwrap();
    assert_eq!(entries[1], 2001, "RocksDB counts the range deletion too");
    assert_eq!(s["range_deletions"].as_array().unwrap().len(), 1);
    assert_eq!(s["filter"], "full filter");

    // A lookup reads exactly one data block (the metadata is held), then answers with each step.
    let key = b"k00043".to_vec();
    let (v, reads) = ask(&mut t, &file, |t| t.lookup(&key).unwrap());
    assert_eq!(reads, 1);
    assert_eq!(v["found"], true);
    let steps: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["filter", "index", "block", "result"]);
    assert_eq!(v["entry"][0], hex(b"k00043"));
    assert_eq!(v["entry"][3], hex(&b"v43".repeat(4)));
    // The block it read is marked verified on the map.
    let read = v["steps"][2]["block"].as_u64().unwrap() as usize;
    assert_eq!(map(&t)["blocks"][read][3], 1);
    assert_eq!(map(&t)["blocks"][read][4], "LZ4");
    // Deleted by a point deletion, by the range deletion, absent.
    let (v, _) = ask(&mut t, &file, |t| t.lookup(b"k00007").unwrap());
    assert_eq!((v["found"].as_bool(), v["entry"][2].as_str()), (Some(false), Some("delete")));
    let (v, _) = ask(&mut t, &file, |t| t.lookup(b"k00105").unwrap());
    assert_eq!((v["found"].as_bool(), v["entry"][2].as_str()), (Some(false), Some("range_delete")));
    let (v, _) = ask(&mut t, &file, |t| t.lookup(b"zzz").unwrap());
    assert_eq!(v["found"], false);

    // Index entries, paged.
    let all = t.index_entries(0, 100_000).unwrap();
    let n = all["total"].as_u64().unwrap();
    let page = t.index_entries(3, 2).unwrap();
    assert_eq!(page["entries"].as_array().unwrap().as_slice(), &all["entries"].as_array().unwrap()[3..5]);

    // Every block of the map can be inspected; the data blocks list all entries.
    let map = map(&t);
    let blocks = map["blocks"].as_array().unwrap().clone();
    let data = blocks.iter().filter(|b| b[0] == 0).count() as u64;
    assert_eq!(data, n, "one index entry per data block");
    let mut listed = 0;
    for i in 0..blocks.len() {
        let (v, _) = ask(&mut t, &file, |t| t.inspect(i).unwrap());
        assert_eq!(v["checksum"], "ok", "{v}");
        assert!(v["contents"].get("error").is_none(), "{v}");
        listed += v["contents"]["entries"].as_array().map_or(0, Vec::len);
    }
    assert_eq!(listed, 2000);

    // Verify in chunks smaller than some blocks: nothing bad, statistics count every entry.
    assert!(verify(&mut t, &file, 200).is_empty());
    let st = t.stats().unwrap();
    assert_eq!(st["entries_checked"], 2000);
    assert_eq!(st["entries"]["delete"], 400);
    assert_eq!(st["entries"]["range_delete"], 1);
    assert_eq!(st["data_blocks"], data);
    assert_eq!(st["corrupt_blocks"], 0);
}

#[test]
fn verify_finds_the_flipped_block() {
    let file = table();
    let t = open(&file, 1 << 20).unwrap();
    let blocks = map(&t)["blocks"].as_array().unwrap().clone();
    let data: Vec<(usize, u64, u64)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b[0] == 0)
        .map(|(i, b)| (i, b[1].as_u64().unwrap(), b[2].as_u64().unwrap()))
        .collect();
    for &(i, off, len) in [data[0], data[data.len() / 2], data[data.len() - 1]].iter() {
        let mut bad = file.clone();
        bad[(off + len / 2) as usize] ^= 1;
        let mut t = open(&bad, 4096).unwrap();
        let found = verify(&mut t, &bad, 1000);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0][0].as_u64(), found[0][1].as_u64()), (Some(i as u64), Some(off)));
        let states: Vec<u64> = map(&t)["blocks"].as_array().unwrap().iter().map(|b| b[3].as_u64().unwrap()).collect();
        assert!(states.iter().enumerate().all(|(j, &s)| s == if j == i { 2 } else { 1 }), "{states:?}");
    }
}

/// Bytes of a small table flipped in turn (every 7th of the metadata at its end, every 211th of the data blocks):
/// opening fails with an error, or the session answers every question (some with errors) — never a panic.
#[test]
fn damage_anywhere_is_an_error_not_a_panic() {
    let file = table();
    let meta = file.len() - 1500;
    for at in (0..meta).step_by(211).chain((meta..file.len()).step_by(7)) {
        let mut bad = file.clone();
        bad[at] ^= 0x5a;
        let Ok(mut t) = open(&bad, 512) else { continue };
        let _ = t.summary();
        let _ = t.index_entries(0, 10);
        for key in [&b"k00042"[..], b"k01999", b""] {
            for _ in 0..4 {
                match t.lookup(key) {
                    Ok(Step::Need { offset, len }) => {
                        let (o, l) = (offset as usize, len as usize);
                        t.provide(offset, bad[o..o + l].to_vec());
                    }
                    _ => break,
                }
            }
        }
        verify(&mut t, &bad, 4096);
        let _ = t.stats();
    }
}

#[test]
fn garbage_is_an_error() {
    for len in [0usize, 10, 53, 100, 5000] {
        let junk: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        assert!(Inspector::open(&junk, len as u64).is_err(), "{len}");
    }
    let file = table();
    assert!(Inspector::open(&file, 10).is_err(), "a tail longer than the file");
}

/// The block map as the page sees it: `{"blocks": [block_info of each]}`, checked against the packed form.
fn map(t: &Inspector) -> Value {
    let rows: Vec<Value> = (0..t.block_count()).map(|i| t.block_info(i)).collect();
    let packed = t.blocks_packed();
    assert_eq!(packed.len(), 24 * rows.len());
    for (r, p) in rows.iter().zip(packed.chunks(24)) {
        let f = |k: usize| f64::from_le_bytes(p[8 * k..8 * k + 8].try_into().unwrap()) as u64;
        assert_eq!(f(0), r[0].as_u64().unwrap() * 4 + r[3].as_u64().unwrap());
        assert_eq!((f(1), f(2)), (r[1].as_u64().unwrap(), r[2].as_u64().unwrap()));
    }
    serde_json::json!({ "blocks": rows })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}
