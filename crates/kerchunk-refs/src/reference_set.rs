//! An ordered set of references: key → [`RefValue`], in insertion order.

use bytes::Bytes;
use indexmap::IndexMap;

use crate::chunk_key::join_key;
use crate::error::{RefsError, Result};
use crate::reference::RefValue;
use crate::zarr::{attrs_to_json, parse_attrs, Attributes, ZArray, ZGROUP_JSON};

/// Leaf name of group metadata.
pub const ZGROUP: &str = ".zgroup";
/// Leaf name of attributes.
pub const ZATTRS: &str = ".zattrs";
/// Leaf name of array metadata.
pub const ZARRAY: &str = ".zarray";

/// Whether `key` names a zarr v2 metadata document (`.zgroup`, `.zattrs`, `.zarray`,
/// `.zmetadata`), at the root or under a path.
pub fn is_metadata_key(key: &str) -> bool {
    let leaf = key.rsplit_once('/').map_or(key, |(_, leaf)| leaf);
    matches!(leaf, ZGROUP | ZATTRS | ZARRAY | ".zmetadata")
}

/// Reference key → value map preserving insertion order (re-inserting an existing key keeps
/// its position; removing shifts later keys up). Equality (`==`) compares keys and values and
/// ignores order, since order carries no meaning in a reference set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceSet {
    map: IndexMap<String, RefValue>,
}

impl ReferenceSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set with room for `n` references.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            map: IndexMap::with_capacity(n),
        }
    }

    /// Number of references.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&RefValue> {
        self.map.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Inserts or replaces `key`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: RefValue) -> Option<RefValue> {
        self.map.insert(key.into(), value)
    }

    /// Removes `key`, preserving the order of the other keys.
    pub fn remove(&mut self, key: &str) -> Option<RefValue> {
        self.map.shift_remove(key)
    }

    /// Keeps only the references for which `f` returns true (order preserved).
    pub fn retain(&mut self, mut f: impl FnMut(&str, &RefValue) -> bool) {
        self.map.retain(|k, v| f(k, v));
    }

    /// References in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &RefValue)> + '_ {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.map.keys().map(String::as_str)
    }

    /// Inserts inline JSON text (how metadata documents are stored).
    pub fn insert_json_text(&mut self, key: impl Into<String>, text: impl Into<String>) {
        let text: String = text.into();
        self.map
            .insert(key.into(), RefValue::Inline(Bytes::from(text)));
    }

    /// Sets `<path>/.zgroup` to `{"zarr_format":2}` (`path == ""` is the root).
    pub fn set_zgroup(&mut self, path: &str) {
        self.insert_json_text(join_key(path, ZGROUP), ZGROUP_JSON);
    }

    /// Sets `<path>/.zattrs` to the compact JSON text of `attrs`.
    pub fn set_zattrs(&mut self, path: &str, attrs: &Attributes) {
        self.insert_json_text(join_key(path, ZATTRS), attrs_to_json(attrs));
    }

    /// Sets `<path>/.zarray` to the compact JSON text of `zarray`.
    pub fn set_zarray(&mut self, path: &str, zarray: &ZArray) -> Result<()> {
        self.insert_json_text(join_key(path, ZARRAY), zarray.to_json()?);
        Ok(())
    }

    fn inline_metadata(&self, key: &str) -> Result<Option<&Bytes>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(RefValue::Inline(b)) => Ok(Some(b)),
            Some(_) => Err(RefsError::Zarr {
                what: key.to_string(),
                reason: "metadata is a file reference, not inline JSON".to_string(),
            }),
        }
    }

    /// Parses `<path>/.zarray`, if present.
    pub fn zarray(&self, path: &str) -> Result<Option<ZArray>> {
        let key = join_key(path, ZARRAY);
        match self.inline_metadata(&key)? {
            None => Ok(None),
            Some(b) => ZArray::from_json(b).map(Some).map_err(|e| RefsError::Zarr {
                what: key,
                reason: e.to_string(),
            }),
        }
    }

    /// Parses `<path>/.zattrs` (leniently, see [`parse_attrs`]), if present.
    pub fn zattrs(&self, path: &str) -> Result<Option<Attributes>> {
        let key = join_key(path, ZATTRS);
        match self.inline_metadata(&key)? {
            None => Ok(None),
            Some(b) => parse_attrs(b).map(Some).map_err(|e| RefsError::Zarr {
                what: key,
                reason: e.to_string(),
            }),
        }
    }

    /// Paths of every array (keys ending in `/.zarray`; `""` for a root array), in order.
    pub fn array_paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys().filter_map(|k| {
            if k == ZARRAY {
                Some("")
            } else {
                k.strip_suffix(ZARRAY).and_then(|p| p.strip_suffix('/'))
            }
        })
    }

    /// Metadata keys (see [`is_metadata_key`]) in order.
    pub fn metadata_keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys().filter(|k| is_metadata_key(k))
    }
}

impl FromIterator<(String, RefValue)> for ReferenceSet {
    fn from_iter<I: IntoIterator<Item = (String, RefValue)>>(iter: I) -> Self {
        Self {
            map: iter.into_iter().collect(),
        }
    }
}

impl Extend<(String, RefValue)> for ReferenceSet {
    fn extend<I: IntoIterator<Item = (String, RefValue)>>(&mut self, iter: I) {
        self.map.extend(iter);
    }
}

impl IntoIterator for ReferenceSet {
    type Item = (String, RefValue);
    type IntoIter = indexmap::map::IntoIter<String, RefValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zarr::DType;

    #[test]
    fn order_is_insertion_order() {
        let mut s = ReferenceSet::new();
        s.insert("b/0", RefValue::range(None, 1, 2));
        s.insert("a/0", RefValue::inline(&b"x"[..]));
        s.insert("c/0", RefValue::Whole { url: None });
        assert_eq!(s.keys().collect::<Vec<_>>(), ["b/0", "a/0", "c/0"]);
        // Replacing keeps the position; removing shifts.
        s.insert("b/0", RefValue::inline(&b"y"[..]));
        assert_eq!(s.keys().collect::<Vec<_>>(), ["b/0", "a/0", "c/0"]);
        assert!(s.remove("a/0").is_some());
        assert_eq!(s.keys().collect::<Vec<_>>(), ["b/0", "c/0"]);
        s.retain(|k, _| k != "b/0");
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn metadata_helpers() {
        let mut s = ReferenceSet::new();
        s.set_zgroup("");
        let mut attrs = Attributes::new();
        attrs.insert("title".into(), "t".into());
        s.set_zattrs("", &attrs);
        let z = ZArray::new(vec![2], vec![2], DType::simple("<i4"));
        s.set_zarray("grp/v", &z).unwrap();
        s.insert("grp/v/0", RefValue::range(None, 0, 8));
        s.set_zarray("", &z).unwrap();
        assert_eq!(
            s.get(".zgroup").unwrap().as_inline().unwrap().as_ref(),
            br#"{"zarr_format":2}"#
        );
        assert_eq!(s.zarray("grp/v").unwrap().unwrap(), z);
        assert_eq!(s.zarray("nope").unwrap(), None);
        assert_eq!(s.zattrs("").unwrap().unwrap(), attrs);
        assert_eq!(s.array_paths().collect::<Vec<_>>(), ["grp/v", ""]);
        assert_eq!(
            s.metadata_keys().collect::<Vec<_>>(),
            [".zgroup", ".zattrs", "grp/v/.zarray", ".zarray"]
        );
        s.insert("x/.zarray", RefValue::range(None, 0, 1));
        assert!(s.zarray("x").is_err());
        assert!(is_metadata_key("a/b/.zmetadata"));
        assert!(!is_metadata_key("a/.zarray/0"));
    }
}
