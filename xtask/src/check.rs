//! Compares the routers with what `functions.yml` and the watch router map.

use std::path::Path;

use crate::routes::{Function, RouteSet, route_set};
use crate::{functions_yml, openapi, watch};

/// Fails with one line per difference, naming the route, method and file.
pub(crate) fn run(root: &Path, functions: &[Function]) -> Result<(), String> {
    let routers = route_set(functions);
    let yml = functions_yml::read(root, functions)?;
    let local = watch::read(root)?;
    let mut problems = Vec::new();
    problems.extend(differences(
        &functions_yml::expected(functions),
        &yml.routes,
        functions_yml::FILE,
    ));
    problems.extend(yml.problems);
    problems.extend(differences(
        &watch::expected(functions),
        &local.routes,
        watch::FILE,
    ));
    problems.extend(local.problems);
    problems.extend(openapi::problems(root, functions));
    if problems.is_empty() {
        println!(
            "routes in step: {} routes in the routers, functions.yml, the watch router and the OpenAPI document",
            routers.len()
        );
        return Ok(());
    }
    let mut message = String::from("route drift:\n");
    for problem in &problems {
        message.push_str(&format!("  - {problem}\n"));
    }
    message.push_str("run `cargo xtask routes --write` to regenerate functions.yml, the watch router and the OpenAPI document from the routers");
    Err(message)
}

fn differences(routers: &RouteSet, file: &RouteSet, name: &str) -> Vec<String> {
    let missing = routers.difference(file).map(|(path, method, function)| {
        format!("{name} lacks {method} {path}, which the `{function}` router serves")
    });
    let extra = file.difference(routers).map(|(path, method, function)| {
        format!("{name} maps {method} {path} to `{function}`, but the `{function}` router has no such route")
    });
    missing.chain(extra).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, &str, &str)]) -> RouteSet {
        items
            .iter()
            .map(|(p, m, f)| ((*p).into(), (*m).into(), (*f).into()))
            .collect()
    }

    #[test]
    fn names_route_method_and_file_both_ways() {
        let routers = set(&[
            ("/ping", "GET", "health"),
            ("/api/v1/orders", "POST", "orders"),
        ]);
        let file = set(&[("/ping", "GET", "health"), ("/ping", "DELETE", "health")]);
        assert_eq!(
            differences(&routers, &file, "functions.yml"),
            [
                "functions.yml lacks POST /api/v1/orders, which the `orders` router serves",
                "functions.yml maps DELETE /ping to `health`, but the `health` router has no such route",
            ]
        );
    }
}
