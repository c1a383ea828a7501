//! The MOCK `OPTIONS` method osls generates for `cors:` (its
//! `compile/events/api-gateway/lib/validate.js` `getCors` and `cors.js`):
//! per path, the union of every event's headers and methods, `'*'` or the
//! first configured origin, and a response template that echoes a request
//! `Origin` matching one of the configured origins.

use serde_yaml_ng::Value;

/// osls's default `Access-Control-Allow-Headers`.
const DEFAULT_HEADERS: [&str; 7] = [
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "X-Amzn-Trace-Id",
];

/// One event's `cors:` setting, as osls's `getCors` normalizes it.
#[derive(Debug, Clone)]
pub struct CorsConfig {
    origin: Option<String>,
    origins: Vec<String>,
    headers: Vec<String>,
    methods: Vec<String>,
    allow_credentials: bool,
    max_age: Option<String>,
    cache_control: Option<String>,
}

fn strings(value: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "cors lists hold strings".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("cors lists hold strings".into()),
    }
}

fn scalar(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl CorsConfig {
    /// `cors: true` or `cors: {...}` of an event with `method`; `None` for
    /// `cors: false`.
    pub fn from_event(value: &Value, method: &str) -> Result<Option<Self>, String> {
        let method = method.to_ascii_uppercase();
        let mut config = Self {
            origin: Some("*".into()),
            origins: Vec::new(),
            headers: DEFAULT_HEADERS.map(str::to_owned).to_vec(),
            methods: vec!["OPTIONS".into()],
            allow_credentials: false,
            max_age: None,
            cache_control: None,
        };
        match value {
            Value::Bool(false) => return Ok(None),
            Value::Bool(true) => config.methods.push(method),
            Value::Mapping(_) => {
                if let Some(origins) = strings(value.get("origins"))? {
                    config.origin = None;
                    config.origins = origins;
                }
                if let Some(origin) = scalar(value.get("origin")) {
                    config.origin = Some(origin);
                }
                if let Some(headers) = strings(value.get("headers"))? {
                    config.headers = headers;
                }
                config.methods = strings(value.get("methods"))?.unwrap_or_default();
                for required in ["OPTIONS".to_owned(), method] {
                    if !config.methods.contains(&required) {
                        config.methods.push(required);
                    }
                }
                config.allow_credentials = value
                    .get("allowCredentials")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                config.max_age = scalar(value.get("maxAge"));
                config.cache_control = scalar(value.get("cacheControl"));
            }
            _ => return Err("`cors` is true, false or a mapping".into()),
        }
        Ok(Some(config))
    }
}

/// The merged preflight of one resource.
#[derive(Debug, Clone)]
pub struct Cors {
    headers: Vec<(&'static str, String)>,
    origins: Vec<String>,
}

fn union(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

impl Cors {
    /// Merges the events of one path the way osls's `validate` does (the
    /// last origin, maxAge and cacheControl win; lists are unions).
    pub fn merge(configs: &[CorsConfig]) -> Self {
        let (mut headers, mut methods, mut origins) = (Vec::new(), Vec::new(), Vec::new());
        let (mut origin, mut credentials, mut max_age, mut cache_control) =
            (None, false, None, None);
        for config in configs {
            // osls: `union(http.cors.headers, cors.headers)`, new first.
            let mut merged = config.headers.clone();
            union(&mut merged, &headers);
            headers = merged;
            let mut merged = config.methods.clone();
            union(&mut merged, &methods);
            methods = merged;
            let mut merged = config.origins.clone();
            union(&mut merged, &origins);
            origins = merged;
            origin.clone_from(&config.origin);
            credentials |= config.allow_credentials;
            if config.max_age.is_some() {
                max_age.clone_from(&config.max_age);
            }
            if config.cache_control.is_some() {
                cache_control.clone_from(&config.cache_control);
            }
        }
        if let Some(list) = origin.as_deref().filter(|o| o.contains(',')) {
            origins = list.split(',').map(|o| o.trim().to_owned()).collect();
        }
        let origin = origins.first().cloned().or(origin).unwrap_or_default();
        let methods = methods
            .join(",")
            .replacen("ANY", "DELETE,GET,HEAD,PATCH,POST,PUT", 1);
        let mut out = vec![
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Headers", headers.join(",")),
            ("Access-Control-Allow-Methods", methods),
        ];
        if credentials {
            out.push(("Access-Control-Allow-Credentials", "true".into()));
        }
        if let Some(max_age) = max_age {
            out.push(("Access-Control-Max-Age", max_age));
        }
        if let Some(cache_control) = cache_control {
            out.push(("Cache-Control", cache_control));
        }
        Self {
            headers: out,
            origins,
        }
    }

    /// The answer's headers for a request with `origin` (the response
    /// template's override when it matches a configured origin).
    pub fn headers(&self, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = self.headers.clone();
        if let Some(origin) = origin.filter(|o| self.origins.iter().any(|p| glob_matches(p, o))) {
            headers[0].1 = origin.to_owned();
        }
        headers
    }
}

/// osls turns `*` into `.+` (one `*`, the first) and matches the whole origin.
fn glob_matches(pattern: &str, origin: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == origin,
        Some((prefix, suffix)) => {
            origin.len() > prefix.len() + suffix.len()
                && origin.starts_with(prefix)
                && origin.ends_with(suffix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Cors, CorsConfig};
    use serde_yaml_ng::Value;

    fn config(yaml: &str, method: &str) -> CorsConfig {
        let value: Value = serde_yaml_ng::from_str(yaml).unwrap_or(Value::Null);
        CorsConfig::from_event(&value, method)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{yaml}"))
    }

    #[test]
    fn cors_true_merges_like_osls() {
        let cors = Cors::merge(&[config("true", "get"), config("true", "post")]);
        let headers = cors.headers(Some("https://x.example"));
        let expected = [
            ("Access-Control-Allow-Origin", "*"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,X-Amzn-Trace-Id",
            ),
            ("Access-Control-Allow-Methods", "OPTIONS,POST,GET"),
        ];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(headers, expected);
    }

    #[test]
    fn configured_origins_echo_a_matching_origin() {
        let cors = Cors::merge(&[config(
            "{origins: ['https://app.example', 'https://*.preview.example'], allowCredentials: true, maxAge: 600}",
            "get",
        )]);
        let cases = [
            (Some("https://app.example"), "https://app.example"),
            (
                Some("https://pr-1.preview.example"),
                "https://pr-1.preview.example",
            ),
            (Some("https://evil.example"), "https://app.example"),
            (None, "https://app.example"),
        ];
        for (origin, expected) in cases {
            let headers = cors.headers(origin);
            assert_eq!(headers[0].1, expected, "{origin:?}");
            assert!(headers.contains(&("Access-Control-Allow-Credentials", "true".into())));
            assert!(headers.contains(&("Access-Control-Max-Age", "600".into())));
        }
    }
}
