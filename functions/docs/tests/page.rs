//! Black-box: the `/docs` page of the real `docs` binary loads a pinned
//! Swagger UI whose integrity hashes are those of the npm package's files
//! (kept in `fixtures/swagger-ui-dist.json`, derived from the tarball), and
//! its Content-Security-Policy allows exactly what the page loads.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::{Emulator, Function, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_docs");
const FIXTURE: &str = include_str!("fixtures/swagger-ui-dist.json");

/// The tags of `html` named `name`, each as its attributes.
fn tags(html: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name}");
    html.match_indices(&open)
        .map(|(at, _)| {
            let rest = &html[at + open.len()..];
            let tag = &rest[..rest.find('>').expect("tag end")];
            let mut attributes = BTreeMap::new();
            let mut rest = tag.trim();
            while !rest.is_empty() {
                let end = rest.find([' ', '=']).unwrap_or(rest.len());
                let key = rest[..end].to_owned();
                rest = &rest[end..];
                let value = if let Some(quoted) = rest.strip_prefix("=\"") {
                    let close = quoted.find('"').expect("closing quote");
                    rest = &quoted[close + 1..];
                    quoted[..close].to_owned()
                } else {
                    String::new()
                };
                attributes.insert(key, value);
                rest = rest.trim_start();
            }
            attributes
        })
        .collect()
}

/// The directives of a policy, each with its set of sources.
fn directives(policy: &str) -> BTreeMap<String, BTreeSet<String>> {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            let name = words.next().expect("directive name");
            (name, words.collect())
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_page_loads_pinned_swagger_ui_with_integrity_and_a_policy_that_allows_exactly_that() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let _docs = Function::start(&emulator, "docs", BIN, &[]);
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture JSON");
    let version = fixture["version"].as_str().expect("version");
    let file_url =
        |file: &str| format!("https://cdn.jsdelivr.net/npm/swagger-ui-dist@{version}/{file}");
    let integrity = |file: &str| {
        fixture["files"][file]
            .as_str()
            .unwrap_or_else(|| panic!("fixture hash of {file}"))
            .to_owned()
    };

    for shape in Shape::ALL {
        let reply = emulator.request("docs", &shape.event("GET", "/docs", None));
        assert_eq!(reply.status, 200, "{shape:?}");
        let html = reply.text();

        // Exactly one stylesheet and one external script, both pinned to
        // the fixture's version and carrying the package files' hashes.
        let links = tags(&html, "link");
        assert_eq!(links.len(), 1, "{shape:?}: {links:?}");
        let css = &links[0];
        assert_eq!(css["rel"], "stylesheet");
        assert_eq!(css["href"], file_url("swagger-ui.css"), "{shape:?}");
        assert_eq!(css["integrity"], integrity("swagger-ui.css"), "{shape:?}");
        assert_eq!(css["crossorigin"], "anonymous");
        let scripts = tags(&html, "script");
        assert_eq!(scripts.len(), 2, "{shape:?}: {scripts:?}");
        let bundle = &scripts[0];
        assert_eq!(bundle["src"], file_url("swagger-ui-bundle.js"), "{shape:?}");
        assert_eq!(
            bundle["integrity"],
            integrity("swagger-ui-bundle.js"),
            "{shape:?}"
        );
        assert_eq!(bundle["crossorigin"], "anonymous");
        assert!(
            !scripts[1].contains_key("src"),
            "the second script is inline"
        );
        assert_eq!(
            docs::page::SWAGGER_UI_VERSION,
            version,
            "the fixture is of the pinned version"
        );

        // The inline script, as the browser hashes it.
        let start = html.rfind("<script>").expect("inline script") + "<script>".len();
        let end = start + html[start..].find("</script>").expect("script end");
        let inline = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(&html[start..end]))
        );

        let policy = reply
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{shape:?}: no Content-Security-Policy"));
        let expected: BTreeMap<String, BTreeSet<String>> = [
            ("default-src", set(&["'none'"])),
            (
                "script-src",
                set(&[&file_url("swagger-ui-bundle.js"), &inline]),
            ),
            ("style-src", set(&[&file_url("swagger-ui.css")])),
            // Swagger UI's stylesheet draws its icons as data: images.
            ("img-src", set(&["data:"])),
            // The OpenAPI document and "Try it out": this origin only.
            ("connect-src", set(&["'self'"])),
            ("base-uri", set(&["'none'"])),
            ("form-action", set(&["'none'"])),
            ("frame-ancestors", set(&["'none'"])),
        ]
        .into_iter()
        .map(|(name, sources)| (name.to_owned(), sources))
        .collect();
        assert_eq!(directives(policy), expected, "{shape:?}: {policy}");
    }
}
