//! Shared helpers for the sstkit benchmarks: deterministic datasets, random key lists, the sstkit builds, and
//! a minimal `pread`-based sstkit reader for the "from a file" measurements.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sstkit_core::table::entry::block_lookup;
use sstkit_core::table::{verified_block, MetaLayout, MetaNeed, Options, ReadBuf, ReadOptions, TableBuilder};
use sstkit_core::trailer::BLOCK_TRAILER_LEN;
use sstkit_core::{CompressionType, Error, Part};

/// Key length of every workload.
pub const KEY_LEN: usize = 16;

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0; the modulo bias is negligible for the sizes used here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Key number `id` as 16 lowercase hex digits: fixed width, so numeric order is byte order. Present keys have
/// even ids and absent keys odd ids, so both are drawn from the same key space.
pub fn key_of(id: u64) -> [u8; KEY_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut k = [0u8; KEY_LEN];
    for (i, b) in k.iter_mut().enumerate() {
        *b = HEX[((id >> (4 * (15 - i))) & 0xf) as usize];
    }
    k
}

/// `n` sorted entries with fixed-size keys and values, stored back to back.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Name used in benchmark ids.
    pub name: &'static str,
    /// Number of entries.
    pub n: usize,
    /// Value length.
    pub value_len: usize,
    /// Data-block compression used for this workload.
    pub compression: CompressionType,
    keys: Vec<u8>,
    values: Vec<u8>,
}

/// Words the values are made of: text-like, so LZ4 finds matches (about 2× on 100-byte values in 4 KiB blocks).
const WORDS: [&str; 64] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
    "yankee", "zulu", "red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "north", "south", "east",
    "west", "spring", "summer", "autumn", "winter", "iron", "copper", "silver", "gold", "zinc", "tin", "oak", "elm",
    "ash", "birch", "pine", "cedar", "maple", "willow", "one", "two", "three", "four", "five", "six", "seven", "eight",
];

impl Dataset {
    /// Builds `n` entries: key `i` is [`key_of`]`(2 * i)`, the value starts with `i` in decimal and is filled
    /// with random words.
    pub fn new(name: &'static str, n: usize, value_len: usize, compression: CompressionType) -> Self {
        let mut keys = Vec::with_capacity(n * KEY_LEN);
        let mut values = Vec::with_capacity(n * value_len);
        let mut rng = Rng::new(0x5eed_0000 + value_len as u64);
        let mut v = Vec::with_capacity(value_len + 16);
        for i in 0..n {
            keys.extend_from_slice(&key_of(2 * i as u64));
            v.clear();
            v.extend_from_slice(format!("{i:08}:").as_bytes());
            while v.len() < value_len {
                v.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
                v.push(b' ');
            }
            values.extend_from_slice(&v[..value_len]);
        }
        Dataset { name, n, value_len, compression, keys, values }
    }

    /// Key `i` (sorted order).
    #[inline]
    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys[i * KEY_LEN..(i + 1) * KEY_LEN]
    }

    /// Value `i`.
    #[inline]
    pub fn value(&self, i: usize) -> &[u8] {
        &self.values[i * self.value_len..(i + 1) * self.value_len]
    }

    /// All entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.keys.chunks_exact(KEY_LEN).zip(self.values.chunks_exact(self.value_len))
    }

    /// Bytes of raw input (keys plus values).
    pub fn raw_bytes(&self) -> u64 {
        (self.n * (KEY_LEN + self.value_len)) as u64
    }

    /// `count` keys of the table drawn uniformly at random (with repetition).
    pub fn random_present(&self, count: usize, seed: u64) -> Vec<[u8; KEY_LEN]> {
        let mut rng = Rng::new(seed);
        (0..count).map(|_| key_of(2 * rng.below(self.n as u64))).collect()
    }

    /// `count` keys between the table's keys (odd ids), never in the table, drawn uniformly at random.
    pub fn random_absent(&self, count: usize, seed: u64) -> Vec<[u8; KEY_LEN]> {
        let mut rng = Rng::new(seed);
        (0..count).map(|_| key_of(2 * rng.below(self.n as u64) + 1)).collect()
    }

    /// The sstkit options for this workload: 4 KiB blocks, restart interval 16, CRC32C, 10 bits/key filter.
    /// `hint` also passes the key count ([`Options::expected_keys`]). `SSTKIT_INDEX_RI=n` in the environment sets
    /// the index restart interval (default 1), for comparing index layouts.
    pub fn sstkit_options(&self, hint: bool) -> Options {
        let mut o = Options::default().compression(self.compression).bloom_bits_per_key(10);
        if let Some(iri) = std::env::var("SSTKIT_INDEX_RI").ok().and_then(|v| v.parse().ok()) {
            o = o.index_restart_interval(iri);
        }
        if hint {
            o.expected_keys(self.n as u64)
        } else {
            o
        }
    }

    /// Builds the table in memory with sstkit, appending it to `out`.
    pub fn build_sstkit(&self, hint: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut b = TableBuilder::new(Vec::new(), self.sstkit_options(hint))?;
        for (k, v) in self.iter() {
            b.put(k, v)?;
            while let Some(c) = b.next_output()? {
                out.extend_from_slice(c);
            }
        }
        b.finish()?;
        while let Some(c) = b.next_output()? {
            out.extend_from_slice(c);
        }
        Ok(())
    }

    /// Builds the table with sstkit into `w` (a buffered file, say).
    pub fn build_sstkit_to(&self, hint: bool, mut w: impl Write) -> std::io::Result<()> {
        let err = |e: Error| std::io::Error::other(e.to_string());
        let mut b = TableBuilder::new(Vec::new(), self.sstkit_options(hint)).map_err(err)?;
        for (k, v) in self.iter() {
            b.put(k, v).map_err(err)?;
            while let Some(c) = b.next_output().map_err(err)? {
                w.write_all(c)?;
            }
        }
        b.finish().map_err(err)?;
        while let Some(c) = b.next_output().map_err(err)? {
            w.write_all(c)?;
        }
        w.flush()
    }
}

/// Reads every entry of `t` forward or backward through a table cursor; returns the key and value bytes seen
/// (so the work cannot be optimized away). The sstkit scan of the benchmarks and of the profile example.
pub fn scan_table(t: &sstkit_core::table::Table<'_>, backward: bool) -> usize {
    scan(t.iter(), backward)
}

/// [`scan_table`] through a read cache.
pub fn scan_table_with<'a: 'c, 'c>(
    t: &sstkit_core::table::Table<'a>,
    cache: &mut sstkit_core::table::ReadCache<'c>,
    backward: bool,
) -> usize {
    scan(t.cursor_with(cache, Vec::new(), Vec::new(), Vec::new()), backward)
}

/// Sums key and value lengths of every entry (values are not touched, as a caller that only hands them on).
fn scan<'a, C: sstkit_core::table::BlockSource<'a>>(
    mut c: sstkit_core::table::TableCursor<'_, 'a, Vec<u8>, Vec<u8>, C>,
    backward: bool,
) -> usize {
    let mut sum = 0;
    if backward {
        c.seek_to_last().expect("seek_to_last");
    } else {
        c.seek_to_first().expect("seek_to_first");
    }
    while let Some(e) = c.entry().expect("entry") {
        sum += e.user_key.len() + e.value.len();
        if backward {
            c.prev().expect("prev");
        } else {
            c.next().expect("next");
        }
    }
    sum
}

/// Seeks to each key in turn and reads the value there; returns the value bytes seen.
pub fn seek_each<'a, C: sstkit_core::table::BlockSource<'a>>(
    c: &mut sstkit_core::table::TableCursor<'_, 'a, Vec<u8>, Vec<u8>, C>,
    keys: &[[u8; KEY_LEN]],
) -> usize {
    let mut sum = 0;
    for k in keys {
        c.seek(k).expect("seek");
        sum += c.entry().expect("entry").map_or(0, |e| e.value.len());
    }
    sum
}

/// The memory of a [`ReadCache`](sstkit_core::table::ReadCache): directory entries, and decompressed slots of
/// `block_len` bytes (the table's largest uncompressed data block) when the table has compressed blocks.
pub struct CacheMem {
    entries: Vec<sstkit_core::table::CacheEntry>,
    slots: Vec<u8>,
    block_len: usize,
}

impl CacheMem {
    /// `whole`: room for every data block of `t` (4 directory entries and, if compressed, a slot per block);
    /// else 4096 entries (64 KiB) and 4 MiB of slots.
    pub fn new(t: &sstkit_core::table::Table<'_>, whole: bool) -> Self {
        use sstkit_core::table::{CacheEntry, ReadCache};
        let (mut blocks, mut compressed, mut block_len) = (0, false, 0);
        let fv = t.footer().format_version;
        t.layout()
            .for_each_block((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded), |x| {
                let b = t.block(x.handle, sstkit_core::Part::DataBlock)?;
                blocks += 1;
                compressed |= b.compression != CompressionType::None;
                block_len = block_len.max(b.uncompressed_len(fv, t.read_options().max_block_len)?);
                Ok(true)
            })
            .expect("blocks");
        let (entries, slots) = if whole { (4 * blocks, blocks) } else { (4096, (4 << 20) / block_len.max(1)) };
        let slots = if compressed { slots * ReadCache::slot_size(block_len) } else { 0 };
        CacheMem { entries: vec![CacheEntry::EMPTY; entries], slots: vec![0; slots], block_len }
    }

    /// The sizes, for the benchmark logs.
    pub fn describe(&self) -> String {
        let slots = self.slots.len() / sstkit_core::table::ReadCache::slot_size(self.block_len);
        format!(
            "{} directory entries ({} B), {slots} slots of {} B ({} B)",
            self.entries.len(),
            std::mem::size_of_val(&self.entries[..]),
            self.block_len,
            self.slots.len()
        )
    }

    /// A cache over this memory (empty).
    pub fn cache(&mut self) -> sstkit_core::table::ReadCache<'_> {
        sstkit_core::table::ReadCache::with_slots(&mut self.entries, &mut self.slots, self.block_len)
    }
}

/// A directory for table files: on tmpfs (`/dev/shm`) when there is one, so "from a file" measures the read
/// path through the kernel's page cache rather than a disk.
pub fn bench_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("sstkit-bench").tempdir_in(shm) {
            return d;
        }
    }
    tempfile::Builder::new().prefix("sstkit-bench").tempdir().expect("temp dir")
}

/// The "memcpy + CRC32C" floor of a build: copies every key and value into `buf` (cleared first) and returns
/// the CRC32C of the copy computed by `crc`.
pub fn copy_and_crc(data: &Dataset, buf: &mut Vec<u8>, crc: impl Fn(&[u8]) -> u32) -> u32 {
    buf.clear();
    for (k, v) in data.iter() {
        buf.extend_from_slice(k);
        buf.extend_from_slice(v);
    }
    crc(buf)
}

/// The CRC32C of the `crc` crate's default (table-driven, slice-by-16) implementation, as a comparison.
pub fn crc32c_crc_crate(data: &[u8]) -> u32 {
    const C: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
    C.checksum(data)
}

/// A minimal sstkit reader over a file: reads the metadata at open, then one `pread` per data block a lookup
/// needs (no block cache), verifying its checksum. It is what a file-backed reader built on `sstkit-core`'s
/// ranged-reader pieces ([`MetaLayout`], [`verified_block`], [`block_lookup`]) does, with nothing cached but the
/// metadata.
#[derive(Debug)]
pub struct FileTable {
    file: File,
    path: PathBuf,
    region: Vec<u8>,
    index_buf: Vec<u8>,
    layout: MetaLayout,
    opts: ReadOptions,
}

/// Buffers a [`FileTable`] lookup reuses.
#[derive(Debug, Default)]
pub struct LookupBufs {
    raw: Vec<u8>,
    block: Vec<u8>,
    key: Vec<u8>,
}

impl FileTable {
    /// Opens `path`: reads a 64 KiB tail, then (if the metadata is larger) the rest of it, and parses it.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let io = |_| Error::InvalidArgument { reason: "I/O error" };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let opts = ReadOptions::default();
        let mut base = len.saturating_sub(64 * 1024);
        let mut region = vec![0u8; (len - base) as usize];
        file.read_exact_at(&mut region, base).map_err(io)?;
        while let MetaNeed::From(off) = sstkit_core::table::meta_start(&region, base, len, &opts)? {
            base = off;
            region = vec![0u8; (len - base) as usize];
            file.read_exact_at(&mut region, base).map_err(io)?;
        }
        let mut index_buf = Vec::new();
        let layout = loop {
            match MetaLayout::parse(&region, base, len, &opts, &mut index_buf) {
                Err(Error::BufferTooSmall { needed }) if needed > index_buf.len() => index_buf.resize(needed, 0),
                r => break r?,
            }
        };
        Ok(FileTable { file, path: path.to_owned(), region, index_buf, layout, opts })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `user_key`'s newest entry, if the table holds one (its length, to keep the borrow short).
    pub fn get_len(&self, user_key: &[u8], bufs: &mut LookupBufs) -> Result<Option<usize>, Error> {
        if !self.layout.may_contain(&self.region, user_key, None) {
            return Ok(None);
        }
        let Some(h) = self.layout.find_block(&self.region, &self.index_buf, user_key)? else {
            return Ok(None);
        };
        let n = h.size as usize + BLOCK_TRAILER_LEN;
        bufs.raw.resize(n, 0);
        self.file.read_exact_at(&mut bufs.raw, h.offset).map_err(|_| Error::InvalidArgument { reason: "I/O error" })?;
        let contents = verified_block(&bufs.raw, h.offset, h, self.layout.checksum(), true, Part::DataBlock)?;
        let bytes: &[u8] = if contents.compression == CompressionType::None {
            contents.body
        } else {
            let m =
                contents.decompress_to(self.layout.footer.format_version, self.opts.max_block_len, &mut bufs.block)?;
            &bufs.block.bytes()[..m]
        };
        Ok(block_lookup(bytes, user_key, &mut bufs.key, self.layout.global_seqno)?.map(|l| l.value.len()))
    }
}
