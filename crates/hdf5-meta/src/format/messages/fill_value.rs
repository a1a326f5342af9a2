//! Fill value messages: the old one (type 0x04: size(4) + value) and the new one (type 0x05,
//! versions 1–3), decoded into one [`FillValue`].
//!
//! v1/v2: version, space allocation time, fill write time, "defined" byte, then size(4) and
//! value when defined. v3: version, flags (bits 0–1 allocation time, 2–3 write time,
//! 4 undefined, 5 value present), then size(4) and value when bit 5 is set.
//! "Defined with size 0" (v1/v2) and "neither bit 4 nor 5" (v3) mean the library default
//! fill (all zero bytes); an old message of size 0 (and no message at all) means undefined.

use crate::error::Result;
use crate::format::cursor::{Cursor, Sizes};

const STRUCTURE: &str = "fill value message";
const STRUCTURE_OLD: &str = "old fill value message";

/// When the dataset's storage is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocTime {
    /// 0: library default for the layout (never written in practice).
    Default,
    /// 1: when the dataset is created.
    Early,
    /// 2: when data is first written.
    Late,
    /// 3: chunk by chunk, as written.
    Incremental,
}

/// When the fill value is written into newly allocated storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillTime {
    /// 0: on allocation.
    OnAlloc,
    /// 1: never.
    Never,
    /// 2: on allocation, only if the user set a fill value.
    IfSet,
}

/// What unwritten elements read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillState {
    /// The library default: all zero bytes.
    Default,
    /// Explicitly undefined (reads return whatever is in the file; no Zarr fill value).
    Undefined,
    /// A user-defined value: the raw bytes of one element in the dataset's datatype.
    User(Vec<u8>),
}

/// A decoded fill value message (old or new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillValue {
    /// Message version (1–3); 0 for the old message (type 0x04).
    pub version: u8,
    /// Space allocation time (`None` for the old message).
    pub alloc_time: Option<AllocTime>,
    /// Fill write time (`None` for the old message).
    pub fill_time: Option<FillTime>,
    /// Default, undefined or user value.
    pub state: FillState,
}

impl FillValue {
    /// The user-defined value bytes, if any.
    pub fn user_bytes(&self) -> Option<&[u8]> {
        match &self.state {
            FillState::User(v) => Some(v),
            _ => None,
        }
    }
}

fn alloc_time(code: u8, c: &Cursor<'_>) -> Result<AllocTime> {
    match code {
        0 => Ok(AllocTime::Default),
        1 => Ok(AllocTime::Early),
        2 => Ok(AllocTime::Late),
        3 => Ok(AllocTime::Incremental),
        other => Err(c.invalid(format!("space allocation time {other}"))),
    }
}

fn fill_time(code: u8, c: &Cursor<'_>) -> Result<FillTime> {
    match code {
        0 => Ok(FillTime::OnAlloc),
        1 => Ok(FillTime::Never),
        2 => Ok(FillTime::IfSet),
        other => Err(c.invalid(format!("fill value write time {other}"))),
    }
}

/// Size(4) + value; a zero size means the library default.
fn sized_value(c: &mut Cursor<'_>) -> Result<FillState> {
    let size = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
    if size == 0 {
        return Ok(FillState::Default);
    }
    Ok(FillState::User(c.bytes(size)?.to_vec()))
}

/// Parse a fill value message (type 0x05) starting at `buf[0]` (file address `address`).
pub fn parse(buf: &[u8], address: u64, sizes: Sizes) -> Result<FillValue> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE);
    let version = c.u8()?;
    match version {
        1 | 2 => {
            let alloc = alloc_time(c.u8()?, &c)?;
            let fill = fill_time(c.u8()?, &c)?;
            let defined = c.u8()?;
            let state = if defined != 0 {
                sized_value(&mut c)?
            } else {
                FillState::Undefined
            };
            Ok(FillValue {
                version,
                alloc_time: Some(alloc),
                fill_time: Some(fill),
                state,
            })
        }
        3 => {
            let flags = c.u8()?;
            if flags & 0xc0 != 0 {
                return Err(c.unsupported(format!("fill value flags {flags:#04x}")));
            }
            let alloc = alloc_time(flags & 0x03, &c)?;
            let fill = fill_time((flags >> 2) & 0x03, &c)?;
            let undefined = flags & 0x10 != 0;
            let have_value = flags & 0x20 != 0;
            let state = match (undefined, have_value) {
                (true, true) => return Err(c.invalid("fill value both undefined and defined")),
                (true, false) => FillState::Undefined,
                (false, true) => sized_value(&mut c)?,
                (false, false) => FillState::Default,
            };
            Ok(FillValue {
                version,
                alloc_time: Some(alloc),
                fill_time: Some(fill),
                state,
            })
        }
        v => Err(c.bad_version(v)),
    }
}

/// Parse an old fill value message (type 0x04): size(4) then the value. A zero size means
/// no fill value: the library reports it as undefined (`H5D_FILL_VALUE_UNDEFINED`), as it
/// does for a dataset without any fill value message.
pub fn parse_old(buf: &[u8], address: u64, sizes: Sizes) -> Result<FillValue> {
    let mut c = Cursor::new(buf, address, sizes, STRUCTURE_OLD);
    let state = match sized_value(&mut c)? {
        FillState::Default => FillState::Undefined,
        other => other,
    };
    Ok(FillValue {
        version: 0,
        alloc_time: None,
        fill_time: None,
        state,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::FormatError;

    fn p(buf: &[u8]) -> Result<FillValue> {
        parse(buf, 0, Sizes::DEFAULT)
    }

    #[test]
    fn v1_v2_defined_default_and_undefined() {
        // v1 as written by HDF5 1.6 (official h5stat_err_old_layout.h5): late, if-set, defined, size 0.
        let fv = p(&[1, 2, 2, 1, 0, 0, 0, 0]).unwrap();
        assert_eq!(fv.alloc_time, Some(AllocTime::Late));
        assert_eq!(fv.fill_time, Some(FillTime::IfSet));
        assert_eq!(fv.state, FillState::Default);
        let fv = p(&[2, 3, 1, 1, 4, 0, 0, 0, 0x2a, 0, 0, 0]).unwrap();
        assert_eq!(fv.user_bytes(), Some(&[0x2a, 0, 0, 0][..]));
        assert_eq!(fv.alloc_time, Some(AllocTime::Incremental));
        let fv = p(&[2, 1, 0, 0]).unwrap();
        assert_eq!(fv.state, FillState::Undefined);
        assert_eq!(fv.alloc_time, Some(AllocTime::Early));
        assert!(matches!(
            p(&[2, 1, 0, 1, 4, 0, 0, 0, 1]),
            Err(FormatError::Incomplete { .. })
        ));
        assert!(matches!(p(&[2, 4, 0, 0]), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn v3_flags() {
        // Official fill18.h5: flags 0x29 = bits 0-1 → 1 (early), bits 2-3 → 2 (if set), bit 5 (value).
        let fv = p(&[3, 0x29, 4, 0, 0, 0, 99, 0, 0, 0]).unwrap();
        assert_eq!(fv.alloc_time, Some(AllocTime::Early));
        assert_eq!(fv.fill_time, Some(FillTime::IfSet));
        assert_eq!(fv.user_bytes(), Some(&[99, 0, 0, 0][..]));
        assert_eq!(p(&[3, 0x0a]).unwrap().state, FillState::Default);
        assert_eq!(p(&[3, 0x12]).unwrap().state, FillState::Undefined);
        assert!(matches!(p(&[3, 0x30]), Err(FormatError::Invalid { .. })));
        assert!(matches!(
            p(&[3, 0x40]),
            Err(FormatError::Unsupported { .. })
        ));
        assert!(matches!(
            p(&[4, 0]),
            Err(FormatError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn old_message() {
        let fv = parse_old(&[2, 0, 0, 0, 0xff, 0x7f], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(fv.version, 0);
        assert_eq!(fv.user_bytes(), Some(&[0xff, 0x7f][..]));
        // Size 0: no value; HDF5 reports the fill value as undefined.
        let fv = parse_old(&[0, 0, 0, 0], 0, Sizes::DEFAULT).unwrap();
        assert_eq!(fv.state, FillState::Undefined);
        assert!(matches!(
            parse_old(&[0xff, 0xff, 0xff, 0xff], 0, Sizes::DEFAULT),
            Err(FormatError::Incomplete { .. })
        ));
    }
}
