//! One reference: the bytes behind a key, either inline or a (range of a) target file.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;

/// A target URL shared between references. `None` is JSON `null`: "the reader's default
/// target" (fsspec's `target=` argument), as produced by `SingleHdf5ToZarr(fileobj, url=None)`.
pub type Url = Option<Arc<str>>;

/// The value of one reference: where the bytes of a key come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefValue {
    /// The bytes themselves (metadata JSON text, or a small chunk).
    Inline(Bytes),
    /// The whole target file (`[url]`).
    Whole {
        /// The target.
        url: Url,
    },
    /// `length` bytes of the target starting at `offset` (`[url, offset, length]`).
    Range {
        /// The target.
        url: Url,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
}

impl RefValue {
    /// An inline value.
    pub fn inline(data: impl Into<Bytes>) -> Self {
        RefValue::Inline(data.into())
    }

    /// A byte-range reference.
    pub fn range(url: Url, offset: u64, length: u64) -> Self {
        RefValue::Range {
            url,
            offset,
            length,
        }
    }

    /// The target URL, or `None` for inline data. (`Some(None)` is a null URL.)
    pub fn url(&self) -> Option<&Url> {
        match self {
            RefValue::Inline(_) => None,
            RefValue::Whole { url } | RefValue::Range { url, .. } => Some(url),
        }
    }

    /// The inline bytes, if this is inline data.
    pub fn as_inline(&self) -> Option<&Bytes> {
        match self {
            RefValue::Inline(b) => Some(b),
            _ => None,
        }
    }

    /// One past the last byte of a range (`offset + length`), or `None` if it is not a range
    /// or the sum overflows `u64`.
    pub fn range_end(&self) -> Option<u64> {
        match self {
            RefValue::Range { offset, length, .. } => offset.checked_add(*length),
            _ => None,
        }
    }
}

/// Interns URL strings so that many references to the same target share one allocation.
#[derive(Debug, Default, Clone)]
pub struct UrlInterner {
    set: HashSet<Arc<str>>,
}

impl UrlInterner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared string equal to `s`, allocating it on first use.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(existing) = self.set.get(s) {
            return Arc::clone(existing);
        }
        let arc: Arc<str> = Arc::from(s);
        self.set.insert(Arc::clone(&arc));
        arc
    }

    /// Interns an optional URL (`None` stays `None`, the null URL).
    pub fn intern_url(&mut self, s: Option<&str>) -> Url {
        s.map(|s| self.intern(s))
    }

    /// Number of distinct URLs interned.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether no URL has been interned.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_shares_allocations() {
        let mut i = UrlInterner::new();
        let a = i.intern("s3://bucket/file.nc");
        let b = i.intern(&String::from("s3://bucket/file.nc"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        assert_eq!(i.intern_url(None), None);
        let c = i.intern_url(Some("other"));
        assert_eq!(c.as_deref(), Some("other"));
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn range_end_is_checked() {
        assert_eq!(RefValue::range(None, 10, 5).range_end(), Some(15));
        assert_eq!(RefValue::range(None, u64::MAX, 1).range_end(), None);
        assert_eq!(RefValue::inline(&b"x"[..]).range_end(), None);
        assert_eq!(RefValue::Whole { url: None }.url(), Some(&None));
    }
}
