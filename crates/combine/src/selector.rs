//! Coordinate selectors: how each input's value(s) along a concat dimension are found
//! (kerchunk's `coo_map` values, kerchunk-behavior.md §3.2).

use regex::Regex;
use serde_json::Value;

/// How to obtain an input's coordinate value(s) for one concat dimension.
#[derive(Debug, Clone)]
pub enum Selector {
    /// `data:VAR`: all values of array `VAR` (a scalar variable gives one value). The
    /// default for a concat dim without a selector is `data:<dim>`.
    Data(String),
    /// `cf:VAR`: values of `VAR` decoded with its CF `units`/`calendar`; written re-encoded
    /// with the first input's units, or as datetime64 when the coordinate dtype is `M8[...]`.
    Cf(String),
    /// `attr:NAME`: root attribute `NAME`.
    Attr(String),
    /// `vattr:VAR:NAME`: attribute `NAME` of array `VAR`.
    VarAttr {
        /// The array.
        var: String,
        /// The attribute.
        attr: String,
    },
    /// A regular expression searched in the input's name: the first capture group, or the
    /// whole match when the pattern has no group.
    Regex(Regex),
    /// One value per input, by input position.
    List(Vec<Value>),
    /// The input's position in the input list (`INDEX`).
    Index,
    /// The same value for every input.
    Constant(Value),
}

impl Selector {
    /// Parses the text form: `data:VAR`, `cf:VAR`, `attr:NAME`, `vattr:VAR:NAME`,
    /// `re:PATTERN`, `list:[JSON values]`, `INDEX`, `const:JSON`; any other text is a
    /// string constant (as in kerchunk).
    pub fn parse(s: &str) -> Result<Selector, String> {
        if let Some(v) = s.strip_prefix("data:") {
            return Ok(Selector::Data(v.to_string()));
        }
        if let Some(v) = s.strip_prefix("cf:") {
            return Ok(Selector::Cf(v.to_string()));
        }
        if let Some(v) = s.strip_prefix("attr:") {
            return Ok(Selector::Attr(v.to_string()));
        }
        if let Some(v) = s.strip_prefix("vattr:") {
            let (var, attr) = v
                .split_once(':')
                .ok_or_else(|| format!("{s:?}: expected vattr:VAR:NAME"))?;
            return Ok(Selector::VarAttr {
                var: var.to_string(),
                attr: attr.to_string(),
            });
        }
        if let Some(p) = s.strip_prefix("re:") {
            return Regex::new(p)
                .map(Selector::Regex)
                .map_err(|e| format!("{s:?}: invalid regular expression: {e}"));
        }
        if let Some(l) = s.strip_prefix("list:") {
            return match serde_json::from_str::<Value>(l) {
                Ok(Value::Array(items)) => Ok(Selector::List(items)),
                _ => Err(format!("{s:?}: expected list:[v0, v1, ...] in JSON")),
            };
        }
        if let Some(c) = s.strip_prefix("const:") {
            return serde_json::from_str::<Value>(c)
                .map(Selector::Constant)
                .map_err(|e| format!("{s:?}: invalid JSON constant: {e}"));
        }
        if s == "INDEX" {
            return Ok(Selector::Index);
        }
        if s == "VARNAME" {
            return Err("VARNAME (merging variables) is not supported".into());
        }
        Ok(Selector::Constant(Value::String(s.to_string())))
    }

    /// The array whose chunks this selector reads, if any.
    pub fn data_var(&self) -> Option<&str> {
        match self {
            Selector::Data(v) | Selector::Cf(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert!(matches!(Selector::parse("data:time"), Ok(Selector::Data(v)) if v == "time"));
        assert!(matches!(Selector::parse("cf:t"), Ok(Selector::Cf(v)) if v == "t"));
        assert!(matches!(Selector::parse("attr:a"), Ok(Selector::Attr(v)) if v == "a"));
        assert!(
            matches!(Selector::parse("vattr:v:a:b"), Ok(Selector::VarAttr { var, attr }) if var == "v" && attr == "a:b")
        );
        assert!(Selector::parse("vattr:v").is_err());
        assert!(matches!(
            Selector::parse(r"re:f(\d)\.json"),
            Ok(Selector::Regex(_))
        ));
        assert!(Selector::parse("re:(").is_err());
        assert!(matches!(Selector::parse("list:[1,2]"), Ok(Selector::List(l)) if l.len() == 2));
        assert!(Selector::parse("list:3").is_err());
        assert!(matches!(Selector::parse("INDEX"), Ok(Selector::Index)));
        assert!(matches!(
            Selector::parse("const:7"),
            Ok(Selector::Constant(Value::Number(_)))
        ));
        assert!(matches!(
            Selector::parse("hello"),
            Ok(Selector::Constant(Value::String(_)))
        ));
        assert!(Selector::parse("VARNAME").is_err());
        assert_eq!(
            Selector::parse("cf:t")
                .ok()
                .and_then(|s| s.data_var().map(str::to_string))
                .as_deref(),
            Some("t")
        );
    }
}
