//! The few osls variables the gateway needs to resolve in `serverless.yml`:
//! `${opt:stage, 'dev'}`, `${env:NAME, 'default'}`, `${sls:stage}`,
//! `${self:path.in.the.file}`, `${aws:region}` and quoted literals, first
//! source that has a value wins (as osls does).

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

/// How deep `${...}` may nest (through `self:` references).
const MAX_DEPTH: usize = 10;

/// What `${...}` sources resolve to.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `opt:NAME` (the gateway's `--stage` / `--region`).
    pub options: BTreeMap<String, String>,
    /// `sls:stage`, `aws:region` once known.
    pub known: BTreeMap<String, String>,
    /// `serverless.yml`, for `self:` lookups.
    pub document: Value,
}

impl Vars {
    /// Replaces every `${...}` in `text`; an unresolvable one is an error
    /// that names it.
    pub fn resolve(&self, text: &str) -> Result<String, String> {
        self.resolve_at(text, 0)
    }

    fn resolve_at(&self, text: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "variables nested too deep (a self-reference?) in `{text}`"
            ));
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let inner_start = start + 2;
            let end = closing_brace(&rest[inner_start..])
                .ok_or_else(|| format!("unterminated variable in `{text}`"))?;
            let inner = &rest[inner_start..inner_start + end];
            out.push_str(&self.one(inner, depth)?);
            rest = &rest[inner_start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn one(&self, inner: &str, depth: usize) -> Result<String, String> {
        for source in split_top_level(inner) {
            let source = source.trim();
            if let Some(value) = self.source(source, depth)? {
                return Ok(value);
            }
        }
        Err(format!(
            "cannot resolve `${{{inner}}}` (the local gateway knows opt:, env:, self:, sls:stage, aws:region and quoted defaults)"
        ))
    }

    fn source(&self, source: &str, depth: usize) -> Result<Option<String>, String> {
        if let Some(literal) = quoted(source) {
            return Ok(Some(literal.to_owned()));
        }
        if source.contains("${") {
            return self.resolve_at(source, depth + 1).map(Some);
        }
        if let Some(name) = source.strip_prefix("opt:") {
            return Ok(self.options.get(name).cloned());
        }
        if let Some(name) = source.strip_prefix("env:") {
            return Ok(std::env::var(name).ok());
        }
        if let Some(path) = source.strip_prefix("self:") {
            return self.lookup(path, depth);
        }
        if matches!(source, "sls:stage" | "aws:region") {
            return Ok(self.known.get(source).cloned());
        }
        if let Ok(number) = source.parse::<f64>()
            && number.is_finite()
        {
            return Ok(Some(source.to_owned()));
        }
        Err(format!("unsupported variable source `{source}`"))
    }
}

impl Vars {
    /// An event setting with its variables resolved: a string that is one
    /// `${self:path}` naming a mapping or a list becomes that value (as
    /// `cors: ${self:custom.cors}` does in osls); other strings are
    /// resolved as text; mappings and lists, entry by entry.
    pub fn resolve_value(&self, value: &Value) -> Result<Value, String> {
        self.resolve_value_at(value, 0)
    }

    fn resolve_value_at(&self, value: &Value, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("variables nested too deep (a self-reference?)".into());
        }
        match value {
            Value::String(text) => {
                let whole = text
                    .strip_prefix("${self:")
                    .and_then(|rest| rest.strip_suffix('}'))
                    .filter(|path| !path.contains(['$', ',', '{', '}']));
                if let Some(path) = whole {
                    let mut found = &self.document;
                    for key in path.split('.') {
                        found = found
                            .get(key)
                            .ok_or_else(|| format!("cannot resolve `{text}`"))?;
                    }
                    if matches!(found, Value::Mapping(_) | Value::Sequence(_)) {
                        return self.resolve_value_at(found, depth + 1);
                    }
                }
                self.resolve(text).map(Value::String)
            }
            Value::Mapping(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.resolve_value_at(v, depth + 1)?)))
                .collect::<Result<serde_yaml_ng::Mapping, String>>()
                .map(Value::Mapping),
            Value::Sequence(items) => items
                .iter()
                .map(|v| self.resolve_value_at(v, depth + 1))
                .collect::<Result<Vec<_>, String>>()
                .map(Value::Sequence),
            other => Ok(other.clone()),
        }
    }

    /// `self:a.b.c`: the value at that path of `serverless.yml`, resolved in turn.
    fn lookup(&self, path: &str, depth: usize) -> Result<Option<String>, String> {
        let mut value = &self.document;
        for key in path.split('.') {
            match value.get(key) {
                Some(next) => value = next,
                None => return Ok(None),
            }
        }
        match value {
            Value::String(text) => self.resolve_at(text, depth + 1).map(Some),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(format!("`self:{path}` is not a scalar")),
        }
    }
}

fn quoted(source: &str) -> Option<&str> {
    ['\'', '"'].into_iter().find_map(|q| {
        source
            .strip_prefix(q)
            .and_then(|s| s.strip_suffix(q))
            .filter(|s| !s.contains(q))
    })
}

/// The index of the `}` closing the variable that starts before `text`.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits on commas outside quotes and nested `${}`.
fn split_top_level(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None, 0usize);
    for (index, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(&inner[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::Vars;

    #[test]
    fn variables_resolve_like_osls() {
        let mut vars = Vars {
            document: serde_yaml_ng::from_str(
                "{service: api, custom: {origins: '${opt:stage}-x', n: 3, list: [1], me: '${self:custom.me}'}}",
            )
            .unwrap_or_default(),
            ..Vars::default()
        };
        vars.options.insert("stage".into(), "prod".into());
        let cases = [
            ("${opt:stage, 'dev'}", Some("prod")),
            (
                "${opt:region, env:GATEWAY_TEST_UNSET_VAR, 'eu-west-1'}",
                Some("eu-west-1"),
            ),
            ("${self:service}-x", Some("api-x")),
            ("'${env:GATEWAY_TEST_UNSET_VAR, \"*\"}'", Some("'*'")),
            ("plain", Some("plain")),
            ("${env:GATEWAY_TEST_UNSET_VAR}", None),
            ("${self:custom.origins}", Some("prod-x")),
            ("${self:custom.n}", Some("3")),
            ("${self:custom.missing, 'd'}", Some("d")),
            ("${self:custom.list}", None),
            ("${self:custom.me}", None),
            ("${cf:stack.output}", None),
            ("${opt:stage", None),
        ];
        for (text, expected) in cases {
            assert_eq!(vars.resolve(text).ok().as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn a_self_reference_to_a_mapping_is_that_mapping() {
        let vars = Vars {
            document: serde_yaml_ng::from_str(
                "{custom: {cors: {origin: '${self:custom.o}', maxAge: 600, headers: [A]}, o: '*'}}",
            )
            .unwrap_or_default(),
            ..Vars::default()
        };
        let cases = [
            (
                "${self:custom.cors}",
                Some("{origin: '*', maxAge: 600, headers: [A]}"),
            ),
            ("true", Some("true")),
            ("${self:custom.o}", Some("'*'")),
            ("${self:custom.nothing}", None),
        ];
        for (text, expected) in cases {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).unwrap_or_default();
            let want = expected
                .map(|e| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(e).unwrap_or_default());
            assert_eq!(vars.resolve_value(&value).ok(), want, "{text}");
        }
    }
}
