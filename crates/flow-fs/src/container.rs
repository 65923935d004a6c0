//! One self-checking file container for every binary file a later run trusts
//! (training checkpoints, embedding model files): a format's magic bytes and version,
//! length-prefixed sections, and a checksum over everything before it.
//!
//! # Layout (little-endian)
//!
//! ```text
//! magic [u8; 8] | version u32
//! u64 length + bytes    section 0
//! ...
//! u64 length + bytes    section n-1
//! u64                   FNV-1a 64 of every byte before it
//! ```
//!
//! The checksum is against truncation and damage, not an authenticity check. A reader
//! states how many sections its format has; a file with fewer or more is refused.
//!
//! ```
//! use flow_fs::container::{decode, encode, ContainerError, Format};
//!
//! const NOTES: Format = Format { magic: *b"MYNOTES1", version: 2 };
//! let bytes = encode(&NOTES, &[b"{\"kind\": \"notes\"}", b"payload"]);
//! let sections = decode(&NOTES, &bytes, 2)?;
//! assert_eq!(sections[1], b"payload");
//! assert!(matches!(
//!     decode(&NOTES, &bytes[..bytes.len() - 1], 2),
//!     Err(ContainerError::Checksum { .. })
//! ));
//! # Ok::<(), ContainerError>(())
//! ```

use thiserror::Error;

/// What identifies a file format: its magic bytes and the version this build writes
/// and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The first eight bytes of every file of the format.
    pub magic: [u8; 8],
    /// The format version.
    pub version: u32,
}

/// Why bytes are not an intact file of a format. The messages say what is wrong, not
/// which file: callers add the path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContainerError {
    /// The bytes do not start with the format's magic bytes.
    #[error("it does not start with the magic bytes {}", String::from_utf8_lossy(.expected))]
    Magic {
        /// The format's magic bytes.
        expected: [u8; 8],
    },
    /// Too short for the magic bytes, the version and the checksum.
    #[error("it is truncated ({len} bytes)")]
    Truncated {
        /// The file's length.
        len: usize,
    },
    /// Another version of the format.
    #[error("format version {found}; this build reads version {expected}")]
    Version {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The checksum does not match the contents.
    #[error("its checksum does not match: the file is truncated or damaged ({len} bytes)")]
    Checksum {
        /// The file's length.
        len: usize,
    },
    /// A section's length runs past the end of the file.
    #[error("its section {index} is cut short")]
    SectionCutShort {
        /// The section, counted from 0.
        index: usize,
    },
    /// Bytes after the last section the format has.
    #[error("{count} unexpected bytes after the last section")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// The container of `sections` in `format`.
pub fn encode(format: &Format, sections: &[&[u8]]) -> Vec<u8> {
    let payload: usize = sections.iter().map(|s| s.len() + 8).sum();
    let mut bytes = Vec::with_capacity(20 + payload);
    bytes.extend_from_slice(&format.magic);
    bytes.extend_from_slice(&format.version.to_le_bytes());
    for section in sections {
        bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
        bytes.extend_from_slice(section);
    }
    let sum = fnv64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// The `count` sections of `bytes`, after checking the magic bytes, the version, the
/// checksum and that nothing is missing or left over.
///
/// # Errors
/// The first of those checks that fails, in that order (so a file of another format
/// is named as such, and an old version as such, before its checksum is looked at).
pub fn decode<'a>(
    format: &Format,
    bytes: &'a [u8],
    count: usize,
) -> Result<Vec<&'a [u8]>, ContainerError> {
    let head = format.magic.len() + 4;
    if bytes
        .get(..format.magic.len())
        .is_some_and(|magic| magic != format.magic)
    {
        return Err(ContainerError::Magic {
            expected: format.magic,
        });
    }
    if bytes.len() < head + 8 {
        return Err(ContainerError::Truncated { len: bytes.len() });
    }
    let version = u32::from_le_bytes(le_array(&bytes[format.magic.len()..head]));
    if version != format.version {
        return Err(ContainerError::Version {
            found: version,
            expected: format.version,
        });
    }
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    if fnv64(body) != u64::from_le_bytes(le_array(tail)) {
        return Err(ContainerError::Checksum { len: bytes.len() });
    }
    let mut rest = &body[head..];
    let mut sections = Vec::with_capacity(count);
    for index in 0..count {
        let (section, after) =
            take_section(rest).ok_or(ContainerError::SectionCutShort { index })?;
        sections.push(section);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(ContainerError::TrailingBytes { count: rest.len() });
    }
    Ok(sections)
}

fn take_section(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = usize::try_from(u64::from_le_bytes(le_array(bytes.get(..8)?))).ok()?;
    let rest = &bytes[8..];
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The first `N` bytes of `bytes` as an array (callers pass slices of at least `N`).
fn le_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// FNV-1a 64 of `bytes`.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut hash = Fnv64::new();
    hash.update(bytes);
    hash.finish()
}

/// FNV-1a, 64 bits, fed in pieces: the containers' checksum, and a fingerprint of data
/// too large to copy into one slice.
#[derive(Debug, Clone)]
pub struct Fnv64(u64);

impl Fnv64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// The hash of no bytes.
    pub fn new() -> Self {
        Self(Self::OFFSET)
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
        }
    }

    /// The hash of everything fed so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: Format = Format {
        magic: *b"TESTFMT1",
        version: 3,
    };

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        assert_eq!(fnv64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn sections_round_trip_empty_ones_included() {
        let bytes = encode(&FORMAT, &[b"abc", b"", b"\x00\xff"]);
        assert_eq!(bytes.len(), 12 + 3 * 8 + 5 + 8);
        let sections = decode(&FORMAT, &bytes, 3).unwrap();
        assert_eq!(sections, [&b"abc"[..], b"", b"\x00\xff"]);
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let bytes = encode(&FORMAT, &[b"xy"]);
        assert_eq!(&bytes[..8], b"TESTFMT1");
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        assert_eq!(&bytes[12..20], &2u64.to_le_bytes());
        assert_eq!(&bytes[20..22], b"xy");
        assert_eq!(&bytes[22..], &fnv64(&bytes[..22]).to_le_bytes());
    }

    #[test]
    fn every_damage_is_named() {
        let bytes = encode(&FORMAT, &[b"abc", b"defg"]);
        let other = Format {
            magic: *b"OTHERFMT",
            ..FORMAT
        };
        assert!(matches!(
            decode(&other, &bytes, 2),
            Err(ContainerError::Magic { .. })
        ));
        let newer = Format {
            version: 4,
            ..FORMAT
        };
        assert_eq!(
            decode(&newer, &bytes, 2),
            Err(ContainerError::Version {
                found: 3,
                expected: 4
            })
        );
        assert_eq!(
            decode(&FORMAT, &bytes[..15], 2),
            Err(ContainerError::Truncated { len: 15 })
        );
        for cut in [bytes.len() - 1, bytes.len() - 9, 21] {
            assert_eq!(
                decode(&FORMAT, &bytes[..cut], 2),
                Err(ContainerError::Checksum { len: cut })
            );
        }
        let mut flipped = bytes.clone();
        flipped[22] ^= 1;
        assert!(matches!(
            decode(&FORMAT, &flipped, 2),
            Err(ContainerError::Checksum { .. })
        ));
        assert_eq!(
            decode(&FORMAT, &bytes, 3),
            Err(ContainerError::SectionCutShort { index: 2 })
        );
        assert_eq!(
            decode(&FORMAT, &bytes, 1),
            Err(ContainerError::TrailingBytes { count: 12 })
        );
    }

    #[test]
    fn no_input_panics() {
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            let _ = decode(&FORMAT, &bytes, 2);
        }
        // A valid checksum over a section length that overruns the file.
        let mut forged = FORMAT.magic.to_vec();
        forged.extend_from_slice(&FORMAT.version.to_le_bytes());
        forged.extend_from_slice(&u64::MAX.to_le_bytes());
        let sum = fnv64(&forged);
        forged.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(
            decode(&FORMAT, &forged, 1),
            Err(ContainerError::SectionCutShort { index: 0 })
        );
    }
}
