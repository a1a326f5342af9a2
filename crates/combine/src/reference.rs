//! One reference value and URL interning.
//!
//! (kerchunk-refs has an equivalent model; this crate keeps its own small one so that the
//! streaming passes can work on borrowed keys without building a reference set.)

use std::collections::HashSet;
use std::sync::Arc;

/// A target URL shared between references; `None` is JSON `null` (the reader's default target).
pub type Url = Option<Arc<str>>;

/// The value of one reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// The bytes themselves.
    Inline(Arc<[u8]>),
    /// The whole target (`[url]`).
    Whole {
        /// Target URL.
        url: Url,
    },
    /// `length` bytes of the target from `offset` (`[url, offset, length]`).
    Range {
        /// Target URL.
        url: Url,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
}

impl Reference {
    /// An inline value.
    pub fn inline(data: impl Into<Arc<[u8]>>) -> Self {
        Reference::Inline(data.into())
    }

    /// The inline bytes, if inline.
    pub fn as_inline(&self) -> Option<&[u8]> {
        match self {
            Reference::Inline(b) => Some(b),
            _ => None,
        }
    }

    /// The target URL (`Some(None)` for a null URL), or `None` if inline.
    pub fn url(&self) -> Option<&Url> {
        match self {
            Reference::Inline(_) => None,
            Reference::Whole { url } | Reference::Range { url, .. } => Some(url),
        }
    }
}

/// Interns URL strings so that references to the same target share one allocation.
#[derive(Debug, Default)]
pub struct UrlInterner {
    set: HashSet<Arc<str>>,
}

impl UrlInterner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared string equal to `s`.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(Arc::clone(&a));
        a
    }

    /// Number of distinct URLs.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_shares() {
        let mut i = UrlInterner::new();
        let a = i.intern("s3://b/f.nc");
        let b = i.intern("s3://b/f.nc");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        let r = Reference::Range {
            url: Some(a),
            offset: 1,
            length: 2,
        };
        assert!(r.as_inline().is_none());
        assert_eq!(r.url().and_then(|u| u.as_deref()), Some("s3://b/f.nc"));
    }
}
