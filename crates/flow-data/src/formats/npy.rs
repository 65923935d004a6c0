//! NumPy `.npy` files of `u8`, `i32`, `i64`, `f32` or `f64` in C order, e.g. embeddings
//! (N x D) and their integer labels (N).
//!
//! Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length
//! (little-endian `u16` in version 1, `u32` in versions 2 and 3), a header that is a Python
//! dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }`, then
//! the raw values. The header is parsed here by a small literal parser.

use std::path::Path;

use crate::error::{DataError, FormatError, Result};
use crate::fsutil::write_atomic;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The values of an array, by element type.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// Unsigned bytes (`|u1`).
    U8(Vec<u8>),
    /// 32-bit floats (`<f4` or `>f4`).
    F32(Vec<f32>),
    /// 64-bit floats (`<f8` or `>f8`).
    F64(Vec<f64>),
    /// 32-bit signed integers (`<i4` or `>i4`), e.g. labels.
    I32(Vec<i32>),
    /// 64-bit signed integers (`<i8` or `>i8`), NumPy's default integer type.
    I64(Vec<i64>),
}

impl NpyData {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            NpyData::U8(v) => v.len(),
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::I64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f64` (exact for every type but `i64` beyond 2^53 in magnitude,
    /// which is rounded).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            NpyData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::F64(v) => v.clone(),
            NpyData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// The values as `f32` (`f64` values, and integers beyond 2^24 in magnitude, are
    /// rounded).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            NpyData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::F32(v) => v.clone(),
            NpyData::F64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    fn descr(&self) -> &'static str {
        match self {
            NpyData::U8(_) => "|u1",
            NpyData::F32(_) => "<f4",
            NpyData::F64(_) => "<f8",
            NpyData::I32(_) => "<i4",
            NpyData::I64(_) => "<i8",
        }
    }
}

/// An n-dimensional array from a `.npy` file, in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Sizes of the dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values.
    pub data: NpyData,
}

impl NpyArray {
    /// An array, checking that `shape` matches the number of values.
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self> {
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count != Some(data.len()) {
            return Err(DataError::InvalidDataset(format!(
                "shape {shape:?} does not match {} values",
                data.len()
            )));
        }
        Ok(Self { shape, data })
    }

    /// The shape as (rows, columns) for a 2-d array, e.g. N embeddings of D values.
    pub fn as_matrix_shape(&self) -> Option<(usize, usize)> {
        match self.shape.as_slice() {
            &[rows, cols] => Some((rows, cols)),
            _ => None,
        }
    }
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let bytes = super::read_limited(path)?;
    parse_npy(&bytes, path)
}

/// Parses the bytes of a `.npy` file; `path` only names the source in errors.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let fail = |kind| DataError::format(path, kind);
    let truncated = |expected: usize| {
        fail(FormatError::Truncated {
            expected: expected as u64,
            found: bytes.len() as u64,
        })
    };
    if bytes.len() < 8 {
        let prefix = &bytes[..bytes.len().min(MAGIC.len())];
        return Err(if MAGIC.starts_with(prefix) {
            truncated(8)
        } else {
            bad_magic(bytes, path)
        });
    }
    if &bytes[..6] != MAGIC {
        return Err(bad_magic(bytes, path));
    }
    let major = bytes[6];
    let (len_bytes, header_start) = match major {
        1 => (2, 10),
        2 | 3 => (4, 12),
        v => {
            return Err(fail(FormatError::InvalidHeader(format!(
                "unknown .npy version {v}.{}",
                bytes[7]
            ))))
        }
    };
    let len_field = bytes
        .get(8..8 + len_bytes)
        .ok_or_else(|| truncated(header_start))?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let header_end = header_start
        .checked_add(header_len)
        .ok_or_else(|| fail(FormatError::InvalidHeader("header length overflows".into())))?;
    let header_bytes = bytes
        .get(header_start..header_end)
        .ok_or_else(|| truncated(header_end))?;
    // Version 3 headers are UTF-8; versions 1 and 2 latin-1, whose ASCII part is all a
    // valid header uses.
    let header = std::str::from_utf8(header_bytes)
        .map_err(|_| fail(FormatError::InvalidHeader("header is not text".into())))?;
    let header = parse_header(header).map_err(|msg| fail(FormatError::InvalidHeader(msg)))?;
    if header.fortran_order {
        return Err(fail(FormatError::UnsupportedDtype(
            "Fortran-order arrays; save with np.ascontiguousarray first".into(),
        )));
    }
    let element = Element::from_descr(&header.descr).ok_or_else(|| {
        fail(FormatError::UnsupportedDtype(format!(
            "'{}'; only u1, i4, i8, f4 and f8 are read",
            header.descr
        )))
    })?;
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .and_then(|n| n.checked_mul(element.size()))
        .ok_or_else(|| {
            fail(FormatError::InvalidHeader(format!(
                "shape {:?} is too large",
                header.shape
            )))
        })?;
    super::check_load_size(count as u64, path)?;
    let payload = &bytes[header_end..];
    if payload.len() < count {
        return Err(truncated(header_end + count));
    }
    if payload.len() > count {
        return Err(fail(FormatError::TrailingBytes {
            declared: (header_end + count) as u64,
        }));
    }
    let data = element.decode(payload);
    NpyArray::new(header.shape, data)
}

fn bad_magic(bytes: &[u8], path: &Path) -> DataError {
    let found: Vec<String> = bytes.iter().take(6).map(|b| format!("{b:02x}")).collect();
    DataError::format(
        path,
        FormatError::BadMagic {
            expected: "93 4e 55 4d 50 59 (\\x93NUMPY)".into(),
            found: found.join(" "),
        },
    )
}

/// Element types read, with their byte order.
#[derive(Clone, Copy)]
enum Element {
    U8,
    F32 { little: bool },
    F64 { little: bool },
    I32 { little: bool },
    I64 { little: bool },
}

impl Element {
    fn from_descr(descr: &str) -> Option<Self> {
        let (order, code) = match descr.chars().next()? {
            c @ ('<' | '>' | '|' | '=') => (c, &descr[1..]),
            _ => ('=', descr),
        };
        let little = match order {
            '<' => true,
            '>' => false,
            _ => cfg!(target_endian = "little"),
        };
        match code {
            "u1" | "B" => Some(Element::U8),
            "f4" => Some(Element::F32 { little }),
            "f8" => Some(Element::F64 { little }),
            "i4" => Some(Element::I32 { little }),
            "i8" => Some(Element::I64 { little }),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            Element::U8 => 1,
            Element::F32 { .. } | Element::I32 { .. } => 4,
            Element::F64 { .. } | Element::I64 { .. } => 8,
        }
    }

    fn decode(self, bytes: &[u8]) -> NpyData {
        match self {
            Element::U8 => NpyData::U8(bytes.to_vec()),
            Element::F32 { little } => NpyData::F32(decode_numbers(
                bytes,
                little,
                f32::from_le_bytes,
                f32::from_be_bytes,
            )),
            Element::F64 { little } => NpyData::F64(decode_numbers(
                bytes,
                little,
                f64::from_le_bytes,
                f64::from_be_bytes,
            )),
            Element::I32 { little } => NpyData::I32(decode_numbers(
                bytes,
                little,
                i32::from_le_bytes,
                i32::from_be_bytes,
            )),
            Element::I64 { little } => NpyData::I64(decode_numbers(
                bytes,
                little,
                i64::from_le_bytes,
                i64::from_be_bytes,
            )),
        }
    }
}

/// `bytes` read as consecutive `N`-byte numbers, little- or big-endian (a trailing
/// partial number is dropped; the caller has checked the length).
fn decode_numbers<const N: usize, T>(
    bytes: &[u8],
    little: bool,
    from_le: fn([u8; N]) -> T,
    from_be: fn([u8; N]) -> T,
) -> Vec<T> {
    let from = if little { from_le } else { from_be };
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut b = [0u8; N];
            b.copy_from_slice(c);
            from(b)
        })
        .collect()
}

/// The three keys every `.npy` header holds.
#[derive(Debug, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A value in the header dict.
#[derive(Debug, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let mut p = LiteralParser {
        rest: text.trim_end(),
    };
    p.expect('{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.skip_space();
        if p.eat('}') {
            break;
        }
        let key = p.string()?;
        p.expect(':')?;
        let value = p.literal()?;
        match (key.as_str(), value) {
            ("descr", Literal::Str(s)) => descr = Some(s),
            ("fortran_order", Literal::Bool(b)) => fortran = Some(b),
            ("shape", Literal::Tuple(t)) => shape = Some(t),
            (k @ ("descr" | "fortran_order" | "shape"), v) => {
                return Err(format!("'{k}' has an unexpected value {v:?}"))
            }
            // Unknown keys are ignored, as NumPy's reader would reject them anyway.
            _ => {}
        }
        p.skip_space();
        if !p.eat(',') {
            p.expect('}')?;
            break;
        }
    }
    Ok(Header {
        descr: descr.ok_or("missing 'descr'")?,
        fortran_order: fortran.ok_or("missing 'fortran_order'")?,
        shape: shape.ok_or("missing 'shape'")?,
    })
}

/// Just enough of Python's literal syntax for `.npy` headers.
struct LiteralParser<'a> {
    rest: &'a str,
}

impl LiteralParser<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(c) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{c}' at '{}'", self.preview()))
        }
    }

    fn preview(&self) -> String {
        self.rest.chars().take(20).collect()
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_space();
        let quote = match self.rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(format!("expected a string at '{}'", self.preview())),
        };
        let body = &self.rest[1..];
        let end = body
            .find(quote)
            .ok_or_else(|| "unterminated string".to_string())?;
        self.rest = &body[end + 1..];
        Ok(body[..end].to_string())
    }

    fn literal(&mut self) -> std::result::Result<Literal, String> {
        self.skip_space();
        if self.rest.starts_with(['\'', '"']) {
            return self.string().map(Literal::Str);
        }
        for (word, value) in [("True", true), ("False", false)] {
            if let Some(r) = self.rest.strip_prefix(word) {
                self.rest = r;
                return Ok(Literal::Bool(value));
            }
        }
        self.expect('(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(')') {
                return Ok(Literal::Tuple(dims));
            }
            dims.push(self.integer()?);
            if !self.eat(',') {
                self.expect(')')?;
                return Ok(Literal::Tuple(dims));
            }
        }
    }

    fn integer(&mut self) -> std::result::Result<usize, String> {
        self.skip_space();
        // Python 2 era files may write long integers as `3L`.
        let digits = self.rest.len()
            - self
                .rest
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits == 0 {
            return Err(format!("expected a dimension at '{}'", self.preview()));
        }
        let value = self.rest[..digits]
            .parse()
            .map_err(|_| format!("dimension '{}' is too large", &self.rest[..digits]))?;
        self.rest = self.rest[digits..]
            .strip_prefix('L')
            .unwrap_or(&self.rest[digits..]);
        Ok(value)
    }
}

/// Encodes an array as a version 1.0 `.npy` file (little-endian, C order).
pub fn encode_npy(array: &NpyArray) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        array.data.descr()
    );
    // NumPy pads the header with spaces and a newline so the data starts 64-byte aligned.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + array.data.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // Headers built here are far below 64 KiB: the shape has few dimensions.
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match &array.data {
        NpyData::U8(v) => out.extend_from_slice(v),
        NpyData::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        NpyData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        NpyData::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        NpyData::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

/// Writes an array as a `.npy` file, atomically.
pub fn write_npy(path: &Path, array: &NpyArray) -> Result<()> {
    if array.shape.len() > 32 {
        return Err(DataError::InvalidDataset(
            ".npy arrays have at most 32 dimensions".into(),
        ));
    }
    let bytes = encode_npy(array);
    write_atomic(path, |w| std::io::Write::write_all(w, &bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fuzz_support::parsed_if_body_fits;
    use proptest::prelude::*;

    /// A header byte-for-byte as NumPy 1.x/2.x writes it for `np.save(f, np.zeros((2, 3),
    /// dtype='<f4'))`, followed by six little-endian f32 values.
    fn numpy_written_f32() -> Vec<u8> {
        let mut header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".to_vec();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend(header);
        for x in [0.5f32, -1.0, 2.25, 3.0, 1e-3, f32::MAX] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_a_numpy_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emb.npy");
        std::fs::write(&path, numpy_written_f32()).unwrap();
        let a = read_npy(&path).unwrap();
        assert_eq!(a.as_matrix_shape(), Some((2, 3)));
        assert_eq!(
            a.data,
            NpyData::F32(vec![0.5, -1.0, 2.25, 3.0, 1e-3, f32::MAX])
        );
        assert_eq!(encode_npy(&a), numpy_written_f32());
    }

    #[test]
    fn reads_version_2_big_endian_f8_and_u1_headers() {
        let header = "{\"descr\": \">f8\", \"fortran_order\": False, \"shape\": (2L,)}\n";
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&1.5f64.to_be_bytes());
        bytes.extend_from_slice(&(-2.0f64).to_be_bytes());
        let a = parse_npy(&bytes, Path::new("v2.npy")).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, NpyData::F64(vec![1.5, -2.0]));

        let u8s = NpyArray::new(vec![], NpyData::U8(vec![42])).unwrap();
        let parsed = parse_npy(&encode_npy(&u8s), Path::new("s.npy")).unwrap();
        assert_eq!(parsed, u8s);
    }

    #[test]
    fn errors_name_the_file_and_the_fault() {
        let p = Path::new("emb.npy");
        let msg = |b: &[u8]| parse_npy(b, p).unwrap_err().to_string();
        assert!(msg(b"PK\x03\x04 not numpy").contains("emb.npy: bad magic number"));
        assert!(msg(b"\x93NUMPY\x01").contains("truncated: expected 8 bytes, found 7"));
        assert!(msg(b"\x93NU").contains("truncated"));
        let good = numpy_written_f32();
        assert!(msg(&good[..good.len() - 1]).contains("truncated"));
        let mut long = good.clone();
        long.push(0);
        assert!(msg(&long).contains("unexpected bytes"));
        let with = |descr: &str, fortran: &str| {
            let header =
                format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': (1,), }}\n");
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
            b.extend_from_slice(header.as_bytes());
            b.extend_from_slice(&[0; 8]);
            b
        };
        assert!(msg(&with("<c16", "False")).contains("unsupported data type: '<c16'"));
        assert!(msg(&with("<f8", "True")).contains("Fortran"));
        assert!(parse_npy(&with("<f8", "False"), p).is_ok());
        assert!(msg(&with("<f8", "Maybe")).contains("invalid header"));
    }

    /// Labels as `np.save(f, np.array([3, 0, 9]))` writes them (int64, version 1.0), and a
    /// big-endian int32 array.
    #[test]
    fn reads_and_writes_integer_labels() {
        let mut header = b"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }".to_vec();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend(header);
        for x in [3i64, 0, 9] {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        let a = parse_npy(&bytes, Path::new("labels.npy")).unwrap();
        assert_eq!(a.shape, vec![3]);
        assert_eq!(a.data, NpyData::I64(vec![3, 0, 9]));
        assert_eq!(a.data.to_f64(), vec![3.0, 0.0, 9.0]);
        assert_eq!(encode_npy(&a), bytes);

        let header = "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&(-7i32).to_be_bytes());
        bytes.extend_from_slice(&65_536i32.to_be_bytes());
        let b = parse_npy(&bytes, Path::new("be.npy")).unwrap();
        assert_eq!(b.data, NpyData::I32(vec![-7, 65_536]));
        assert_eq!(b.data.to_f32(), vec![-7.0, 65_536.0]);
    }

    #[test]
    fn writes_files_numpy_can_align() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.npy");
        let a = NpyArray::new(vec![3, 1], NpyData::F64(vec![1.0, 2.0, 3.0])).unwrap();
        write_npy(&path, &a).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Data starts 64-byte aligned after a newline-terminated header.
        assert_eq!((bytes.len() - 24) % 64, 0);
        assert_eq!(bytes[bytes.len() - 25], b'\n');
        assert_eq!(read_npy(&path).unwrap(), a);
        assert!(NpyArray::new(vec![2, 2], NpyData::U8(vec![0; 3])).is_err());
    }

    fn any_array() -> impl Strategy<Value = NpyArray> {
        let shape = proptest::collection::vec(0usize..4, 0..4);
        (shape, 0u8..5, any::<u64>()).prop_map(|(shape, kind, seed)| {
            let n: usize = shape.iter().product();
            let v = |i: usize| (seed.wrapping_mul(i as u64 + 1) % 1000) as f64 / 7.0 - 50.0;
            let w = |i: usize| seed.wrapping_mul(i as u64 + 1).rotate_left(17) as i64;
            let data = match kind {
                0 => NpyData::U8((0..n).map(|i| v(i) as u8).collect()),
                1 => NpyData::F32((0..n).map(|i| v(i) as f32).collect()),
                2 => NpyData::I32((0..n).map(|i| w(i) as i32).collect()),
                3 => NpyData::I64((0..n).map(w).collect()),
                _ => NpyData::F64((0..n).map(v).collect()),
            };
            NpyArray { shape, data }
        })
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_npy(&bytes, Path::new("random"));
        }

        #[test]
        fn random_headers_never_panic(header in "[ -~]{0,80}", major in 1u8..4) {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[major, 0]);
            if major == 1 {
                b.extend_from_slice(&(header.len() as u16).to_le_bytes());
            } else {
                b.extend_from_slice(&(header.len() as u32).to_le_bytes());
            }
            b.extend_from_slice(header.as_bytes());
            let _ = parse_npy(&b, Path::new("random"));
        }

        #[test]
        fn round_trips_and_every_truncation_is_an_error(a in any_array(), cut in 1usize..50) {
            let bytes = encode_npy(&a);
            prop_assert_eq!(&parse_npy(&bytes, Path::new("f")).unwrap(), &a);
            let cut = cut.min(bytes.len());
            // An empty array loses only header bytes; those cuts must fail too.
            prop_assert!(parse_npy(&bytes[..bytes.len() - cut], Path::new("f")).is_err());
        }

        #[test]
        fn well_formed_headers_with_bodies_of_any_length(
            a in any_array(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            // a's header, then random bytes in place of its values: every bit pattern is
            // a value of every element type, so only the length decides.
            let whole = encode_npy(&a);
            let declared = a.data.len() * element_size(&a.data);
            let mut bytes = whole[..whole.len() - declared].to_vec();
            bytes.extend_from_slice(&body);
            let parsed = parse_npy(&bytes, Path::new("f"));
            if let Some(parsed) = parsed_if_body_fits(parsed, body.len(), declared)? {
                prop_assert_eq!(&parsed.shape, &a.shape);
                prop_assert_eq!(parsed.data.len(), a.data.len());
            }
        }
    }

    /// Bytes per value of `data`'s element type.
    fn element_size(data: &NpyData) -> usize {
        match data {
            NpyData::U8(_) => 1,
            NpyData::F32(_) | NpyData::I32(_) => 4,
            NpyData::F64(_) | NpyData::I64(_) => 8,
        }
    }

    #[test]
    fn a_header_declaring_more_than_the_load_limit_is_refused() {
        // 2^20 x 2^20 float32 = 4 TiB declared, over an empty body.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }";
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        let err = parse_npy(&bytes, Path::new("huge.npy")).unwrap_err();
        assert!(
            matches!(&err, DataError::Format { kind: FormatError::TooLarge { bytes, .. }, .. } if *bytes == 1 << 42),
            "{err}"
        );
    }
}
