//! Route matching against the deployed `functions.yml`, as API Gateway REST
//! matches (not as our `shared` router or `cargo lambda watch` do).

mod common;

use gateway::routes::Found;

fn describe(found: Found<'_>) -> String {
    match found {
        Found::Method {
            resource,
            method,
            params,
        } => {
            let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let guard = if method.authorizer.is_some() {
                "+authorizer"
            } else {
                ""
            };
            format!(
                "{} -> {}{guard} {}",
                resource.path,
                method.function,
                params.join(",")
            )
            .trim_end()
            .to_owned()
        }
        Found::Preflight(resource) => format!("{} -> MOCK", resource.path),
        Found::Missing => "403 Missing Authentication Token".into(),
    }
}

#[test]
fn deployed_routes_match_like_api_gateway() {
    let api = common::deployed_api();
    let missing = "403 Missing Authentication Token";
    let cases = [
        ("GET", "/ping", "/ping -> health"),
        ("GET", "/ping/", "/ping -> health"),
        ("OPTIONS", "/ping", "/ping -> MOCK"),
        ("POST", "/ping", "/ping -> health"),
        ("HEAD", "/ping", "/ping -> health"),
        ("TRACE", "/ping", missing),
        ("GET", "/ping//", missing),
        ("GET", "/PING", missing),
        ("GET", "/docs", "/docs -> docs"),
        ("GET", "/openapi.json", "/openapi.json -> docs"),
        ("GET", "/api/v1/users", "/api/v1/users -> users+authorizer"),
        (
            "POST",
            "/api/v1/users/",
            "/api/v1/users -> users+authorizer",
        ),
        ("OPTIONS", "/api/v1/users", "/api/v1/users -> MOCK"),
        ("PUT", "/api/v1/users", "/api/v1/users -> users+authorizer"),
        (
            "GET",
            "/api/v1/users/abc",
            "/api/v1/users/{id} -> users+authorizer id=abc",
        ),
        (
            "GET",
            "/api/v1/users/a%2Fb",
            "/api/v1/users/{id} -> users+authorizer id=a/b",
        ),
        (
            "PUT",
            "/api/v1/users/abc",
            "/api/v1/users/{id} -> users+authorizer id=abc",
        ),
        (
            "DELETE",
            "/api/v1/users/abc/",
            "/api/v1/users/{id} -> users+authorizer id=abc",
        ),
        ("OPTIONS", "/api/v1/users/abc", "/api/v1/users/{id} -> MOCK"),
        (
            "PATCH",
            "/api/v1/users/abc",
            "/api/v1/users/{id} -> users+authorizer id=abc",
        ),
        ("TRACE", "/api/v1/users/abc", missing),
        ("GET", "/api/v1/users/abc/more", missing),
        ("GET", "/api/v1", missing),
        ("GET", "/api", missing),
        ("GET", "/", missing),
        ("OPTIONS", "/nowhere", missing),
    ];
    for (method, path, expected) in cases {
        assert_eq!(
            describe(api.routes.find(method, path)),
            expected,
            "{method} {path}"
        );
    }
}

#[test]
fn preflights_list_the_methods_of_their_resource() {
    let api = common::deployed_api();
    for resource in api.routes.resources() {
        let Some(cors) = &resource.cors else {
            continue;
        };
        let headers = cors.headers(None);
        let allowed = headers
            .iter()
            .find(|(n, _)| *n == "Access-Control-Allow-Methods")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut allowed: Vec<&str> = allowed.split(',').collect();
        allowed.sort_unstable();
        // The catch-all `ANY` has no `cors`: the preflight allows no more
        // than what is declared.
        let mut declared: Vec<&str> = resource
            .methods
            .keys()
            .map(String::as_str)
            .filter(|m| *m != "ANY")
            .collect();
        declared.push("OPTIONS");
        declared.sort_unstable();
        assert_eq!(allowed, declared, "{}", resource.path);
    }
}
