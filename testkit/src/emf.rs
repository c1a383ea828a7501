//! A function's log as a test reads it: its JSON lines, and the rules of
//! CloudWatch's Embedded Metric Format (EMF) specification checked on a
//! line, as CloudWatch Logs applies them when it extracts metrics
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).

use serde_json::{Map, Value};

/// At most this many metrics in one directive.
pub const MAX_METRICS: usize = 100;
/// At most this many dimensions in one dimension set.
pub const MAX_DIMENSIONS: usize = 30;
/// At most this many values in a metric's array.
pub const MAX_VALUES: usize = 100;

/// The units CloudWatch accepts (`MetricDatum.Unit`).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Each line of `log` that is a whole JSON object, with its line number.
pub fn json_lines(log: &str) -> Vec<(usize, Map<String, Value>)> {
    log.lines()
        .enumerate()
        .filter_map(|(n, line)| match serde_json::from_str(line) {
            Ok(Value::Object(object)) => Some((n + 1, object)),
            _ => None,
        })
        .collect()
}

/// The request lines of `log` (`"message": "request"`), each checked with
/// [`check`]: valid EMF, or the test fails naming the rule.
pub fn request_lines(log: &str) -> Vec<Map<String, Value>> {
    log.lines()
        .filter(|line| line.contains(r#""message":"request""#))
        .map(|line| {
            check(line).unwrap_or_else(|rule| panic!("not valid EMF: {rule}\nline: {line}"))
        })
        .collect()
}

/// Checks one log event against the EMF specification: the event is
/// exactly one JSON object (nothing before or after); `_aws` holds an
/// integer millisecond `Timestamp` and `CloudWatchMetrics` directives; a
/// directive has exactly `Namespace`, `Dimensions`, `Metrics`; each
/// dimension set names at most 30 members, each a top-level string of 1 to
/// 1024 ASCII characters, not all whitespace; at most 100 metrics, each
/// `{Name, Unit?, StorageResolution?}` with a known unit and a top-level
/// number (or up to 100 numbers) as its value.
pub fn check(event: &str) -> Result<Map<String, Value>, String> {
    let Value::Object(root) =
        serde_json::from_str::<Value>(event).map_err(|e| format!("not one JSON value: {e}"))?
    else {
        return Err("the root is not a JSON object".into());
    };
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no `_aws` object")?;
    let timestamp = aws
        .get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("`_aws.Timestamp` is not a non-negative integer")?;
    // Milliseconds since the epoch: after 2001 in ms is > 1e12; seconds would be ~1.7e9.
    if timestamp < 1_000_000_000_000 {
        return Err(format!(
            "`_aws.Timestamp` {timestamp} is not in milliseconds"
        ));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("`_aws.CloudWatchMetrics` is not an array")?;
    if directives.is_empty() {
        return Err("no metric directive".into());
    }
    for directive in directives {
        check_directive(&root, directive)?;
    }
    Ok(root)
}

fn check_directive(root: &Map<String, Value>, directive: &Value) -> Result<(), String> {
    let directive = directive
        .as_object()
        .ok_or("a directive is not an object")?;
    if let Some(extra) = directive
        .keys()
        .find(|k| !["Namespace", "Dimensions", "Metrics"].contains(&k.as_str()))
    {
        return Err(format!("a directive has the unknown member `{extra}`"));
    }
    let namespace = directive
        .get("Namespace")
        .and_then(Value::as_str)
        .ok_or("a directive has no `Namespace` string")?;
    if namespace.trim().is_empty() || namespace.len() > 1024 {
        return Err(format!("bad namespace `{namespace}`"));
    }
    let sets = directive
        .get("Dimensions")
        .and_then(Value::as_array)
        .ok_or("`Dimensions` is not an array")?;
    for set in sets {
        let set = set.as_array().ok_or("a dimension set is not an array")?;
        if set.len() > MAX_DIMENSIONS {
            return Err(format!("a dimension set has {} dimensions", set.len()));
        }
        for name in set {
            let name = name.as_str().ok_or("a dimension name is not a string")?;
            let value = root
                .get(name)
                .and_then(Value::as_str)
                .ok_or(format!("dimension `{name}` is not a top-level string"))?;
            if value.trim().is_empty() || value.len() > 1024 || !value.is_ascii() {
                return Err(format!("dimension `{name}` has the bad value `{value}`"));
            }
        }
    }
    let metrics = directive
        .get("Metrics")
        .and_then(Value::as_array)
        .ok_or("`Metrics` is not an array")?;
    if metrics.len() > MAX_METRICS {
        return Err(format!("{} metrics in one directive", metrics.len()));
    }
    for metric in metrics {
        check_metric(root, metric)?;
    }
    Ok(())
}

fn check_metric(root: &Map<String, Value>, metric: &Value) -> Result<(), String> {
    let metric = metric.as_object().ok_or("a metric is not an object")?;
    if let Some(extra) = metric
        .keys()
        .find(|k| !["Name", "Unit", "StorageResolution"].contains(&k.as_str()))
    {
        return Err(format!("a metric has the unknown member `{extra}`"));
    }
    let name = metric
        .get("Name")
        .and_then(Value::as_str)
        .ok_or("a metric has no `Name` string")?;
    if let Some(unit) = metric.get("Unit")
        && !unit.as_str().is_some_and(|u| UNITS.contains(&u))
    {
        return Err(format!("metric `{name}` has the unknown unit {unit}"));
    }
    if let Some(resolution) = metric.get("StorageResolution")
        && !matches!(resolution.as_u64(), Some(1 | 60))
    {
        return Err(format!("metric `{name}`: StorageResolution {resolution}"));
    }
    match root.get(name) {
        Some(Value::Number(_)) => Ok(()),
        Some(Value::Array(values))
            if values.len() <= MAX_VALUES && values.iter().all(Value::is_number) =>
        {
            Ok(())
        }
        other => Err(format!("metric `{name}` has no number value: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's own example, then one broken rule per line.
    #[test]
    fn the_rules() {
        let valid = r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}"#;
        assert!(check(valid).is_ok(), "{:?}", check(valid));
        let broken = [
            ("prefix ", valid.to_owned()),
            ("seconds", valid.replace("1574109732004", "1574109732")),
            (
                "string value",
                valid.replace(r#""time":100"#, r#""time":"100""#),
            ),
            ("missing value", valid.replace(r#","time":100"#, "")),
            ("number dimension", valid.replace(r#""$LATEST""#, "1")),
            ("unknown unit", valid.replace("Milliseconds", "Millis")),
            (
                "extra member",
                valid.replace(r#""Namespace""#, r#""Extra":1,"Namespace""#),
            ),
            (
                "resolution",
                valid.replace(r#""StorageResolution":60"#, r#""StorageResolution":5"#),
            ),
            ("no _aws", valid.replace("_aws", "aws")),
        ];
        for (what, event) in broken {
            let event = if what == "prefix " {
                format!("x {event}")
            } else {
                event
            };
            assert!(check(&event).is_err(), "{what}: {event}");
        }
        let dimensions: Vec<String> = (0..=MAX_DIMENSIONS).map(|i| format!("\"d{i}\"")).collect();
        let wide = valid.replace(
            r#"["functionVersion"]"#,
            &format!("[{}]", dimensions.join(",")),
        );
        assert!(check(&wide).is_err(), "31 dimensions");
    }
}
