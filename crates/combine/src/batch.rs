//! A compact buffer of references produced by a worker thread and replayed, in input order,
//! into the real sink by the writing thread.

use std::borrow::Cow;

use crate::error::Result;
use crate::input::RefView;
use crate::output::RefSink;

const NO_URL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Val {
    Inline { end: usize },
    Whole { url: u32 },
    Range { url: u32, offset: u64, length: u64 },
}

/// References of one input, stored without a heap object per reference.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    keys: String,
    data: Vec<u8>,
    urls: Vec<String>,
    entries: Vec<(usize, Val)>,
}

impl Batch {
    fn url_id(&mut self, url: Option<&str>) -> u32 {
        let Some(u) = url else { return NO_URL };
        if let Some(pos) = self.urls.iter().rposition(|x| x == u) {
            return pos as u32;
        }
        self.urls.push(u.to_string());
        (self.urls.len() - 1) as u32
    }

    /// Number of references held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Sends every reference to `sink`, in the order they were added.
    pub fn replay(&self, sink: &mut dyn RefSink) -> Result<()> {
        let (mut kstart, mut dstart) = (0usize, 0usize);
        let url = |id: u32| -> Option<Cow<'_, str>> {
            if id == NO_URL {
                None
            } else {
                self.urls
                    .get(id as usize)
                    .map(|u| Cow::Borrowed(u.as_str()))
            }
        };
        for &(kend, v) in &self.entries {
            let key = self.keys.get(kstart..kend).unwrap_or("");
            kstart = kend;
            let view = match v {
                Val::Inline { end } => {
                    let d = self.data.get(dstart..end).unwrap_or(&[]);
                    dstart = end;
                    RefView::Inline(Cow::Borrowed(d))
                }
                Val::Whole { url: u } => RefView::Whole { url: url(u) },
                Val::Range {
                    url: u,
                    offset,
                    length,
                } => RefView::Range {
                    url: url(u),
                    offset,
                    length,
                },
            };
            sink.put(key, view)?;
        }
        Ok(())
    }
}

impl RefSink for Batch {
    fn put(&mut self, key: &str, value: RefView<'_>) -> Result<()> {
        self.keys.push_str(key);
        let v = match value {
            RefView::Inline(b) => {
                self.data.extend_from_slice(&b);
                Val::Inline {
                    end: self.data.len(),
                }
            }
            RefView::Whole { url } => Val::Whole {
                url: self.url_id(url.as_deref()),
            },
            RefView::Range {
                url,
                offset,
                length,
            } => Val::Range {
                url: self.url_id(url.as_deref()),
                offset,
                length,
            },
        };
        self.entries.push((self.keys.len(), v));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reference::Reference;

    #[test]
    fn replays_in_order() {
        let mut b = Batch::default();
        b.put("a/0", RefView::Inline(Cow::Borrowed(b"xy"))).unwrap();
        b.put(
            "a/1",
            RefView::Range {
                url: Some(Cow::Borrowed("u")),
                offset: 1,
                length: 2,
            },
        )
        .unwrap();
        b.put("a/2", RefView::Whole { url: None }).unwrap();
        b.put(
            "a/3",
            RefView::Range {
                url: Some(Cow::Borrowed("u")),
                offset: 3,
                length: 4,
            },
        )
        .unwrap();
        b.put("a/4", RefView::Inline(Cow::Borrowed(b""))).unwrap();
        assert_eq!(b.len(), 5);
        let mut out: Vec<(String, Reference)> = Vec::new();
        b.replay(&mut out).unwrap();
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a/0", "a/1", "a/2", "a/3", "a/4"]);
        assert_eq!(&out[0].1.as_inline().unwrap()[..], b"xy");
        assert_eq!(
            out[3].1,
            Reference::Range {
                url: Some("u".into()),
                offset: 3,
                length: 4
            }
        );
        assert_eq!(out[2].1, Reference::Whole { url: None });
        assert_eq!(&out[4].1.as_inline().unwrap()[..], b"");
    }
}
