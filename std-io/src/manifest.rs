//! The progress manifest of a [`RollingWriter`](crate::rolling::RollingWriter): the object
//! `<prefix>/sstkit.manifest` listing the finished files, so a build killed half-way can be resumed.
//!
//! The writer puts the whole manifest (one `PUT`, atomic on every store) after each finished file and once
//! more when the build is complete; nothing else ever changes it. The format is text, one record per line,
//! byte strings in lowercase hex, `-` for "none" (see docs/FORMAT.md, "Rolling-build manifest"):
//!
//! ```text
//! sstkit-rolling-manifest 1
//! options <the writer options, as text>
//! input <hex of the caller's input id>
//! next <hex of the first key of the next file> | next - (none finished) | next end (every point written)
//! complete 0|1
//! file id=<id> path=<hex> lo=<hex|-> rewriting=0|1 size=<n> crc32c=<8 hex|-> etag=<hex|-> first=<hex|->
//!      last=<hex|-> rdel=<hex>:<hex>|- fv=<n> checksum=<n> compression=<n> stats=<15 numbers, comma-separated>
//!      handles=<offset>:<size>,...  (one line; index, filter|-, range_del|-, properties, metaindex)
//! end <8 hex: CRC32C of every byte before this line>
//! ```
//!
//! A manifest is trusted only whole: a missing `end`, a checksum that does not match, an unknown version or a
//! malformed line is an error.

use std::collections::BTreeMap;

use object_store::path::Path;
use sstkit_core::checksum::crc32c;
use sstkit_core::table::{TableHandles, TableStats};
use sstkit_core::{BlockHandle, ChecksumType, CompressionType};

use crate::error::{Error, Result};
use crate::writer::SstMetadata;

/// The manifest's object name under the prefix.
pub const MANIFEST_NAME: &str = "sstkit.manifest";

const MAGIC: &str = "sstkit-rolling-manifest 1";

/// Where the writer stands: what the next file starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// No file was finished yet.
    Start,
    /// The next file owns the keys from this one on (the previous files hold every point key below it).
    From(Vec<u8>),
    /// Every point entry is in a finished file (only range deletions may still have to be added).
    End,
}

/// One finished file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// Its id.
    pub id: u64,
    /// The first key it owns (`None`: the first file, which owns everything below the second file).
    pub lo: Option<Vec<u8>>,
    /// True while the file is being replaced by a copy with more range deletions: the object holds either
    /// version and its size and checksum are not checked.
    pub rewriting: bool,
    /// What the writer reported for it (its `location` is the object path). The properties are not stored
    /// (the file has them; [`RollingWriter::resume`](crate::rolling::RollingWriter::resume) reads them back), so
    /// a decoded manifest has none.
    pub meta: SstMetadata,
}

/// The manifest's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The writer options the files were written with, as text.
    pub options: String,
    /// The caller's id of the input.
    pub input: Vec<u8>,
    /// Where the next file starts.
    pub next: Next,
    /// Whether the build finished (every file written, every range deletion added).
    pub complete: bool,
    /// The finished files, in key order.
    pub files: Vec<ManifestFile>,
}

fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}

fn opt_hex(b: Option<&[u8]>) -> String {
    b.map_or_else(|| "-".to_string(), hex)
}

fn bad(line: usize, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("rolling-build manifest, line {line}: {what}"))
}

fn unhex(s: &str, line: usize) -> Result<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(bad(line, format!("odd-length hex {s:?}")));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(bad(line, format!("bad hex {s:?}"))),
    };
    b.chunks_exact(2).map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

fn opt_unhex(s: &str, line: usize) -> Result<Option<Vec<u8>>> {
    if s == "-" {
        Ok(None)
    } else {
        unhex(s, line).map(Some)
    }
}

fn num<T: std::str::FromStr>(s: &str, line: usize) -> Result<T> {
    s.parse().map_err(|_| bad(line, format!("bad number {s:?}")))
}

fn stats_fields(s: &mut TableStats) -> [&mut u64; 15] {
    [
        &mut s.num_puts,
        &mut s.num_deletions,
        &mut s.num_merges,
        &mut s.num_range_deletions,
        &mut s.num_other,
        &mut s.raw_key_size,
        &mut s.raw_value_size,
        &mut s.num_data_blocks,
        &mut s.data_size,
        &mut s.index_size,
        &mut s.filter_size,
        &mut s.num_filter_entries,
        &mut s.min_seqno,
        &mut s.max_seqno,
        &mut s.file_size,
    ]
}

fn handle_text(h: Option<BlockHandle>) -> String {
    h.map_or_else(|| "-".to_string(), |h| format!("{}:{}", h.offset, h.size))
}

fn parse_handle(s: &str, line: usize) -> Result<Option<BlockHandle>> {
    if s == "-" {
        return Ok(None);
    }
    let (o, n) = s.split_once(':').ok_or_else(|| bad(line, format!("bad block handle {s:?}")))?;
    Ok(Some(BlockHandle { offset: num(o, line)?, size: num(n, line)? }))
}

impl Manifest {
    /// The manifest as text.
    pub fn encode(&self) -> String {
        let mut s = format!("{MAGIC}\noptions {}\ninput {}\n", self.options, hex(&self.input));
        match &self.next {
            Next::Start => s.push_str("next -\n"),
            Next::From(k) => s.push_str(&format!("next {}\n", hex(k))),
            Next::End => s.push_str("next end\n"),
        }
        s.push_str(&format!("complete {}\n", u8::from(self.complete)));
        for f in &self.files {
            let m = &f.meta;
            let mut st = m.stats;
            let stats: Vec<String> = stats_fields(&mut st).iter().map(|v| v.to_string()).collect();
            let h = &m.handles;
            let handles: Vec<String> =
                [Some(h.index), h.filter, h.range_del, Some(h.properties), Some(h.metaindex)].map(handle_text).into();
            let rdel = m
                .range_deletion_bounds
                .as_ref()
                .map_or_else(|| "-".to_string(), |(a, b)| format!("{}:{}", hex(a), hex(b)));
            s.push_str(&format!(
                "file id={} path={} lo={} rewriting={} size={} crc32c={} etag={} first={} last={} rdel={} fv={} \
                 checksum={} compression={} stats={} handles={}\n",
                f.id,
                hex(m.location.as_bytes()),
                opt_hex(f.lo.as_deref()),
                u8::from(f.rewriting),
                m.stats.file_size,
                m.crc32c.map_or_else(|| "-".to_string(), |c| format!("{c:08x}")),
                opt_hex(m.e_tag.as_deref().map(str::as_bytes)),
                opt_hex(m.first_user_key.as_deref()),
                opt_hex(m.last_user_key.as_deref()),
                rdel,
                m.format_version,
                m.checksum as u8,
                m.compression as u8,
                stats.join(","),
                handles.join(","),
            ));
        }
        let sum = crc32c(s.as_bytes());
        s.push_str(&format!("end {sum:08x}\n"));
        s
    }

    /// Parses a manifest; any damage is an error.
    pub fn decode(bytes: &[u8]) -> Result<Manifest> {
        let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8 text"))?;
        let end_at = text.rfind("end ").filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n');
        let Some(end_at) = end_at else { return Err(bad(0, "no end line: the manifest is incomplete")) };
        let want = text[end_at + 4..].trim_end_matches('\n');
        let got = format!("{:08x}", crc32c(&bytes[..end_at]));
        if want != got || text[end_at..].lines().count() != 1 {
            return Err(bad(0, format!("checksum mismatch (stored {want}, computed {got}): the manifest is damaged")));
        }
        // Lines end at '\n' only: `str::lines` would also eat a '\r' before it, so a value ending in '\r' would
        // not read back as written.
        let mut lines = text[..end_at].split_terminator('\n').enumerate().map(|(i, l)| (i + 1, l));
        let mut field = |name: &str| -> Result<(usize, String)> {
            let (n, l) = lines.next().ok_or_else(|| bad(0, format!("missing the {name} line")))?;
            let rest = l
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix(' ').or(r.is_empty().then_some("")))
                .ok_or_else(|| bad(n, format!("expected {name:?}")))?;
            Ok((n, rest.to_string()))
        };
        let (n, magic) = field("sstkit-rolling-manifest")?;
        if magic != "1" {
            return Err(bad(n, format!("unsupported manifest version {magic:?}")));
        }
        let options = field("options")?.1;
        let (n, input) = field("input")?;
        let input = unhex(&input, n)?;
        let (n, next) = field("next")?;
        let next = match next.as_str() {
            "-" => Next::Start,
            "end" => Next::End,
            k => Next::From(unhex(k, n)?),
        };
        let (n, complete) = field("complete")?;
        let complete = match complete.as_str() {
            "0" => false,
            "1" => true,
            other => return Err(bad(n, format!("bad complete flag {other:?}"))),
        };
        let mut files: Vec<ManifestFile> = Vec::new();
        for (n, l) in lines {
            if let Some(rest) = l.strip_prefix("file ") {
                files.push(parse_file(rest, n)?);
            } else {
                return Err(bad(n, format!("unknown record {:?}", l.split(' ').next().unwrap_or(""))));
            }
        }
        Ok(Manifest { options, input, next, complete, files })
    }
}

fn parse_file(rest: &str, n: usize) -> Result<ManifestFile> {
    let mut kv: BTreeMap<&str, &str> = BTreeMap::new();
    for tok in rest.split(' ') {
        let (k, v) = tok.split_once('=').ok_or_else(|| bad(n, format!("bad field {tok:?}")))?;
        if kv.insert(k, v).is_some() {
            return Err(bad(n, format!("field {k} twice")));
        }
    }
    let get = |k: &str| kv.get(k).copied().ok_or_else(|| bad(n, format!("no {k} field")));
    let location = String::from_utf8(unhex(get("path")?, n)?).map_err(|_| bad(n, "the path is not UTF-8"))?;
    Path::parse(&location).map_err(|e| bad(n, format!("bad path {location:?}: {e}")))?;
    let mut stats = TableStats::default();
    let nums: Vec<&str> = get("stats")?.split(',').collect();
    let mut fields = stats_fields(&mut stats);
    if nums.len() != fields.len() {
        return Err(bad(n, format!("stats has {} numbers, not {}", nums.len(), fields.len())));
    }
    for (f, v) in fields.iter_mut().zip(nums) {
        **f = num(v, n)?;
    }
    let size: u64 = num(get("size")?, n)?;
    if size != stats.file_size {
        return Err(bad(n, "size and stats disagree"));
    }
    let hs: Vec<&str> = get("handles")?.split(',').collect();
    let [index, filter, range_del, properties, metaindex] = hs.as_slice() else {
        return Err(bad(n, "handles needs 5 entries"));
    };
    let need = |s: &str| parse_handle(s, n)?.ok_or_else(|| bad(n, "a required block handle is missing"));
    let handles = TableHandles::new(
        need(index)?,
        parse_handle(filter, n)?,
        parse_handle(range_del, n)?,
        need(properties)?,
        need(metaindex)?,
    );
    let crc32c = match get("crc32c")? {
        "-" => None,
        c => Some(u32::from_str_radix(c, 16).map_err(|_| bad(n, format!("bad crc32c {c:?}")))?),
    };
    let e_tag = match opt_unhex(get("etag")?, n)? {
        Some(b) => Some(String::from_utf8(b).map_err(|_| bad(n, "the etag is not UTF-8"))?),
        None => None,
    };
    let range_deletion_bounds = match get("rdel")? {
        "-" => None,
        r => {
            let (a, b) = r.split_once(':').ok_or_else(|| bad(n, "bad rdel"))?;
            Some((unhex(a, n)?, unhex(b, n)?))
        }
    };
    let rewriting = match get("rewriting")? {
        "0" => false,
        "1" => true,
        other => return Err(bad(n, format!("bad rewriting flag {other:?}"))),
    };
    let checksum = ChecksumType::from_u8(num(get("checksum")?, n)?).map_err(|e| bad(n, e))?;
    let compression = CompressionType::from_u8(num(get("compression")?, n)?).map_err(|e| bad(n, e))?;
    let meta = SstMetadata {
        location,
        e_tag,
        crc32c,
        stats,
        handles,
        first_user_key: opt_unhex(get("first")?, n)?,
        last_user_key: opt_unhex(get("last")?, n)?,
        range_deletion_bounds,
        format_version: num(get("fv")?, n)?,
        checksum,
        compression,
        properties: BTreeMap::new(),
    };
    Ok(ManifestFile { id: num(get("id")?, n)?, lo: opt_unhex(get("lo")?, n)?, rewriting, meta })
}

/// Whether `parts` (relative to a rolling build's prefix) name an object the build writes: a file
/// `<level>/<id>.sst`, the manifest, or the staging object `...#<n>` of an upload that did not finish.
pub fn in_output_set(parts: &[&str]) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let split = |name: &'_ str| -> Option<String> {
        let (file, staging) = name.split_once('#').map_or((name, None), |(f, s)| (f, Some(s)));
        staging.is_none_or(digits).then(|| file.to_string())
    };
    match parts {
        [name] => split(name).is_some_and(|f| f == MANIFEST_NAME),
        [level, name] if digits(level) => split(name).is_some_and(|f| f.strip_suffix(".sst").is_some_and(digits)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_set_names() {
        assert!(in_output_set(&["0", "000001.sst"]));
        assert!(in_output_set(&["6", "000008.sst#1"]));
        assert!(in_output_set(&["sstkit.manifest"]));
        assert!(in_output_set(&["sstkit.manifest#3"]));
        assert!(!in_output_set(&["6", "000008.sst#"]));
        assert!(!in_output_set(&["x", "000001.sst"]));
        assert!(!in_output_set(&["0", "notes.txt"]));
        assert!(!in_output_set(&["000001.sst"]));
    }

    /// The manifest fuzz target's find: an options value ending in carriage returns read back one shorter
    /// (`str::lines` ate the '\r' before each '\n'), so a re-encoded manifest did not decode to itself.
    #[test]
    fn values_ending_in_carriage_returns_read_back_as_written() {
        let m = Manifest {
            options: "l=V0 f\r\r\r".into(),
            input: b"i".to_vec(),
            next: Next::Start,
            complete: false,
            files: vec![],
        };
        assert_eq!(Manifest::decode(m.encode().as_bytes()).unwrap(), m);
    }

    #[test]
    fn files_round_trip_and_mutated_manifests_are_errors_not_panics() {
        let mut w = crate::file_writer::IoWriter::new(Vec::new(), crate::writer::WriterOptions::default()).unwrap();
        w.put(b"a", b"1").unwrap();
        w.delete_range(b"a", b"b").unwrap();
        let (_, mut meta) = w.finish().unwrap();
        meta.location = "0/000001.sst".into();
        meta.e_tag = Some("\"x y\"".into());
        meta.crc32c = Some(7);
        let file = ManifestFile { id: 1, lo: None, rewriting: false, meta: meta.clone() };
        let m =
            Manifest { options: "o".into(), input: b"i".to_vec(), next: Next::End, complete: true, files: vec![file] };
        let text = m.encode();
        let mut back = Manifest::decode(text.as_bytes()).unwrap();
        assert!(back.files[0].meta.properties.is_empty(), "properties are not stored");
        back.files[0].meta.properties = meta.properties.clone();
        assert_eq!(back, m);
        // Every byte of the body replaced, and every truncation, with a correct checksum line: no panic.
        let body = &text.as_bytes()[..text.rfind("end ").unwrap()];
        let seal = |mut t: Vec<u8>| {
            let sum = crc32c(&t);
            t.extend_from_slice(format!("end {sum:08x}\n").as_bytes());
            t
        };
        for i in 0..body.len() {
            for b in [b'0', b'9', b' ', b'=', b'-', b'\n', b'x', b':', b',', 0xff] {
                let mut t = body.to_vec();
                t[i] = b;
                let _ = Manifest::decode(&seal(t));
            }
            let _ = Manifest::decode(&seal(body[..i].to_vec()));
        }
    }

    #[test]
    fn damage_is_an_error() {
        let m = Manifest {
            options: "o".into(),
            input: b"in".to_vec(),
            next: Next::From(b"k\n".to_vec()),
            complete: false,
            files: Vec::new(),
        };
        let text = m.encode();
        assert_eq!(Manifest::decode(text.as_bytes()).unwrap(), m);
        let cut = &text[..text.len() - 10];
        assert!(Manifest::decode(cut.as_bytes()).unwrap_err().to_string().contains("manifest"));
        let flipped = text.replace("input 696e", "input 696f");
        assert!(Manifest::decode(flipped.as_bytes()).unwrap_err().to_string().contains("checksum mismatch"));
    }
}
