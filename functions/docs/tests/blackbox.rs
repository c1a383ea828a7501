//! Black-box: the real `docs` binary through the Lambda Runtime API serves
//! the generated document and a page that reads it at the right URL, with
//! and without an API Gateway stage in the public URL.

use serde_json::Value;
use testkit::{Emulator, Function, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_docs");

#[test]
fn the_document_and_the_page_follow_the_stage() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let _docs = Function::start(&emulator, "docs", BIN, &[]);
    let committed: Value = serde_json::from_str(docs::DOCUMENT).expect("generated JSON");

    // REST v1 events from the article: the `testStage` stage on the default
    // execute-api host, where every public URL starts with the stage.
    // HTTP API v2 events as the watcher sends them: no stage in URLs.
    for (shape, base) in [(Shape::RestV1, "/testStage"), (Shape::HttpV2, "")] {
        let reply = emulator.request("docs", &shape.event("GET", "/openapi.json", None));
        assert_eq!(reply.status, 200, "{shape:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let mut served = reply.json();
        let server = if base.is_empty() { "/" } else { base };
        assert_eq!(
            served["servers"],
            serde_json::json!([{ "url": server }]),
            "{shape:?}"
        );
        served.as_object_mut().expect("object").remove("servers");
        assert_eq!(
            served, committed,
            "{shape:?}: the committed document, unchanged"
        );
        assert_eq!(served["openapi"], "3.1.0");

        let page = emulator.request("docs", &shape.event("GET", "/docs", None));
        assert_eq!(page.status, 200, "{shape:?}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = page.text();
        let url = format!("data-url=\"{base}/openapi.json\"");
        assert!(
            html.contains(&url),
            "{shape:?}: the page must read {url}:\n{html}"
        );
        assert!(html.contains("SwaggerUIBundle"));
    }
}

#[test]
fn the_document_covers_every_route_of_every_function() {
    let document: Value = serde_json::from_str(docs::DOCUMENT).expect("generated JSON");
    let mut documented: Vec<String> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    documented.sort();
    assert_eq!(
        documented,
        [
            "DELETE /api/v1/users/{id}",
            "GET /api/v1/users",
            "GET /api/v1/users/{id}",
            "GET /docs",
            "GET /openapi.json",
            "GET /ping",
            "POST /api/v1/users",
            "PUT /api/v1/users/{id}",
        ]
    );
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.contains_key("500"),
                "{method} {path} documents its 500"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has a tag"
            );
        }
    }
}
