//! Plain `{{name}}` substitution for reference-file `templates` and `gen` strings.
//!
//! fsspec renders `templates` with Python string formatting (its default `simple_templates`)
//! and `gen` strings with jinja2. This module implements only what both have in common:
//! `{{name}}` (whitespace inside the braces allowed) replaced by a variable's value. Jinja
//! expressions (`{{ i * 10 }}`, filters, calls such as `{{f(c='x')}}`), `{% %}` blocks and
//! `{# #}` comments, and template values that are themselves jinja templates, are rejected with
//! [`RefsError::UnsupportedTemplate`] rather than silently mis-rendered.

use crate::error::{RefsError, Result};

/// Whether `s` contains a `{{` placeholder.
pub fn has_placeholder(s: &str) -> bool {
    s.contains("{{")
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces every `{{name}}` in `s` by `lookup(name)`. `context` names the string's origin in
/// errors. With `jinja`, `{%` and `{#` are rejected too (they are jinja syntax in `gen`).
pub fn render<'v>(
    s: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
    context: &str,
    jinja: bool,
) -> Result<String> {
    let unsupported = |expr: &str| RefsError::UnsupportedTemplate {
        context: context.to_string(),
        expr: expr.chars().take(80).collect(),
    };
    if jinja {
        if let Some(pos) = s.find("{%").or_else(|| s.find("{#")) {
            return Err(unsupported(s.get(pos..).unwrap_or(s)));
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let (before, from_open) = rest.split_at_checked(start).unwrap_or((rest, ""));
        out.push_str(before);
        let after_open = from_open.get(2..).unwrap_or_default();
        let Some(end) = after_open.find("}}") else {
            return Err(unsupported(from_open));
        };
        let (expr, from_close) = after_open.split_at_checked(end).unwrap_or((after_open, ""));
        let name = expr.trim();
        if !is_identifier(name) {
            return Err(unsupported(&format!("{{{{{expr}}}}}")));
        }
        let value = lookup(name).ok_or_else(|| RefsError::UnknownTemplate {
            context: context.to_string(),
            name: name.to_string(),
        })?;
        if has_placeholder(value) {
            // fsspec turns such a template into a jinja macro; not supported here.
            return Err(unsupported(value));
        }
        out.push_str(value);
        rest = from_close.get(2..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<&'static str> {
        match name {
            "u" => Some("s3://bucket/path"),
            "i" => Some("7"),
            "f" => Some("{{c}}"),
            _ => None,
        }
    }

    #[test]
    fn substitutes_plain_names() {
        assert_eq!(
            render("{{u}}/f.nc", vars, "k", false).unwrap(),
            "s3://bucket/path/f.nc"
        );
        assert_eq!(
            render("{{ u }}/{{i}}.{{i}}", vars, "k", true).unwrap(),
            "s3://bucket/path/7.7"
        );
        assert_eq!(
            render("no braces {x}", vars, "k", false).unwrap(),
            "no braces {x}"
        );
        assert_eq!(render("", vars, "k", false).unwrap(), "");
        assert_eq!(render("é{{i}}ü", vars, "k", false).unwrap(), "é7ü");
    }

    #[test]
    fn rejects_what_it_cannot_render() {
        assert!(matches!(
            render("{{nope}}", vars, "k", false),
            Err(RefsError::UnknownTemplate { .. })
        ));
        for s in [
            "{{i*10}}",
            "{{ i + 1 }}",
            "{{f(c='x')}}",
            "{{u|upper}}",
            "{{u",
            "{{}}",
            "{{f}}",
        ] {
            assert!(
                matches!(
                    render(s, vars, "k", false),
                    Err(RefsError::UnsupportedTemplate { .. })
                ),
                "{s}"
            );
        }
        assert!(render("{% for %}", vars, "k", true).is_err());
        assert!(render("{# c #}", vars, "k", true).is_err());
        assert_eq!(render("{% for %}", vars, "k", false).unwrap(), "{% for %}");
    }
}
