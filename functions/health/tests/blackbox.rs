//! Black-box: the real `health` binary through the Lambda Runtime API.

use testkit::{Emulator, Function, Invocation, Shape};

#[test]
fn the_articles_event_gets_the_articles_answer() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let _health = Function::start(&emulator, "health", env!("CARGO_BIN_EXE_health"), &[]);
    let event = include_str!("../../../shared/tests/fixtures/article-rest-v1-get-ping.json");
    let Invocation { status, body } = emulator.invoke_raw("health", event);
    assert_eq!(status, 200);
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["body"], r#"{"Success":"Pong!"}"#);
    assert_eq!(
        body["multiValueHeaders"]["content-type"][0],
        "application/json"
    );
    assert_eq!(body["isBase64Encoded"], false);
}

#[test]
fn ping_through_every_shape_and_the_routing_misses() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let _health = Function::start(&emulator, "health", env!("CARGO_BIN_EXE_health"), &[]);
    for shape in Shape::ALL {
        let ok = emulator.request("health", &shape.event("GET", "/ping", None));
        assert_eq!(
            (ok.status, ok.text().as_str()),
            (200, r#"{"Success":"Pong!"}"#),
            "{shape:?}"
        );
        assert_eq!(ok.header("access-control-allow-origin"), Some("*"));

        let head = emulator.request("health", &shape.event("HEAD", "/ping/", None));
        assert_eq!((head.status, head.body.len()), (200, 0), "{shape:?}");

        let missing = emulator.request("health", &shape.event("GET", "/pong", None));
        assert_eq!(missing.status, 404, "{shape:?}");
        assert!(missing.json()["message"].is_string());

        let wrong = emulator.request("health", &shape.event("DELETE", "/ping", None));
        assert_eq!(wrong.status, 405, "{shape:?}");
        assert_eq!(wrong.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}
