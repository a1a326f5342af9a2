//! Loading whole object headers: the first chunk plus every continuation block, fetched
//! breadth-first (all continuations known at one point are fetched in one batch), with cycle
//! and size limits.

use std::collections::HashSet;

use super::context::Context;
use super::error::Result;
use crate::format::object_header::{self, Continuation, Message, SPECULATIVE_LEN};

/// Most continuation blocks one header may have.
const MAX_CHUNKS: usize = 4096;

/// All messages of one object header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Base-relative address.
    pub address: u64,
    /// Header version.
    pub version: u8,
    /// Every message, in chunk order.
    pub messages: Vec<Message>,
}

impl Header {
    /// Messages of one type.
    pub fn of_kind(&self, kind: u16) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.kind == kind)
    }

    /// The first message of one type.
    pub fn first(&self, kind: u16) -> Option<&Message> {
        self.of_kind(kind).next()
    }
}

/// Bytes to prefetch for a header at `address` before anything is known about it.
pub fn speculative_range(address: u64) -> (u64, u64) {
    (address, SPECULATIVE_LEN as u64)
}

/// Read and decode the whole object header at `address`.
pub async fn load(ctx: &Context, address: u64) -> Result<Header> {
    let sizes = ctx.sizes;
    let first = ctx
        .parse_at(address, SPECULATIVE_LEN as u64, |b| {
            let len = object_header::first_chunk_len(b, address, sizes)?;
            if (b.len() as u64) < len {
                return Err(crate::FormatError::Incomplete {
                    structure: "object header",
                    offset: address,
                    needed: len,
                });
            }
            object_header::parse_header(b, address, sizes)
        })
        .await?;
    let (version, flags) = (first.version, first.flags);
    let mut messages = first.messages;
    let mut seen: HashSet<u64> = HashSet::from([address]);
    let mut pending: Vec<Continuation> = first.continuations;
    let mut chunks = 1usize;
    while !pending.is_empty() {
        for c in &pending {
            if !seen.insert(c.address) {
                return Err(ctx.limit(format!(
                    "object header at {address}: continuation cycle at {}",
                    c.address
                )));
            }
        }
        chunks += pending.len();
        if chunks > MAX_CHUNKS {
            return Err(ctx.limit(format!(
                "object header at {address}: more than {MAX_CHUNKS} continuation blocks"
            )));
        }
        let file_len = ctx.cache.len();
        for c in &pending {
            if c.length > file_len {
                return Err(ctx.limit(format!(
                    "object header at {address}: continuation length {} exceeds file",
                    c.length
                )));
            }
        }
        ctx.prefetch(pending.iter().map(|c| (c.address, c.length)))
            .await?;
        let mut next = Vec::new();
        for c in pending {
            let chunk = ctx
                .parse_at(c.address, c.length, |b| {
                    object_header::parse_continuation(b, c, sizes, version, flags)
                })
                .await?;
            messages.extend(chunk.messages);
            next.extend(chunk.continuations);
        }
        pending = next;
    }
    Ok(Header {
        address,
        version,
        messages,
    })
}
