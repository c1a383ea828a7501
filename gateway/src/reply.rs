//! The function's proxy answer mapped back to HTTP as API Gateway REST maps
//! it: `statusCode`, `headers` and `multiValueHeaders` merged (for a name in
//! both, only the `multiValueHeaders` values), `Content-Type:
//! application/json` when the function set none, and a base64 body decoded
//! only when a binary media type matches the request's `Accept` (otherwise
//! API Gateway sends the base64 text as is). Anything else is a malformed
//! proxy answer, which API Gateway turns into a 502.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;

use crate::event::is_binary;

/// The HTTP answer built from a function's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// A base64 body was sent undecoded (no binary media type matched).
    pub base64_passed_through: bool,
}

fn header_value(value: &Json, name: &str) -> Result<String, String> {
    match value {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("header `{name}`: a string")),
    }
}

fn object<'a>(
    answer: &'a serde_json::Map<String, Json>,
    key: &str,
) -> Result<Option<&'a serde_json::Map<String, Json>>, String> {
    match answer.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(map)) => Ok(Some(map)),
        Some(_) => Err(format!("`{key}` is not an object")),
    }
}

/// Maps `answer` for a request that sent `accept`.
pub fn from_function(
    answer: &Json,
    accept: Option<&str>,
    binary_media_types: &[String],
) -> Result<Reply, String> {
    let answer = answer
        .as_object()
        .ok_or("the answer is not a JSON object")?;
    let status = answer
        .get("statusCode")
        .and_then(Json::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or("`statusCode` is not an HTTP status")?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let multi = object(answer, "multiValueHeaders")?;
    for (name, values) in multi.into_iter().flatten() {
        let values = values
            .as_array()
            .ok_or_else(|| format!("multiValueHeaders `{name}`: a list"))?;
        for value in values {
            headers.push((name.clone(), header_value(value, name)?));
        }
    }
    for (name, value) in object(answer, "headers")?.into_iter().flatten() {
        let in_multi = multi.is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(name)));
        if !in_multi {
            headers.push((name.clone(), header_value(value, name)?));
        }
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let body = match answer.get("body") {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(body)) => body.clone(),
        Some(_) => return Err("`body` is not a string".into()),
    };
    let base64 = match answer.get("isBase64Encoded") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err("`isBase64Encoded` is not a boolean".into()),
    };
    let accepts_binary = accept
        .into_iter()
        .flat_map(|a| a.split(','))
        .next()
        .is_some_and(|first| is_binary(Some(first), binary_media_types));
    let (body, base64_passed_through) = if base64 && accepts_binary {
        let decoded = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("`body` is not base64: {e}"))?;
        (decoded, false)
    } else {
        (body.into_bytes(), base64)
    };
    Ok(Reply {
        status,
        headers,
        body,
        base64_passed_through,
    })
}

#[cfg(test)]
mod tests {
    use super::from_function;
    use serde_json::json;

    #[test]
    fn answers_map_like_api_gateway() {
        let answer = json!({
            "statusCode": 201,
            "headers": {"Location": "/dev/x", "Set-Cookie": "ignored=1"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": "{}",
        });
        let reply = from_function(&answer, None, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.status, 201);
        let headers: Vec<(&str, &str)> = reply
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("Location", "/dev/x"),
                ("Content-Type", "application/json"),
            ]
        );
        assert_eq!(reply.body, b"{}");
    }

    #[test]
    fn base64_is_decoded_only_for_a_binary_accept() {
        let answer = json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true,
            "headers": {"content-type": "image/png"}});
        let types = vec!["image/png".to_owned()];
        let decoded =
            from_function(&answer, Some("image/png"), &types).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (decoded.body.as_slice(), decoded.base64_passed_through),
            (&b"hi"[..], false)
        );
        let passed =
            from_function(&answer, Some("text/html"), &types).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (passed.body.as_slice(), passed.base64_passed_through),
            (&b"aGk="[..], true)
        );
        let bad = json!({"statusCode": 200, "body": "%%%", "isBase64Encoded": true});
        assert!(from_function(&bad, Some("image/png"), &types).is_err());
    }

    #[test]
    fn malformed_answers_are_refused() {
        let cases = [
            json!("text"),
            json!({"body": "no status"}),
            json!({"statusCode": "200"}),
            json!({"statusCode": 700}),
            json!({"statusCode": 200, "body": {"an": "object"}}),
            json!({"statusCode": 200, "headers": ["x"]}),
            json!({"statusCode": 200, "headers": {"x": {"nested": 1}}}),
            json!({"statusCode": 200, "multiValueHeaders": {"x": "not a list"}}),
            json!({"statusCode": 200, "isBase64Encoded": "yes"}),
        ];
        for answer in cases {
            assert!(from_function(&answer, None, &[]).is_err(), "{answer}");
        }
    }
}
