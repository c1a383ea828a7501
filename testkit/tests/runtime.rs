//! Black-box: a `shared` function binary through the real Runtime API keeps
//! serving after a panic, a non-HTTP event and a non-JSON payload.

use testkit::{Emulator, Function, Shape};

#[test]
fn panics_and_bad_events_do_not_stop_the_process() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let mut function = Function::start(
        &emulator,
        "panicking-function",
        env!("CARGO_BIN_EXE_panicking-function"),
        &[],
    );
    for shape in Shape::ALL {
        let reply = emulator.request(
            "panicking-function",
            &shape.event("POST", "/panic", Some("{}")),
        );
        assert_eq!(reply.status, 500, "{shape:?}");
        assert_eq!(
            reply.json(),
            serde_json::json!({"message": "internal server error"})
        );
        assert!(
            !reply.text().contains("deliberate"),
            "the panic message stays in the logs"
        );

        let reply = emulator.request("panicking-function", &shape.event("GET", "/fine", None));
        assert_eq!(reply.status, 200, "{shape:?}: serves after the panic");
    }

    let not_http = emulator.invoke_raw(
        "panicking-function",
        r#"{"Records":[{"eventSource":"aws:sqs"}]}"#,
    );
    assert_eq!(not_http.status, 500, "a non-HTTP event is a Lambda error");
    assert_eq!(not_http.body["errorType"], "UnsupportedEvent");
    assert!(
        not_http.body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("unsupported event")
    );

    let not_json = emulator.invoke_raw("panicking-function", "this is not JSON");
    assert_eq!(not_json.status, 500, "a non-JSON payload is a Lambda error");

    let reply = emulator.request(
        "panicking-function",
        &Shape::RestV1.event("GET", "/fine", None),
    );
    assert_eq!(reply.status, 200, "serves after the bad events");
    assert!(function.is_running());
}
