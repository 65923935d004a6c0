//! Finds the first non-finite number in anything serializable, by walking it with a
//! serializer that writes nothing.
//!
//! `results.json` holds hundreds of numbers in nested structs; a hand-written
//! "all finite" check over named fields silently misses every field added later.
//! Walking the serialization instead covers exactly the numbers the file holds.

use serde::ser::{self, Serialize};

/// The path (e.g. `models[2].sets[1].mean_bits_per_dim`) of the first `f32`/`f64` in
/// `value`'s serialization that is NaN or infinite, or `None` when every one is finite.
pub fn first_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut scan = Scan::default();
    match value.serialize(&mut scan) {
        Err(Found(path)) => Some(path),
        Ok(()) => None,
    }
}

/// The walk: the path to the value being visited.
#[derive(Default)]
struct Scan {
    path: Vec<String>,
}

impl Scan {
    fn check(&self, finite: bool) -> Result<(), Found> {
        if finite {
            Ok(())
        } else {
            Err(Found(self.path.concat()))
        }
    }

    /// Visits `value` one segment deeper.
    fn nested<T: Serialize + ?Sized>(&mut self, segment: String, value: &T) -> Result<(), Found> {
        self.path.push(segment);
        let result = value.serialize(&mut *self);
        self.path.pop();
        result
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Found> {
        let segment = if self.path.is_empty() {
            key.to_string()
        } else {
            format!(".{key}")
        };
        self.nested(segment, value)
    }
}

/// The walk stops at the first non-finite number; its path rides on the error.
#[derive(Debug)]
struct Found(String);

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "non-finite number at {}", self.0)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        Found(format!("(serialization failed: {message})"))
    }
}

/// A sequence, tuple or map being walked: the walk and the next element's index.
struct Elements<'a> {
    scan: &'a mut Scan,
    index: usize,
}

impl Elements<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let segment = format!("[{}]", self.index);
        self.index += 1;
        self.scan.nested(segment, value)
    }
}

macro_rules! always_finite {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), Found> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Scan {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Elements<'a>;
    type SerializeTuple = Elements<'a>;
    type SerializeTupleStruct = Elements<'a>;
    type SerializeTupleVariant = Elements<'a>;
    type SerializeMap = Elements<'a>;
    type SerializeStruct = &'a mut Scan;
    type SerializeStructVariant = &'a mut Scan;

    always_finite!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8], serialize_unit_struct: &'static str,
    );

    fn serialize_f32(self, v: f32) -> Result<(), Found> {
        self.check(v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Found> {
        self.check(v.is_finite())
    }
    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        self.field(variant, value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Elements<'a>, Found> {
        Ok(Elements {
            scan: self,
            index: 0,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements<'a>, Found> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Elements<'a>, Found> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Elements<'a>, Found> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Elements<'a>, Found> {
        self.serialize_seq(len)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<&'a mut Scan, Found> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<&'a mut Scan, Found> {
        Ok(self)
    }
}

impl ser::SerializeSeq for Elements<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.element(value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeTuple for Elements<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.element(value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Elements<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.element(value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Elements<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.element(value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

/// Map keys are walked like elements (a non-finite float key is reported too); values
/// take the key's position as their index.
impl ser::SerializeMap for Elements<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        self.scan.nested(format!("{{key {}}}", self.index), key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.element(value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Scan {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Scan {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_non_finite;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Inner {
        value: f64,
        maybe: Option<f32>,
    }

    #[derive(Serialize)]
    enum Shape {
        Point { x: f64 },
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        rows: Vec<Inner>,
        pair: (u32, f64),
        by_name: BTreeMap<String, f64>,
        shape: Shape,
    }

    fn outer() -> Outer {
        Outer {
            name: "run".into(),
            rows: vec![
                Inner {
                    value: 1.0,
                    maybe: None,
                },
                Inner {
                    value: 2.0,
                    maybe: Some(3.0),
                },
            ],
            pair: (1, 0.5),
            by_name: BTreeMap::from([("a".into(), 1.0), ("b".into(), 2.0)]),
            shape: Shape::Point { x: 0.0 },
        }
    }

    #[test]
    fn finite_values_pass() {
        assert_eq!(first_non_finite(&outer()), None);
    }

    #[test]
    fn every_nesting_reports_its_path() {
        let mut o = outer();
        o.rows[1].value = f64::NAN;
        assert_eq!(first_non_finite(&o).as_deref(), Some("rows[1].value"));
        let mut o = outer();
        o.rows[1].maybe = Some(f32::INFINITY);
        assert_eq!(first_non_finite(&o).as_deref(), Some("rows[1].maybe"));
        let mut o = outer();
        o.pair.1 = f64::NEG_INFINITY;
        assert_eq!(first_non_finite(&o).as_deref(), Some("pair[1]"));
        let mut o = outer();
        o.by_name.insert("b".into(), f64::NAN);
        assert_eq!(first_non_finite(&o).as_deref(), Some("by_name[1]"));
        let mut o = outer();
        o.shape = Shape::Point { x: f64::NAN };
        assert_eq!(first_non_finite(&o).as_deref(), Some("shape.x"));
    }
}
