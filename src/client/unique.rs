//! Choosing the unique sent with a submission: verbatim, `#` (murmur3 of the workload), or a
//! fresh time-based UUID (libuuid's `uuid_generate_time` layout).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest unique libgearman keeps (its 64-byte buffer minus the NUL).
pub const MAX_UNIQUE: usize = 63;

/// The unique actually sent for a caller's `unique` (already validated to be ≤ 64 bytes).
pub fn choose(unique: Option<&[u8]>, workload: &[u8]) -> Vec<u8> {
    match unique {
        Some(b"#") => murmur3_unique(workload).into_bytes(),
        Some(u) if !u.is_empty() => u[..u.len().min(MAX_UNIQUE)].to_vec(),
        _ => uuid_v1().into_bytes(),
    }
}

/// The length of the unique [`choose`] sends, known before the workload is read: `#` is
/// replaced by a decimal u32 (at most 10 bytes), none by a 36-byte UUID.
pub fn sent_len(unique: Option<&[u8]>) -> usize {
    match unique {
        Some(b"#") => 10,
        Some(u) if !u.is_empty() => u.len().min(MAX_UNIQUE),
        _ => 36,
    }
}

/// `"#"` uniques: decimal MurmurHash3_x86_32 with seed 0xdeadbeef × length (mod 2³²).
pub fn murmur3_unique(workload: &[u8]) -> String {
    let seed = 0xdead_beef_u32.wrapping_mul(workload.len() as u32);
    murmur3_x86_32(workload, seed).to_string()
}

/// MurmurHash3, x86 32-bit variant.
pub fn murmur3_x86_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    let mut k: u32 = 0;
    for (i, b) in tail.iter().enumerate() {
        k ^= u32::from(*b) << (8 * i);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// Last timestamp handed out, so two UUIDs of one process never share a time.
static LAST_TICKS: AtomicU64 = AtomicU64::new(0);

/// Process-wide random node and clock sequence, drawn once.
fn node_and_clock() -> (u64, u16) {
    static SEED: std::sync::OnceLock<(u64, u16)> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        let mut bytes = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
            .is_ok();
        let mut r = u64::from_le_bytes(bytes);
        if !ok {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            r = t ^ (u64::from(std::process::id()) << 32);
        }
        // A random node id has the multicast bit set (RFC 4122 §4.5).
        let node = (r & 0xffff_ffff_ffff) | 0x0100_0000_0000;
        (node, ((r >> 48) as u16) & 0x3fff)
    })
}

/// A version-1 (time-based) UUID in lowercase text: 36 characters with dashes.
pub fn uuid_v1() -> String {
    // 100 ns ticks since 1582-10-15.
    const GREGORIAN_OFFSET: u64 = 0x01b2_1dd2_1381_4000;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 / 100)
        + GREGORIAN_OFFSET;
    let mut last = LAST_TICKS.load(Ordering::Relaxed);
    let ticks = loop {
        let next = now.max(last + 1);
        match LAST_TICKS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    let (node, clock) = node_and_clock();
    let time_low = ticks as u32;
    let time_mid = (ticks >> 32) as u16;
    let time_hi = ((ticks >> 48) as u16 & 0x0fff) | 0x1000;
    let clock = clock | 0x8000;
    format!("{time_low:08x}-{time_mid:04x}-{time_hi:04x}-{clock:04x}-{node:012x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_unique_matches_libgearman() {
        // Observed from libgearman 1.1.20: workload "abc" with unique "#".
        assert_eq!(murmur3_unique(b"abc"), "634628250");
        assert_eq!(choose(Some(b"#"), b"abc"), b"634628250");
    }

    #[test]
    fn uuid_shape_and_uniqueness() {
        let a = uuid_v1();
        let b = uuid_v1();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(a
            .bytes()
            .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(&parts[2][..1], "1");
    }

    #[test]
    fn verbatim_and_truncated() {
        assert_eq!(choose(Some(b"u1"), b"x"), b"u1");
        let long = [b'a'; 64];
        assert_eq!(choose(Some(&long), b"x").len(), 63);
        assert_eq!(choose(Some(b""), b"x").len(), 36);
        assert_eq!(choose(None, b"x").len(), 36);
    }
}
