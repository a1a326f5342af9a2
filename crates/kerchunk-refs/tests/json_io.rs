//! Reader/writer behaviour on hand-written documents (kerchunk-behavior.md §1, checklist 1–5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::sync::Arc;

use kerchunk_refs::{
    read_reference_set, stream_refs, write_reference_set, RefValue, RefWriter, ReferenceSet,
    RefsError, UrlInterner, WriteOptions,
};

fn url(s: &str) -> Option<Arc<str>> {
    Some(Arc::from(s))
}

fn inline(b: &[u8]) -> RefValue {
    RefValue::inline(b.to_vec())
}

fn read(s: &str) -> ReferenceSet {
    read_reference_set(s.as_bytes()).unwrap()
}

fn read_err(s: &str) -> RefsError {
    read_reference_set(s.as_bytes()).unwrap_err()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn version1_value_forms() {
    // Value forms of kerchunk-behavior.md §1.2 / checklist item 2 and 3.
    let s = read(
        r#"{"version":1,"refs":{
            "a":"data",
            "b":"base64:AAEC/w==",
            "b2":"base64:AAEC/w",
            "c":{"zarr_format": 2, "x": [1, 2.5, "é"]},
            "d":["s3://b/f.nc"],
            "e":["s3:\/\/b\/f.nc", 4016, 33],
            "f":[null, 4016, 33],
            "g":[null],
            "h":"\u00e9\u0000",
            "i":"",
            "j":["f.nc", 1.0e3, 0]
        }}"#,
    );
    assert_eq!(s.get("a"), Some(&inline(b"data")));
    assert_eq!(s.get("b"), Some(&inline(&[0, 1, 2, 255])));
    assert_eq!(s.get("b2"), Some(&inline(&[0, 1, 2, 255])));
    assert_eq!(
        s.get("c"),
        Some(&inline(r#"{"zarr_format":2,"x":[1,2.5,"é"]}"#.as_bytes()))
    );
    assert_eq!(
        s.get("d"),
        Some(&RefValue::Whole {
            url: url("s3://b/f.nc")
        })
    );
    assert_eq!(
        s.get("e"),
        Some(&RefValue::range(url("s3://b/f.nc"), 4016, 33))
    );
    assert_eq!(s.get("f"), Some(&RefValue::range(None, 4016, 33)));
    assert_eq!(s.get("g"), Some(&RefValue::Whole { url: None }));
    assert_eq!(s.get("h"), Some(&inline("é\0".as_bytes())));
    assert_eq!(s.get("i"), Some(&inline(b"")));
    assert_eq!(s.get("j"), Some(&RefValue::range(url("f.nc"), 1000, 0)));
    assert_eq!(
        s.keys().collect::<Vec<_>>(),
        ["a", "b", "b2", "c", "d", "e", "f", "g", "h", "i", "j"]
    );
}

#[test]
fn version0_documents() {
    // Checklist item 1: no "version" → version 0, the whole object is the mapping.
    let doc = r#"{".zgroup":"{\"zarr_format\":2}","x/0":["f.nc",1,2],"x/.zattrs":{"a":1}}"#;
    let mut keys = Vec::new();
    let meta = stream_refs(doc.as_bytes(), |k, _| {
        keys.push(k.to_string());
        Ok(())
    })
    .unwrap();
    assert_eq!(meta.version, 0);
    assert_eq!(meta.refs, 3);
    assert_eq!(keys, [".zgroup", "x/0", "x/.zattrs"]);
    let s = read(doc);
    assert_eq!(s.get("x/.zattrs"), Some(&inline(br#"{"a":1}"#)));
    // No templates in version 0: "{{" is literal and the order is kept.
    let s = read(r#"{"k":["{{u}}"],"l":"x"}"#);
    assert_eq!(s.keys().collect::<Vec<_>>(), ["k", "l"]);
    assert_eq!(s.get("k"), Some(&RefValue::Whole { url: url("{{u}}") }));
    assert!(read("{}").is_empty());
}

#[test]
fn version_checks() {
    assert!(matches!(
        read_err(r#"{"version":2,"refs":{}}"#),
        RefsError::UnsupportedVersion(v) if v == "2"
    ));
    assert!(matches!(
        read_err(r#"{"version":"1","refs":{}}"#),
        RefsError::UnsupportedVersion(_)
    ));
    // v1 keys first but no version at all.
    assert!(matches!(
        read_err(r#"{"refs":{"a":"x"}}"#),
        RefsError::Json { .. }
    ));
    // Unknown top-level keys of v1 are ignored; refs may be absent.
    let s = read(r#"{"version":1,"extra":{"x":[1,2]},"refs":{"a":"x"}}"#);
    assert_eq!(s.len(), 1);
    assert!(read(r#"{"version":1}"#).is_empty());
}

#[test]
fn templates_before_and_after_refs() {
    // Checklist item 4; fsspec substitutes {{name}} in list-reference URLs.
    let before = read(
        r#"{"version":1,"templates":{"u":"s3://bucket/data","n":7},
            "refs":{"a":["{{u}}/f.nc",1,2],"b":["{{ u }}/{{n}}.nc"],"c":"{{u}} stays inline"}}"#,
    );
    assert_eq!(
        before.get("a"),
        Some(&RefValue::range(url("s3://bucket/data/f.nc"), 1, 2))
    );
    assert_eq!(
        before.get("b"),
        Some(&RefValue::Whole {
            url: url("s3://bucket/data/7.nc")
        })
    );
    assert_eq!(before.get("c"), Some(&inline(b"{{u}} stays inline")));

    // Sorted-keys writers put "refs" before "templates" and "version": templated refs are
    // buffered and delivered last.
    let mut order = Vec::new();
    let meta = stream_refs(
        &br#"{"refs":{"a":["{{u}}/f.nc",1,2],"z":"x","b":["plain"]},"templates":{"u":"s3://b"},"version":1}"#[..],
        |k, v| {
            order.push((k.to_string(), v));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(meta.version, 1);
    assert_eq!(meta.templates, [("u".to_string(), "s3://b".to_string())]);
    assert_eq!(
        order,
        [
            ("z".to_string(), inline(b"x")),
            ("b".to_string(), RefValue::Whole { url: url("plain") }),
            ("a".to_string(), RefValue::range(url("s3://b/f.nc"), 1, 2)),
        ]
    );

    // No (or empty) templates: fsspec leaves "{{" alone.
    let s = read(r#"{"version":1,"refs":{"a":["{{u}}/f.nc"]}}"#);
    assert_eq!(
        s.get("a"),
        Some(&RefValue::Whole {
            url: url("{{u}}/f.nc")
        })
    );
    let s = read(r#"{"version":1,"templates":{},"refs":{"a":["{{u}}/f.nc"]}}"#);
    assert_eq!(
        s.get("a"),
        Some(&RefValue::Whole {
            url: url("{{u}}/f.nc")
        })
    );

    // Unknown name, jinja expressions and jinja-macro templates are errors naming the key.
    match read_err(r#"{"version":1,"templates":{"u":"x"},"refs":{"k1":["{{v}}"]}}"#) {
        RefsError::UnknownTemplate { context, name } => {
            assert_eq!((context.as_str(), name.as_str()), ("k1", "v"));
        }
        e => panic!("{e}"),
    }
    assert!(matches!(
        read_err(r#"{"version":1,"templates":{"u":"x"},"refs":{"k":["{{u + 1}}"]}}"#),
        RefsError::UnsupportedTemplate { .. }
    ));
    assert!(matches!(
        read_err(r#"{"refs":{"k":["{{f(c='a')}}"]},"templates":{"f":"{{c}}"},"version":1}"#),
        RefsError::UnsupportedTemplate { .. }
    ));
    assert!(matches!(
        read_err(r#"{"version":1,"templates":{"u":[1]},"refs":{}}"#),
        RefsError::Json { .. }
    ));
}

#[test]
fn gen_expansion() {
    // Checklist item 4: cartesian product, last dimension fastest, range or list dims.
    let doc = r#"{"version":1,"templates":{"u":"s3://b"},
      "refs":{"v/0.1":"overridden","keep":"k"},
      "gen":[
        {"key":"v/{{i}}.{{j}}","url":"{{u}}/f{{i}}.nc","offset":"{{ j }}00","length":"10",
         "dimensions":{"i":{"stop":2},"j":["1","3"]}},
        {"key":"w/{{k}}","url":"g.nc","dimensions":{"k":{"start":10,"stop":4,"step":-3}}},
        {"key":"never","url":"x","dimensions":{"e":[]}}
      ]}"#;
    let mut seen = Vec::new();
    let meta = stream_refs(doc.as_bytes(), |k, v| {
        seen.push((k.to_string(), v));
        Ok(())
    })
    .unwrap();
    assert_eq!(meta.generated, 6);
    assert_eq!(meta.refs, 8);
    let gen: Vec<_> = seen[2..]
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(
        gen,
        [
            ("v/0.1", RefValue::range(url("s3://b/f0.nc"), 100, 10)),
            ("v/0.3", RefValue::range(url("s3://b/f0.nc"), 300, 10)),
            ("v/1.1", RefValue::range(url("s3://b/f1.nc"), 100, 10)),
            ("v/1.3", RefValue::range(url("s3://b/f1.nc"), 300, 10)),
            ("w/10", RefValue::Whole { url: url("g.nc") }),
            ("w/7", RefValue::Whole { url: url("g.nc") }),
        ]
    );
    // gen output overrides refs in the materialised set (fsspec: dict.update).
    let s = read(doc);
    assert_eq!(
        s.get("v/0.1"),
        Some(&RefValue::range(url("s3://b/f0.nc"), 100, 10))
    );
    assert_eq!(s.len(), 7);

    for (bad, what) in [
        (
            r#"{"key":"k","url":"u","offset":"1","dimensions":{"i":[1]}}"#,
            "offset only",
        ),
        (
            r#"{"key":"k{{i*2}}","url":"u","dimensions":{"i":[1]}}"#,
            "expression",
        ),
        (
            r#"{"key":"{% for %}","url":"u","dimensions":{"i":[1]}}"#,
            "block",
        ),
        (
            r#"{"key":"k","url":"u","dimensions":{"i":{"stop":3,"step":0}}}"#,
            "step 0",
        ),
        (
            r#"{"key":"k","url":"u","dimensions":{"i":{"start":1}}}"#,
            "no stop",
        ),
        (r#"{"key":"k","url":"u"}"#, "no dimensions"),
        (
            r#"{"key":"k","url":"u","offset":"-{{i}}","length":"1","dimensions":{"i":[1]}}"#,
            "negative",
        ),
        (
            r#"{"key":"k","url":"u","dimensions":{"u":[1]}}"#,
            "dim shadows template",
        ),
        (r#"{"url":"u","dimensions":{"i":[1]}}"#, "no key"),
    ] {
        let doc = format!(r#"{{"version":1,"templates":{{"u":"x"}},"gen":[{bad}]}}"#);
        assert!(read_reference_set(doc.as_bytes()).is_err(), "{what}");
    }
}

#[test]
fn malformed_values_name_key_and_position() {
    let cases = [
        (r#"{"version":1,"refs":{"ok":"x","bad/0":5}}"#, "bad/0"),
        (r#"{"version":1,"refs":{"bad":true}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":null}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":"base64:@@@"}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":[]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u",1]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u",1,2,3]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u",-1,2]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u",1.5,2]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u","1",2]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":["u",1,1e30]}}"#, "bad"),
        (r#"{"version":1,"refs":{"bad":[5,1,2]}}"#, "bad"),
        (r#"{"bad":[{"u":1}]}"#, "bad"),
    ];
    for (doc, key) in cases {
        match read_reference_set(doc.as_bytes()) {
            Err(RefsError::InvalidRef {
                key: k,
                line,
                column,
                ..
            }) => {
                assert_eq!(k, key, "{doc}");
                assert_eq!(line, 1, "{doc}");
                assert!(column > 0, "{doc}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }
    // Line numbers are real.
    match read_reference_set(b"{\"version\":1,\n\"refs\":{\n\"a\":\"x\",\n\"b\":7}}") {
        Err(RefsError::InvalidRef { key, line, .. }) => assert_eq!((key.as_str(), line), ("b", 4)),
        other => panic!("{other:?}"),
    }
    for doc in [
        "",
        "[]",
        "\"x\"",
        "{",
        r#"{"a":"x"} trailing"#,
        r#"{"version":1,"refs":[]}"#,
        r#"{"version":1,"refs":{"a":"x""#,
        "{\"a\":\"\\ud800\"}",
    ] {
        assert!(
            matches!(
                read_reference_set(doc.as_bytes()),
                Err(RefsError::Json { .. })
            ),
            "{doc:?}"
        );
    }
}

#[test]
fn callback_errors_pass_through() {
    let doc = br#"{"version":1,"refs":{"a":"x","b":"y"}}"#;
    let mut n = 0;
    let err = stream_refs(&doc[..], |k, _| {
        n += 1;
        if k == "b" {
            Err(RefsError::Callback("stop here".into()))
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(matches!(err, RefsError::Callback(e) if e.to_string() == "stop here"));
    assert_eq!(n, 2);
}

/// A reader that returns at most one byte per call (exercises the gzip sniffing).
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn gzip_is_detected_by_magic() {
    let doc = br#"{"version":1,"refs":{"a":["f.nc",1,2],"b":["f.nc",3,4]}}"#;
    let gz = gzip(doc);
    let mut interner = UrlInterner::new();
    let mut urls = Vec::new();
    let meta = kerchunk_refs::stream_refs_with(Trickle(&gz), &mut interner, |_, v| {
        urls.push(v.url().cloned().flatten().unwrap());
        Ok(())
    })
    .unwrap();
    assert!(meta.gzip);
    assert_eq!(meta.refs, 2);
    // Interned: both refs share one allocation.
    assert!(Arc::ptr_eq(&urls[0], &urls[1]));
    assert_eq!(interner.len(), 1);
    assert_eq!(
        read_reference_set(&gz).unwrap(),
        read_reference_set(doc).unwrap()
    );
    // Concatenated gzip members are one stream (MultiGzDecoder).
    let (a, b) = doc.split_at(20);
    let mut two = gzip(a);
    two.extend(gzip(b));
    assert_eq!(read_reference_set(&two).unwrap().len(), 2);
    // Plain input through a trickling reader, and corrupt gzip as an I/O error.
    assert_eq!(stream_refs(Trickle(doc), |_, _| Ok(())).unwrap().refs, 2);
    let mut bad = gz.clone();
    bad.truncate(gz.len() / 2);
    assert!(read_reference_set(&bad).is_err());
    assert!(read_reference_set(&[0x1f]).is_err());
}

#[test]
fn writer_output_text() {
    let mut s = ReferenceSet::new();
    s.set_zgroup("");
    s.insert("x/0.0", RefValue::range(url("s3://b/f.nc"), 4016, 33));
    s.insert("x/0.1", RefValue::range(None, u64::MAX, 0));
    s.insert(
        "x/1.0",
        RefValue::Whole {
            url: url("w \"q\""),
        },
    );
    s.insert("jsonish/0", inline(b"1.50"));
    s.insert("u/0", inline("é\0\n".as_bytes()));
    s.insert("looks/0", inline(b"base64:AAAA"));
    s.insert("bin/0", inline(&[0xff, 0xfe, 0x80]));
    s.insert("empty/0", inline(b""));
    let out = write_reference_set(&s, Vec::new(), &WriteOptions::default()).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"version":1,"refs":{".zgroup":"{\"zarr_format\":2}","#,
            r#""x/0.0":["s3://b/f.nc",4016,33],"x/0.1":[null,18446744073709551615,0],"#,
            r#""x/1.0":["w \"q\""],"jsonish/0":"1.50","u/0":"é\u0000\n","#,
            r#""looks/0":"base64:YmFzZTY0OkFBQUE=","bin/0":"base64://6A","empty/0":""}}"#
        )
    );
    assert_eq!(read_reference_set(&out).unwrap(), s);
    // Empty set.
    let out =
        write_reference_set(&ReferenceSet::new(), Vec::new(), &WriteOptions::default()).unwrap();
    assert_eq!(out, br#"{"version":1,"refs":{}}"#);
}

#[test]
fn writer_templates_and_gzip() {
    let mut s = ReferenceSet::new();
    s.insert("a", RefValue::range(url("s3://bucket/data/f1.nc"), 1, 2));
    s.insert(
        "b",
        RefValue::Whole {
            url: url("s3://bucket/other.nc"),
        },
    );
    s.insert("c", RefValue::range(url("https://elsewhere/x"), 3, 4));
    s.insert("d", RefValue::range(None, 3, 4));
    let opts = WriteOptions {
        gzip: true,
        templates: vec![
            ("b".into(), "s3://bucket/".into()),
            ("d".into(), "s3://bucket/data/".into()),
        ],
        ..WriteOptions::default()
    };
    let out = write_reference_set(&s, Vec::new(), &opts).unwrap();
    assert!(kerchunk_refs::read::is_gzip(&out));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&out[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"version":1,"templates":{"b":"s3://bucket/","d":"s3://bucket/data/"},"refs":{"#,
            r#""a":["{{d}}f1.nc",1,2],"b":["{{b}}other.nc"],"c":["https://elsewhere/x",3,4],"d":[null,3,4]}}"#
        )
    );
    assert_eq!(read_reference_set(&out).unwrap(), s);

    // A URL that itself contains "{{" cannot be written when templates are in use...
    let mut w = RefWriter::new(Vec::new(), &opts).unwrap();
    assert!(matches!(
        w.write_ref(
            "k",
            &RefValue::Whole {
                url: url("s3://{{x}}")
            }
        ),
        Err(RefsError::Write { .. })
    ));
    // ...but round-trips without templates.
    let mut t = ReferenceSet::new();
    t.insert(
        "k",
        RefValue::Whole {
            url: url("s3://{{x}}"),
        },
    );
    let out = write_reference_set(&t, Vec::new(), &WriteOptions::default()).unwrap();
    assert_eq!(read_reference_set(&out).unwrap(), t);
    // Invalid template definitions.
    for (n, p) in [("1x", "a"), ("x", ""), ("x", "a{{b}}"), ("a b", "c")] {
        let o = WriteOptions {
            templates: vec![(n.into(), p.into())],
            ..WriteOptions::default()
        };
        assert!(RefWriter::new(Vec::new(), &o).is_err(), "{n} {p}");
    }
    assert!(kerchunk_refs::is_gzip_path("out/refs.json.GZ"));
    assert!(!kerchunk_refs::is_gzip_path("refs.json"));
    assert!(WriteOptions::for_path("a.json.gz").gzip);
}
