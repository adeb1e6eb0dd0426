//! XXPH3: RocksDB's frozen copy of the XXH3 *preview* (xxHash 0.7.2), 64-bit, seed 0.
//!
//! RocksDB's `GetSliceHash64` (and so the format_version 5 FastLocalBloom filter) hashes keys with it. It is not
//! the final XXH3 of xxHash 0.8 (nor `xxhash_rust::xxh3`): most length paths, the long-input tail and the empty input
//! differ. Lengths take different code paths (0, 1–3, 4–8, 9–16, 17–128, 129–240, longer), all implemented here.

/// The default 192-byte secret ("kSecret") of xxHash 0.7.2.
const SECRET: [u8; 192] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c, //
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f, //
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21, //
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c, //
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3, //
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8, //
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d, //
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64, //
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb, //
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e, //
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce, //
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e, //
];

const PRIME32_1: u64 = 0x9E37_79B1;
const PRIME32_2: u64 = 0x85EB_CA77;
const PRIME32_3: u64 = 0xC2B2_AE3D;
const PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;
const PRIME64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const PRIME64_3: u64 = 0x1656_67B1_9E37_79F9;
const PRIME64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const PRIME64_5: u64 = 0x27D4_EB2F_1656_67C5;

const STRIPE_LEN: usize = 64;
/// Secret bytes consumed per stripe.
const SECRET_CONSUME_RATE: usize = 8;
/// Stripes per block: (192 - 64) / 8.
const STRIPES_PER_BLOCK: usize = (SECRET.len() - STRIPE_LEN) / SECRET_CONSUME_RATE;
const BLOCK_LEN: usize = STRIPE_LEN * STRIPES_PER_BLOCK;
/// The secret offset of the last (overlapping) stripe; deliberately not a multiple of 8.
const SECRET_LASTACC_START: usize = 7;
const SECRET_MERGEACCS_START: usize = 11;
const MIDSIZE_MAX: usize = 240;
const MIDSIZE_STARTOFFSET: usize = 3;
const MIDSIZE_LASTOFFSET: usize = 17;
/// XXPH3_SECRET_SIZE_MIN: the 129–240 path addresses the secret relative to it.
const SECRET_SIZE_MIN: usize = 136;

/// XXPH3 64-bit hash with seed 0 (RocksDB `GetSliceHash64` / `Hash64(data, n)`).
pub fn xxph3_64(data: &[u8]) -> u64 {
    let len = data.len();
    match len {
        // RocksDB's own change to the preview: hash the (zero) seed instead of returning 0.
        0 => mul128_fold64(r64(&SECRET, 0), PRIME64_2),
        1..=3 => len_1to3(data),
        4..=8 => len_4to8(data),
        9..=16 => len_9to16(data),
        17..=128 => len_17to128(data),
        129..=MIDSIZE_MAX => len_129to240(data),
        _ => hash_long(data),
    }
}

/// Little-endian u64 at `at`; the callers only ask for bytes that exist (0 otherwise, never a panic).
#[inline(always)]
fn r64(b: &[u8], at: usize) -> u64 {
    b.get(at..).and_then(|s| s.first_chunk::<8>()).map_or(0, |a| u64::from_le_bytes(*a))
}

/// Little-endian u32 at `at`, like [`r64`].
#[inline(always)]
fn r32(b: &[u8], at: usize) -> u32 {
    b.get(at..).and_then(|s| s.first_chunk::<4>()).map_or(0, |a| u32::from_le_bytes(*a))
}

#[inline(always)]
fn mul128_fold64(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(PRIME64_3);
    h ^ (h >> 32)
}

#[inline]
fn len_1to3(d: &[u8]) -> u64 {
    let len = d.len();
    let (c1, c2, c3) = (d[0], d[len >> 1], d[len - 1]);
    let combined = u32::from(c1) | (u32::from(c2) << 8) | (u32::from(c3) << 16) | ((len as u32) << 24);
    let keyed = u64::from(combined) ^ u64::from(r32(&SECRET, 0));
    avalanche(keyed.wrapping_mul(PRIME64_1))
}

#[inline]
fn len_4to8(d: &[u8]) -> u64 {
    let len = d.len();
    let lo = u64::from(r32(d, 0));
    let hi = u64::from(r32(d, len - 4));
    let keyed = (lo | (hi << 32)) ^ r64(&SECRET, 0);
    let mix = (len as u64).wrapping_add((keyed ^ (keyed >> 51)).wrapping_mul(PRIME32_1));
    avalanche((mix ^ (mix >> 47)).wrapping_mul(PRIME64_2))
}

#[inline]
fn len_9to16(d: &[u8]) -> u64 {
    let len = d.len();
    let lo = r64(d, 0) ^ r64(&SECRET, 0);
    let hi = r64(d, len - 8) ^ r64(&SECRET, 8);
    let acc = (len as u64).wrapping_add(lo.wrapping_add(hi)).wrapping_add(mul128_fold64(lo, hi));
    avalanche(acc)
}

#[inline(always)]
fn mix16(d: &[u8], at: usize, secret_at: usize) -> u64 {
    mul128_fold64(r64(d, at) ^ r64(&SECRET, secret_at), r64(d, at + 8) ^ r64(&SECRET, secret_at + 8))
}

fn len_17to128(d: &[u8]) -> u64 {
    let len = d.len();
    let mut acc = (len as u64).wrapping_mul(PRIME64_1);
    if len > 32 {
        if len > 64 {
            if len > 96 {
                acc = acc.wrapping_add(mix16(d, 48, 96));
                acc = acc.wrapping_add(mix16(d, len - 64, 112));
            }
            acc = acc.wrapping_add(mix16(d, 32, 64));
            acc = acc.wrapping_add(mix16(d, len - 48, 80));
        }
        acc = acc.wrapping_add(mix16(d, 16, 32));
        acc = acc.wrapping_add(mix16(d, len - 32, 48));
    }
    acc = acc.wrapping_add(mix16(d, 0, 0));
    acc = acc.wrapping_add(mix16(d, len - 16, 16));
    avalanche(acc)
}

fn len_129to240(d: &[u8]) -> u64 {
    let len = d.len();
    let mut acc = (len as u64).wrapping_mul(PRIME64_1);
    for i in 0..8 {
        acc = acc.wrapping_add(mix16(d, 16 * i, 16 * i));
    }
    acc = avalanche(acc);
    for i in 8..len / 16 {
        acc = acc.wrapping_add(mix16(d, 16 * i, 16 * (i - 8) + MIDSIZE_STARTOFFSET));
    }
    acc = acc.wrapping_add(mix16(d, len - 16, SECRET_SIZE_MIN - MIDSIZE_LASTOFFSET));
    avalanche(acc)
}

/// One 64-byte stripe into the eight accumulators (the 64-bit-wide variant).
#[inline(always)]
fn accumulate_512(acc: &mut [u64; 8], d: &[u8], at: usize, secret_at: usize) {
    for (i, a) in acc.iter_mut().enumerate() {
        let v = r64(d, at + 8 * i);
        let k = v ^ r64(&SECRET, secret_at + 8 * i);
        *a = a.wrapping_add(v).wrapping_add((k & 0xFFFF_FFFF).wrapping_mul(k >> 32));
    }
}

#[inline(always)]
fn scramble(acc: &mut [u64; 8], secret_at: usize) {
    for (i, a) in acc.iter_mut().enumerate() {
        let mut x = *a;
        x ^= x >> 47;
        x ^= r64(&SECRET, secret_at + 8 * i);
        *a = x.wrapping_mul(PRIME32_1);
    }
}

fn hash_long(d: &[u8]) -> u64 {
    let len = d.len();
    let mut acc = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1];
    let blocks = len / BLOCK_LEN;
    for b in 0..blocks {
        for s in 0..STRIPES_PER_BLOCK {
            accumulate_512(&mut acc, d, b * BLOCK_LEN + s * STRIPE_LEN, s * SECRET_CONSUME_RATE);
        }
        scramble(&mut acc, SECRET.len() - STRIPE_LEN);
    }
    let done = blocks * BLOCK_LEN;
    for s in 0..(len - done) / STRIPE_LEN {
        accumulate_512(&mut acc, d, done + s * STRIPE_LEN, s * SECRET_CONSUME_RATE);
    }
    // The preview skips the overlapping last stripe when the length is a multiple of 64 (the final XXH3 does not).
    if len % STRIPE_LEN != 0 {
        accumulate_512(&mut acc, d, len - STRIPE_LEN, SECRET.len() - STRIPE_LEN - SECRET_LASTACC_START);
    }
    let mut h = (len as u64).wrapping_mul(PRIME64_1);
    for i in 0..4 {
        let s = SECRET_MERGEACCS_START + 16 * i;
        h = h.wrapping_add(mul128_fold64(acc[2 * i] ^ r64(&SECRET, s), acc[2 * i + 1] ^ r64(&SECRET, s + 8)));
    }
    avalanche(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rocksdb_small_value_schema() {
        // RocksDB util/hash_test.cc, HashTest.Hash64SmallValueSchema.
        let cases: &[(&[u8], u64)] = &[
            (b"", 5999572062939766020),
            (b"\x08", 583283813901344696),
            (b"\x17", 16175549975585474943),
            (b"\x9a", 16322991629225003903),
            (b"\x1c", 13269285487706833447),
            (b"\x4d\x76", 6859542833406258115),
            (b"\x52\xd5", 4919611532550636959),
            (b"\x91\xf7", 14199427467559720719),
            (b"\xd6\x27", 12292689282614532691),
            (b"\x30\x46\x0b", 11404699285340020889),
            (b"\x56\xdc\xd6", 12404347133785524237),
            (b"\xd4\x52\x33", 15853805298481534034),
            (b"\x6a\xb5\xf4", 16863488758399383382),
            (b"\x67\x53\x81\x1c", 9010661983527562386),
            (b"\x69\xb8\xc0\x88", 6611781377647041447),
            (b"\x1e\x84\xaf\x2d", 15290969111616346501),
            (b"\x46\xdc\x54\xbe", 7063754590279313623),
            (b"\xd0\x7a\x6e\xea\x56", 6384167718754869899),
            (b"\x86\x83\xd5\xa4\xd8", 16874407254108011067),
            (b"\xb7\x46\xbb\x77\xce", 16809880630149135206),
            (b"\x6c\xa8\xbc\xe5\x99", 1249038833153141148),
            (b"\x5c\x5e\xe1\xa0\x73\x81", 17358142495308219330),
            (b"\x08\x5d\x73\x1c\xe5\x2e", 4237646583134806322),
            (b"\x42\xfb\xf2\x52\xb4\x10", 4373664924115234051),
            (b"\x73\xe1\xff\x56\x9c\xce", 12012981210634596029),
            (b"\x5c\xbe\x97\x75\x54\x9a\x52", 5716522398211028826),
            (b"\x16\x82\x39\x49\x88\x2b\x36", 15604531309862565013),
            (b"\x59\x77\xf0\xa7\x24\xf4\x78", 8601330687345614172),
            (b"\xd3\xa5\x7c\x0e\xc0\x02\x07", 8088079329364056942),
            (b"\x31\x1b\x98\x75\x96\x22\xd3\x9a", 9844314944338447628),
            (b"\x38\xd6\xf7\x28\x20\xb4\x8a\xe9", 10973293517982163143),
            (b"\xbb\x18\x5d\xf4\x12\x03\xf7\x99", 9986007080564743219),
            (b"\x80\xd4\x3b\x3b\xae\x22\xa2\x78", 1729303145008254458),
            (b"\x1a\xb5\xd0\xfe\xab\xc3\x61\xb2\x99", 13253403748084181481),
            (b"\x8e\x4a\xc3\x18\x20\x2f\x06\xe6\x3c", 7768754303876232188),
            (b"\xb6\xc0\xdd\x05\x3f\xc4\x86\x4c\xef", 12439346786701492),
            (b"\x9a\x5f\x78\x0d\xaf\x50\xe1\x1f\x55", 10841838338450144690),
            (b"\x22\x6f\x39\x1f\xf8\xdd\x4f\x52\x17\x94", 12883919702069153152),
            (b"\x32\x89\x2a\x75\x48\x3a\x4a\x02\x69\xdd", 12692903507676842188),
            (b"\x06\x92\x5c\xf4\x88\x0e\x7e\x68\x38\x3e", 6540985900674032620),
            (b"\xbd\x2c\x63\x38\xbf\xe9\x78\xb7\xbf\x15", 10551812464348219044),
        ];
        for &(data, want) in cases {
            assert_eq!(xxph3_64(data), want, "{data:02x?}");
        }
    }

    /// RocksDB's `Hash64TestDescriptor`: one base-61 digit of the hash of each prefix of `repeat` repeated.
    fn descriptor(repeat: &[u8], out: &mut [u8; 430]) {
        const ENC: &[u8; 61] = b"abcdefghijklmnopqrstuvwxyz123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut input = [0u8; 430];
        for (i, b) in input.iter_mut().enumerate() {
            *b = repeat[i % repeat.len()];
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = ENC[(xxph3_64(&input[..i]) % 61) as usize];
        }
    }

    #[test]
    fn rocksdb_large_value_schema() {
        // RocksDB util/hash_test.cc, HashTest.Hash64LargeValueSchema: lengths 0..430 cover every path but the
        // 1 KiB block loop (the fixture test in tests/filter_rocksdb.rs covers that).
        let cases: [(&[u8], &str); 3] = [
            (
                b"foo",
                "cRhyWsY67B6klRA1udmOuiYuX7IthyGBKqbeosz2hzVglWCmQx8nEdnpkvPfYX56Up2OWOTV\
                 lTzfAoYwvtqKzjD8E9xttR2unelbXbIV67NUe6bOO23BxaSFRcA3njGu5cUWfgwOqNoTsszp\
                 uPvKRP6qaUR5VdoBkJUCFIefd7edlNK5mv6JYWaGdwxehg65hTkTmjZoPKxTZo4PLyzbL9U4\
                 xt12ITSfeP2MfBHuLI2z2pDlBb44UQKVMx27LEoAHsdLp3WfWfgH3sdRBRCHm33UxCM4QmE2\
                 xJ7gqSvNwTeH7v9GlC8zWbGroyD3UVNeShMLx29O7tH1biemLULwAHyIw8zdtLMDpEJ8m2ic\
                 l6Lb4fDuuFNAs1GCVUthjK8CV8SWI8Rsz5THSwn5CGhpqUwSZcFknjwWIl5rNCvDxXJqYr",
            ),
            (
                b"Rocks",
                "c1EeRkrzgOYWLA8PuhJrwTePJewoB44WdXYDfhbk3ZxTqqg25WlPExDl7IKIQLJvnA6gJxxn\
                 9TCSLkFGfJeXehaSS1GBqWSzfhEH4VXiXIUCuxJXxtKXcSC6FrNIQGTZbYDiUOLD6Y5inzrF\
                 9etwQhXUBanw55xAUdNMFQAm2GjJ6UDWp2mISLiMMkLjANWMKLaZMqaFLX37qB4MRO1ooVRv\
                 zSvaNRSCLxlggQCasQq8icWjzf3HjBlZtU6pd4rkaUxSzHqmo9oM5MghbU5Rtxg8wEfO7lVN\
                 5wdMONYecslQTwjZUpO1K3LDf3K3XK6sUXM6ShQQ3RHmMn2acB4YtTZ3QQcHYJSOHn2DuWpa\
                 Q8RqzX5lab92YmOLaCdOHq1BPsM7SIBzMdLgePNsJ1vvMALxAaoDUHPxoFLO2wx18IXnyX",
            ),
            (
                b"RocksDB",
                "c1EeRkukbkb28wLTahwD2sfUhZzaBEnF8SVrxnPVB6A7b8CaAl3UKsDZISF92GSq2wDCukOq\
                 Jgrsp7A3KZhDiLW8dFXp8UPqPxMCRlMdZeVeJ2dJxrmA6cyt99zkQFj7ELbut6jAeVqARFnw\
                 fnWVXOsaLrq7bDCbMcns2DKvTaaqTCLMYxI7nhtLpFN1jR755FRQFcOzrrDbh7QhypjdvlYw\
                 cdAMSZgp9JMHxbM23wPSuH6BOFgxejz35PScZfhDPvTOxIy1jc3MZsWrMC3P324zNolO7JdW\
                 CX2I5UDKjjaEJfxbgVgJIXxtQGlmj2xkO5sPpjULQV4X2HlY7FQleJ4QRaJIB4buhCA4vUTF\
                 eMFlxCIYUpTCsal2qsmnGOWa8WCcefrohMjDj1fjzSvSaQwlpyR1GZHF2uPOoQagiCpHpm",
            ),
        ];
        let mut got = [0u8; 430];
        for (repeat, want) in cases {
            descriptor(repeat, &mut got);
            assert_eq!(core::str::from_utf8(&got).unwrap(), want, "{:?}", core::str::from_utf8(repeat));
        }
    }

    #[test]
    fn differs_from_final_xxh3() {
        // Guard against someone "simplifying" this to the xxhash-rust crate.
        let long = [7u8; 2000];
        assert_ne!(xxph3_64(b""), xxhash_rust::xxh3::xxh3_64(b""));
        assert_ne!(xxph3_64(&long), xxhash_rust::xxh3::xxh3_64(&long));
    }
}
