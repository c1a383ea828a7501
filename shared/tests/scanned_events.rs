//! Events are read by a walk made for what AWS sends (`shared::event`'s
//! `scan`), and by `serde_json`'s pass where the walk declines; that must
//! never change an answer. Every fixture event, with each body of the table
//! written into it in several layouts, adapts to the same request (or the
//! same refusal) both ways: as `adapt` reads it (`Pass::Scan`) and by
//! `serde_json`'s pass alone (`Pass::Serde`).

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use shared::event::{Pass, adapt_with, read};

/// Bodies as JSON text (what goes after `"body":`), valid or not.
const BODIES: &[&str] = &[
    r#""""#,
    r#""plain text, longer than one eight-byte word""#,
    r#""{\"items\":[{\"id\":0,\"name\":\"user 0\",\"active\":true}]}""#,
    r#""\"\\\/\b\f\n\r\t and \u0041\u00e9\u20ac\u0000""#,
    r#""\ud83d\ude00 \uD83D\uDE00 😀 café""#,
    // Refused by serde_json: the answer must stay its refusal.
    r#""\ud800""#,
    r#""\udc00 low first""#,
    r#""\ud800\u0041""#,
    r#""\x41""#,
    r#""\u12G4""#,
    "\"a raw\ncontrol character\"",
    "\"a raw\ttab\"",
    // Not strings: the walk declines, `serde_json` refuses.
    "null",
    "42",
    r#"{"a":"b"}"#,
    r#"["x"]"#,
];

/// Base64 bodies, with `isBase64Encoded: true`.
const BASE64_BODIES: &[&str] = &[r#""aGVsbG8=""#, r#""aGVs\/bG8=""#, r#""not base64!""#];

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut fixtures: Vec<(String, Value)> = fs::read_dir(&dir)
        .expect("the fixtures folder")
        .map(|entry| entry.expect("a fixture").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable");
            let name = path.file_name().expect("a name").to_string_lossy().into();
            (
                name,
                serde_json::from_str(&text).expect("fixtures are JSON"),
            )
        })
        .collect();
    fixtures.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(fixtures.len() >= 15, "{} fixtures", fixtures.len());
    fixtures
}

/// `event` with its body set to the JSON text `body`, in several layouts:
/// `body` last or first, compact or pretty-printed, written twice, and
/// under a key spelled with an escape (`bo\u0064y`, which is `body` too).
fn layouts(event: &Value, body: &str, base64: bool) -> Vec<String> {
    let mut event = event.clone();
    let object = event.as_object_mut().expect("an event is an object");
    object.remove("body");
    if base64 {
        object.insert("isBase64Encoded".into(), json!(true));
    }
    let rest = serde_json::to_string(&event).expect("serialises");
    let rest_pretty = serde_json::to_string_pretty(&event).expect("serialises");
    let inner = &rest[1..rest.len() - 1];
    let pretty_inner = &rest_pretty[1..rest_pretty.len() - 1];
    let mut layouts = vec![
        format!("{{{inner},\"body\":{body}}}"),
        format!("{{\"body\" : {body} ,{inner}}}"),
        format!("{{\n  \"body\": {body},{pretty_inner}}}"),
        format!("{{{inner},\"body\":{body},\"body\":{body}}}"),
        format!("{{{inner},\"bo\\u0064y\":{body}}}"),
    ];
    // And each with a large field the walk skips (checking it as JSON).
    let skipped = r#"{"a":[1,-2.5e+3,true,null,"q\"\u00e9\ud800"],"b":{}},"#.repeat(200);
    let padding = format!(",\"x-padding\":[{skipped}\"{}\"]}}", "p".repeat(5_000));
    let padded: Vec<String> = layouts
        .iter()
        .map(|l| format!("{}{padding}", &l[..l.len() - 1]))
        .collect();
    layouts.extend(padded);
    layouts
}

#[test]
fn every_fixture_adapts_the_same_scanned_or_read_by_serde_json() {
    let (mut compared, mut with_body, mut reading) = (0, 0, 0);
    for (name, event) in fixtures() {
        let bodies = BODIES
            .iter()
            .map(|b| (*b, false))
            .chain(BASE64_BODIES.iter().map(|b| (*b, true)));
        for (body, base64) in bodies {
            for payload in layouts(&event, body, base64) {
                let scanned = adapt_with(&payload, "invocation-1", None, Pass::Scan);
                let serde = adapt_with(&payload, "invocation-1", None, Pass::Serde);
                assert_eq!(
                    format!("{scanned:?}"),
                    format!("{serde:?}"),
                    "{name}, body {body}: {payload}"
                );
                if let Ok((_, Ok(request))) = &serde {
                    with_body += usize::from(!request.body.is_empty());
                }
                // The reading stage alone, as the benchmark times it.
                let reads = read(&payload, Pass::Scan);
                assert_eq!(reads, read(&payload, Pass::Serde), "{name}: {payload}");
                reading += usize::from(reads);
                compared += 1;
            }
        }
    }
    // Most of them are requests, not refusals, so bodies were compared.
    assert!(compared > 3_000, "{compared}");
    assert!(with_body > 500, "{with_body} requests with a body");
    // The rest repeat `body` or hold one serde_json refuses.
    assert!(reading > 1_000, "{reading} of {compared} read");
}

#[test]
fn a_scanned_body_is_the_text_the_client_sent() {
    let event: Value =
        serde_json::from_str(include_str!("fixtures/rest-v1-aws-example.json")).expect("JSON");
    let text: String = (0..2_000)
        .map(|i| format!("{{\"id\":{i},\"name\":\"user \\u00e9 {i}\"}},\n"))
        .collect();
    let body = serde_json::to_string(&text).expect("serialises");
    let mut read = 0;
    for payload in layouts(&event, &body, false) {
        let Ok((_, Ok(request))) = adapt_with(&payload, "invocation-1", None, Pass::Scan) else {
            // The repeated key is refused, both ways (checked above).
            continue;
        };
        assert_eq!(request.body, text.as_bytes());
        read += 1;
    }
    assert_eq!(read, 8, "all layouts but the two with a repeated key");
}
