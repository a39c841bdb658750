//! Bad input of every kind gets the right status and a problem+json body naming the field, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{pointers, send, TestApp};

/// Asserts a problem+json answer with `status` and exactly these pointers.
async fn expect_problem(
    response: reqwest::Response,
    status: StatusCode,
    expected_pointers: &[&str],
) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status.as_u16());
    assert!(problem["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:hanbao:problem:"));
    assert!(!problem["title"].as_str().unwrap().is_empty());
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, expected_pointers, "{problem}");
    problem
}

async fn post_unit(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/units")
        .json(&body)
        .send()
        .await
        .unwrap()
}

backend_test!(
    field_errors_name_the_field_and_store_nothing,
    |app| async move {
        app.seed_hanoi().await;
        let before = app.snapshot().await;
        let good = json!({"code": "HN-TAYHO", "name": "UBND quận Tây Hồ", "kind": "district", "parent": "HN"});
        let with = |key: &str, value: Value| {
            let mut body = good.clone();
            body[key] = value;
            body
        };
        let without = |key: &str| {
            let mut body = good.clone();
            body.as_object_mut().unwrap().remove(key);
            body
        };
        let cases: Vec<(Value, StatusCode, Vec<&str>)> = vec![
            (
                with("colour", json!("blue")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/colour"],
            ),
            (
                with("kind", json!(5)),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/kind"],
            ),
            (
                with("kind", json!("distrct")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/kind"],
            ),
            (
                without("name"),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/name"],
            ),
            (
                with("time_zone", json!("Asia/Hanoi_City")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/time_zone"],
            ),
            (
                with("parent", json!("HN-NOWHERE")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/parent"],
            ),
            (
                with("code", json!("HN TAYHO")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/code"],
            ),
            (
                with("valid_from", json!("2025-02-30")),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/valid_from"],
            ),
            (
                with(
                    "contacts",
                    json!({"reporters": ["ok@x.vn", "not an email"], "heads": []}),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/contacts/reporters/1"],
            ),
            (
                with("contacts", json!({"reporters": [], "bosses": []})),
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["/contacts/bosses"],
            ),
            (
                with("code", json!("HN-BADINH")),
                StatusCode::CONFLICT,
                vec!["/code"],
            ),
            // Codes are unique ignoring case (issue 11 §1.8).
            (
                with("code", json!("hn-BaDinh")),
                StatusCode::CONFLICT,
                vec!["/code"],
            ),
        ];
        for (body, status, expected) in cases {
            let response = post_unit(&app, body.clone()).await;
            expect_problem(response, status, &expected).await;
        }
        // Several problems at once are all reported.
        let mut body = with("time_zone", json!("Nowhere/Else"));
        body["parent"] = json!("HN-NOWHERE");
        body["language"] = json!("fr");
        expect_problem(
            post_unit(&app, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            &["/language", "/parent", "/time_zone"],
        )
        .await;

        assert_eq!(
            app.snapshot().await,
            before,
            "a refused request changed stored data"
        );
    }
);

backend_test!(malformed_json_is_400, |app| async move {
    let before = app.snapshot().await;
    for body in [
        "{\"code\": \"X\",",
        "not json",
        "{\"code\": \"X\"} trailing",
    ] {
        let response = app
            .request(Method::POST, "/api/v1/units")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::BAD_REQUEST, &[]).await;
    }
    assert_eq!(app.snapshot().await, before);
});

backend_test!(tokens_are_required, |app| async move {
    let body = json!({"code": "X", "name": "X", "kind": "other"});
    let anonymous = app
        .client
        .post(app.url("/api/v1/units"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"hanbao\""
    );
    expect_problem(anonymous, StatusCode::UNAUTHORIZED, &[]).await;
    let wrong = app
        .client
        .get(app.url("/api/v1/units"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    expect_problem(wrong, StatusCode::UNAUTHORIZED, &[]).await;
    let basic = app
        .client
        .get(app.url("/api/v1/plans"))
        .basic_auth("admin", Some("x"))
        .send()
        .await
        .unwrap();
    expect_problem(basic, StatusCode::UNAUTHORIZED, &[]).await;
    assert_eq!(
        app.get("/api/v1/units/X").await.0,
        StatusCode::NOT_FOUND,
        "nothing was created"
    );
});

backend_test!(unknown_routes_and_methods, |app| async move {
    expect_problem(
        app.request(Method::GET, "/api/v1/nothing-here")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        &[],
    )
    .await;
    expect_problem(
        app.request(Method::GET, "/api/v1/plans/abc")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        &[],
    )
    .await;
    expect_problem(
        app.request(Method::GET, "/api/v1/plans/999")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        &[],
    )
    .await;
    // A known path with a method it does not have.
    expect_problem(
        app.request(Method::DELETE, "/api/v1/units")
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        &[],
    )
    .await;
});

backend_test!(size_and_content_type_limits, |app| async move {
    let before = app.snapshot().await;
    // The test server's limit is 64 KiB.
    let huge = json!({"code": "BIG", "name": "x".repeat(70 * 1024), "kind": "other"});
    expect_problem(
        post_unit(&app, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        &[],
    )
    .await;
    let form = app
        .request(Method::POST, "/api/v1/units")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=X&name=X&kind=other")
        .send()
        .await
        .unwrap();
    expect_problem(form, StatusCode::UNSUPPORTED_MEDIA_TYPE, &[]).await;
    let no_type = app
        .request(Method::POST, "/api/v1/units")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_problem(no_type, StatusCode::UNSUPPORTED_MEDIA_TYPE, &[]).await;
    assert_eq!(app.snapshot().await, before);
});

backend_test!(
    unexpected_failures_are_opaque_500s_and_roll_back,
    |app| async move {
        app.seed_hanoi().await;
        // Break the audit log: creating a unit now fails after the unit's own INSERT, inside the transaction.
        app.execute_sql("DROP TABLE audit_log");
        let response = post_unit(
            &app,
            json!({"code": "HN-TAYHO", "name": "UBND quận Tây Hồ", "kind": "district"}),
        )
        .await;
        let problem = expect_problem(response, StatusCode::INTERNAL_SERVER_ERROR, &[]).await;
        let detail = problem["detail"].as_str().unwrap().to_lowercase();
        assert!(
            !detail.contains("audit_log") && !detail.contains("table"),
            "internal detail leaked: {detail}"
        );
        let (status, _) = app.get("/api/v1/units/HN-TAYHO").await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "the unit's INSERT was rolled back with the failed audit entry"
        );
    }
);

backend_test!(query_parameters_of_the_wrong_type, |app| async move {
    let (status, problem) = send(app.request(Method::GET, "/api/v1/units?limit=many")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["status"], 422);
    assert_eq!(pointers(&problem), ["/limit"]);
    let (status, problem) = send(app.request(Method::GET, "/api/v1/units?cursor=xyz")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/cursor"]);
});

backend_test!(
    control_characters_and_duplicate_keys_are_refused_where_they_are,
    |app| async move {
        app.seed_hanoi().await;
        let before = app.snapshot().await;
        // A NUL (or a line break) in a path segment names no resource; PostgreSQL answered 500 before.
        for path in [
            "/api/v1/units/HN%00",
            "/api/v1/units/x%0A2026-12-01T13:00:00Z%20ERROR%20hanbao::forged",
            "/api/v1/plans/1%00",
        ] {
            let response = app.request(Method::GET, path).send().await.unwrap();
            expect_problem(response, StatusCode::NOT_FOUND, &[]).await;
        }
        // In a query string, line breaks included (no parameter holds one): 422 naming the parameter.
        for query in ["period=2024%00", "period=2024%0AERROR%20forged"] {
            let response = app
                .request(Method::GET, &format!("/api/v1/deadlines?{query}"))
                .send()
                .await
                .unwrap();
            expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY, &["/period"]).await;
        }
        // A key never holds a line break.
        let response = post_unit(
            &app,
            json!({"code": "HN-X", "name": "UBND", "kind": "district", "bogus\nERROR forged": 1}),
        )
        .await;
        let problem = response.json::<serde_json::Value>().await.unwrap();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{problem}"))
                .iter()
                .any(|e| e["message"] == "a key must not contain control characters"),
            "{problem}"
        );
        // In a body: 422 at the string's pointer, however deep.
        for (body, pointer) in [
            (
                json!({"code": "HN-X", "name": "a\u{0}", "kind": "district"}),
                "/name",
            ),
            (
                json!({"code": "HN-X", "name": "UBND", "kind": "district",
                   "contacts": {"reporters": ["a@b.vn\u{0}"], "heads": []}}),
                "/contacts/reporters/0",
            ),
        ] {
            let response = post_unit(&app, body).await;
            expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY, &[pointer]).await;
        }
        // A key given twice would silently keep the last: refused, naming the key.
        let response = app
            .request(Method::POST, "/api/v1/units")
            .header("content-type", "application/json")
            .body(r#"{"code":"HN-X","name":"UBND","kind":"district","kind":"province"}"#)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY, &["/kind"]).await;
        assert_eq!(app.snapshot().await, before, "nothing refused was stored");
    }
);

backend_test!(
    answers_are_not_sniffed_or_cached_and_bearer_is_any_case,
    |app| async move {
        for (method, path) in [
            (Method::GET, "/api/v1/units"),
            (Method::GET, "/api/v1/nothing-here"),
            (Method::GET, "/healthz"),
        ] {
            let response = app.request(method, path).send().await.unwrap();
            let headers = response.headers();
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
        // The answer that carries a new token's secret is not cached either.
        let response = app
            .request(Method::POST, "/api/v1/tokens")
            .json(&json!({"role": "viewer", "name": "viewer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["cache-control"], "no-store");
        // RFC 7235: the scheme name is case-insensitive.
        for scheme in ["bearer", "BEARER", "Bearer"] {
            let (status, _) = send(app.client.get(app.url("/api/v1/units")).header(
                "authorization",
                format!("{scheme} {}", crate::helpers::ADMIN_TOKEN),
            ))
            .await;
            assert_eq!(status, StatusCode::OK, "{scheme}");
        }
    }
);

backend_test!(
    every_answer_carries_its_request_id_and_problems_quote_it,
    |app| async move {
        let ok = app
            .request(Method::GET, "/api/v1/units")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()["x-request-id"].len(), 36, "a UUID");
        // A handler's problem, a middleware's (control character in the path) and the token check's.
        for request in [
            app.request(Method::GET, "/api/v1/units/NOWHERE"),
            app.request(Method::GET, "/api/v1/units/HN%00"),
            app.client.get(app.url("/api/v1/units")),
        ] {
            let response = request.send().await.unwrap();
            let id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let status = response.status();
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["status"], status.as_u16());
            assert_eq!(problem["instance"], format!("urn:uuid:{id}"), "{problem}");
        }
        let (_, again) = app.get("/api/v1/units/NOWHERE").await;
        let (_, other) = app.get("/api/v1/units/NOWHERE").await;
        assert_ne!(again["instance"], other["instance"], "one id per request");
    }
);

// A query parameter a route does not know is refused, naming it and the ones the route takes: a typo such as
// `unti=` must not silently answer with every deadline (issue 12 §6).
backend_test!(unknown_query_parameters_are_400, |app| async move {
    let (status, problem) = app
        .get("/api/v1/deadlines?unti=HN-BADINH&period=2024")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(pointers(&problem), ["/unti"]);
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("unit") && message.contains("period"),
        "{message}"
    );
    // Known ones of another extractor on the same route (paging) pass.
    let (status, _) = app.get("/api/v1/deadlines?unit=A&limit=5").await;
    assert_ne!(status, StatusCode::BAD_REQUEST);
    for path in [
        "/api/v1/units/NONE?verbose=1",
        "/api/v1/compliance?obligaton=1",
        "/healthz?x=1",
    ] {
        let (status, problem) = app.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(
            problem["type"], "urn:hanbao:problem:unknown-parameter",
            "{path}"
        );
    }
});
