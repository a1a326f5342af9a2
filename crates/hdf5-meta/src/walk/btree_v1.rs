//! Level-by-level traversal of v1 B-trees (group and chunk trees): every node of one level is
//! fetched in one coalesced batch, so a tree costs one round trip per level.

use super::context::{BlockSet, Context};
use super::error::Result;
use crate::format::btree_v1::{self, BTreeKind, BTreeNode};

/// Every leaf (level 0) node of the v1 B-tree rooted at `root`, left to right.
pub async fn leaves(ctx: &Context, root: u64, kind: BTreeKind, k: u16) -> Result<Vec<BTreeNode>> {
    let sizes = ctx.sizes;
    let guess = btree_v1::node_size(sizes, kind, k) as u64;
    let mut seen = BlockSet::default();
    let mut level = vec![root];
    let mut expected_level: Option<u8> = None;
    let mut out = Vec::new();
    while !level.is_empty() {
        ctx.prefetch(level.iter().map(|&a| (a, guess))).await?;
        let mut next = Vec::new();
        let mut this_level = None;
        for a in level {
            let node = ctx
                .parse_at(a, guess, |b| btree_v1::parse_node(b, a, sizes, kind))
                .await?;
            // The bytes a node uses (its allocation, sized by a K we may not know, is larger).
            let n = u64::from(node.entries_used);
            let (o, key) = (u64::from(sizes.offset), kind.key_len(sizes) as u64);
            let used = 8 + 2 * o + (n + 1) * key + n * o;
            if let Err(other) = seen.insert(a, used) {
                return Err(ctx.limit(format!(
                    "v1 B-tree at {root}: node {a} collides with node {other} (cycle or overlap)"
                )));
            }
            // Every node of one batch sits at the same level, one below the previous batch.
            let want = expected_level.or(this_level).unwrap_or(node.level);
            if node.level != want {
                return Err(ctx.limit(format!(
                    "v1 B-tree at {root}: node {a} has level {} where {want} was expected",
                    node.level
                )));
            }
            this_level = Some(node.level);
            if node.level == 0 {
                out.push(node);
            } else {
                next.extend(node.children.iter().copied());
            }
        }
        expected_level = this_level.and_then(|l| l.checked_sub(1));
        level = next;
    }
    Ok(out)
}
