//! Submissions with unit tokens: timeliness, idempotency, scopes, forms, review, extensions, waivers, limits,
//! revocation — on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{pointers, send, TestApp};

/// Units A and B under S, a plan coordinated by S with a past (2022–2023) and a future (2030–2031) yearly
/// obligation for both; returns (past obligation id, future obligation id).
pub async fn world(app: &TestApp, form: Option<Value>) -> (i64, i64) {
    app.create_unit(json!({"code": "S", "name": "Sở", "kind": "department",
                           "contacts": {"reporters": ["so@s.gov.vn"], "heads": []}}))
        .await;
    for code in ["A", "B"] {
        app.create_unit(json!({"code": code, "name": format!("UBND {code}"), "kind": "district", "parent": "S",
                               "contacts": {"reporters": [format!("baocao@{}.gov.vn", code.to_lowercase())], "heads": []}}))
            .await;
    }
    let (status, plan) = app
        .post(
            "/api/v1/plans",
            json!({"number": "1/KH", "title": "Plan", "coordinator": "S",
                                      "starts_on": "2022-01-01", "ends_on": "2031-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let mut ids = Vec::new();
    for (starts, ends) in [("2022-01-01", "2023-12-31"), ("2030-01-01", "2031-12-31")] {
        let mut body = json!({"title": "Báo cáo năm", "recipient": "S", "reporters": {"units": ["A", "B"]},
            "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"},
                         "starts_on": starts, "ends_on": ends}});
        if let Some(form) = &form {
            body["form"] = form.clone();
        }
        let (status, obligation) = app
            .post(&format!("/api/v1/plans/{}/obligations", plan["id"]), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{obligation}");
        ids.push(obligation["id"].as_i64().unwrap());
    }
    (ids[0], ids[1])
}

pub async fn token(app: &TestApp, role: &str, unit: Option<&str>) -> String {
    let (status, issued) = app
        .post(
            "/api/v1/tokens",
            json!({"role": role, "unit": unit, "name": format!("{role} {unit:?}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued["token"].as_str().unwrap().to_owned()
}

/// A request with `token` instead of the admin token.
pub async fn as_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

async fn deadline(app: &TestApp, unit: &str, period: &str) -> Value {
    let (_, page) = app
        .get(&format!("/api/v1/deadlines?unit={unit}&period={period}"))
        .await;
    page["items"][0].clone()
}

backend_test!(on_time_and_late_with_receipts, |app| async move {
    let (past, future) = world(&app, None).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    assert!(reporter.starts_with("hb_"));

    let (status, receipt) = as_token(&app, &reporter, Method::POST, "/api/v1/submissions",
        Some(json!({"obligation_id": future, "period": "2030", "payload": {"activities": 12}, "note": "Đúng hạn"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["unit"], "A");
    assert_eq!(receipt["period"], "2030");
    assert_eq!(receipt["on_time"], true);
    assert_eq!(receipt["lateness"], Value::Null);
    assert_eq!(receipt["version"], 1);
    assert_eq!(receipt["on_behalf"], false);
    assert_eq!(deadline(&app, "A", "2030").await["status"], "submitted");

    let (status, late) = as_token(
        &app,
        &reporter,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": past, "period": "2022", "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    assert_eq!(late["on_time"], false);
    assert!(
        late["lateness"].as_str().unwrap().starts_with('P'),
        "{late}"
    );
    let d = deadline(&app, "A", "2022").await;
    assert_eq!(d["status"], "late");
    assert_eq!(d["submitted_at"], late["received_at"]);
    // Every instant of a unit's deadline is written with the unit's offset, like due_at.
    for instant in [&d["submitted_at"], &late["received_at"], &d["due_at"]] {
        assert!(instant.as_str().unwrap().ends_with("+07:00"), "{instant}");
    }

    // An admin files for B, recorded as on B's behalf.
    let (status, behalf) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": future, "period": "2030", "unit": "B", "payload": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{behalf}");
    assert_eq!(behalf["on_behalf"], true);
    assert_eq!(behalf["filed_by"], "admin (bootstrap token)");

    // Each filing queued one receipt to the unit's reporters.
    let (_, outbox) = app.get("/api/v1/outbox").await;
    let emails = outbox["items"].as_array().unwrap();
    let keys: Vec<&str> = emails
        .iter()
        .map(|e| e["dedupe_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            format!("receipt:{}", receipt["id"]),
            format!("receipt:{}", late["id"]),
            format!("receipt:{}", behalf["id"])
        ]
    );
    assert_eq!(emails[0]["to"], json!(["baocao@a.gov.vn"]));
    assert_eq!(emails[0]["status"], "pending");
    assert!(emails[0]["subject"].as_str().unwrap().contains("2030"));

    // Bad requests: an unknown obligation, a period with no deadline, a malformed period.
    let cases = [
        (
            json!({"obligation_id": 999, "period": "2030", "payload": {}}),
            StatusCode::NOT_FOUND,
            vec![],
        ),
        (
            json!({"obligation_id": future, "period": "2029", "payload": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/period"],
        ),
        (
            json!({"obligation_id": future, "period": "20300", "payload": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/period"],
        ),
        (
            json!({"obligation_id": future, "period": "2030"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/payload"],
        ),
    ];
    for (body, status, expected) in cases {
        let (got, problem) = as_token(
            &app,
            &reporter,
            Method::POST,
            "/api/v1/submissions",
            Some(body),
        )
        .await;
        assert_eq!(got, status, "{problem}");
        assert_eq!(pointers(&problem), expected);
    }
    let (status, problem) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": future, "period": "2030", "payload": {}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an admin must name the unit"
    );
    assert_eq!(pointers(&problem), ["/unit"]);
});

backend_test!(idempotent_replay, |app| async move {
    let (_, future) = world(&app, None).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    let body = json!({"obligation_id": future, "period": "2031", "payload": {"n": 1}});
    let post = |key: &'static str, body: Value| {
        let request = app
            .client
            .post(app.url("/api/v1/submissions"))
            .bearer_auth(&reporter)
            .header("Idempotency-Key", key)
            .json(&body);
        send(request)
    };
    let (first_status, first) = post("retry-1", body.clone()).await;
    let (second_status, second) = post("retry-1", body.clone()).await;
    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(second_status, StatusCode::CREATED);
    assert_eq!(first, second, "the retry returns the first receipt");
    let id = deadline(&app, "A", "2031").await["id"].as_i64().unwrap();
    let (_, versions) = app
        .get(&format!("/api/v1/deadlines/{id}/submissions"))
        .await;
    assert_eq!(
        versions["items"].as_array().unwrap().len(),
        1,
        "nothing new was created"
    );
    let (_, outbox) = app.get("/api/v1/outbox").await;
    assert_eq!(outbox["items"].as_array().unwrap().len(), 1, "one receipt");

    let (status, problem) = post(
        "retry-1",
        json!({"obligation_id": future, "period": "2031", "payload": {"n": 2}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // A new key is a new filing: version 2.
    let (status, again) = post("retry-2", body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["version"], 2);
});

backend_test!(scopes_keep_units_apart, |app| async move {
    let (_, future) = world(&app, None).await;
    let reporter_a = token(&app, "reporter", Some("A")).await;
    let viewer = token(&app, "viewer", None).await;
    let (_, b_receipt) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": future, "period": "2030", "unit": "B", "payload": {}}),
        )
        .await;
    let b_deadline = deadline(&app, "B", "2030").await["id"].as_i64().unwrap();

    // A cannot file for B, read B's deadline or submission, or list B's deadlines.
    let (status, _) = as_token(
        &app,
        &reporter_a,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": future, "period": "2030", "unit": "B", "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [
        format!("/api/v1/deadlines/{b_deadline}"),
        format!("/api/v1/submissions/{}", b_receipt["id"]),
        format!("/api/v1/deadlines/{b_deadline}/submissions"),
    ] {
        let (status, _) = as_token(&app, &reporter_a, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = as_token(
        &app,
        &reporter_a,
        Method::GET,
        "/api/v1/deadlines?unit=B",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, own) = as_token(&app, &reporter_a, Method::GET, "/api/v1/deadlines", None).await;
    assert_eq!(status, StatusCode::OK);
    let units: Vec<&str> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["unit"].as_str().unwrap())
        .collect();
    assert_eq!(
        units,
        ["A", "A", "A", "A"],
        "a reporter's list holds its own unit only"
    );

    // Officers' addresses: a reporter reads its own unit's, not its neighbour's; a viewer none.
    let (_, own_unit) = as_token(&app, &reporter_a, Method::GET, "/api/v1/units/A", None).await;
    assert_eq!(
        own_unit["contacts"]["reporters"],
        json!(["baocao@a.gov.vn"])
    );
    let (_, neighbour) = as_token(&app, &reporter_a, Method::GET, "/api/v1/units/B", None).await;
    assert_eq!(neighbour["contacts"], Value::Null);
    let (_, listed) = as_token(&app, &viewer, Method::GET, "/api/v1/units", None).await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["contacts"].is_null()));

    // A viewer reads everything and files nothing; only admins manage tokens and read the audit log.
    let (status, all) = as_token(&app, &viewer, Method::GET, "/api/v1/deadlines", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 8);
    let (status, _) = as_token(
        &app,
        &viewer,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": future, "period": "2031", "unit": "A", "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for token in [&viewer, &reporter_a] {
        let (status, _) = as_token(
            &app,
            token,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"role": "admin", "name": "x"})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = as_token(&app, token, Method::GET, "/api/v1/audit", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // A coordinator of another unit's plans cannot review or extend here; S's coordinator can.
    let stranger = token(&app, "coordinator", Some("A")).await;
    let coordinator = token(&app, "coordinator", Some("S")).await;
    let review = json!({"decision": "accept"});
    let path = format!("/api/v1/submissions/{}/review", b_receipt["id"]);
    let (status, _) = as_token(&app, &stranger, Method::POST, &path, Some(review.clone())).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another plan's submission does not exist for it"
    );
    let (status, reviewed) = as_token(&app, &coordinator, Method::POST, &path, Some(review)).await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["review"]["decision"], "accept");
    let (status, coordinated) =
        as_token(&app, &stranger, Method::GET, "/api/v1/deadlines", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        coordinated["items"].as_array().unwrap().is_empty(),
        "A coordinates no plan"
    );
});

backend_test!(form_violations_are_field_errors, |app| async move {
    let form = json!({"type": "object", "required": ["activities"], "additionalProperties": false,
                      "properties": {"activities": {"type": "integer", "minimum": 0}, "summary": {"type": "string"}}});
    let (_, future) = world(&app, Some(form)).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    let before = app.get("/api/v1/outbox").await.1;
    let cases = [
        (json!({"activities": "many"}), vec!["/payload/activities"]),
        (json!({"summary": "no count"}), vec!["/payload"]),
        (
            json!({"activities": -1, "extra": true}),
            vec!["/payload", "/payload/activities"],
        ),
    ];
    for (payload, expected) in cases {
        let (status, problem) = as_token(
            &app,
            &reporter,
            Method::POST,
            "/api/v1/submissions",
            Some(json!({"obligation_id": future, "period": "2030", "payload": payload})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut found = pointers(&problem);
        found.sort();
        assert_eq!(found, expected, "{problem}");
    }
    assert_eq!(
        deadline(&app, "A", "2030").await["status"],
        "open",
        "nothing was filed"
    );
    assert_eq!(
        app.get("/api/v1/outbox").await.1,
        before,
        "no receipt was queued"
    );
    let (status, _) = as_token(
        &app,
        &reporter,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": future, "period": "2030", "payload": {"activities": 3}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
});

backend_test!(return_resubmit_accept, |app| async move {
    let (past, _) = world(&app, None).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    let file = |n: i64| {
        as_token(
            &app,
            &reporter,
            Method::POST,
            "/api/v1/submissions",
            Some(json!({"obligation_id": past, "period": "2023", "payload": {"n": n}})),
        )
    };
    let (_, v1) = file(1).await;
    let (status, returned) = app
        .post(
            &format!("/api/v1/submissions/{}/review", v1["id"]),
            json!({"decision": "return", "comment": "Thiếu số liệu"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{returned}");
    assert_eq!(deadline(&app, "A", "2023").await["status"], "returned");
    let (_, outbox) = app.get("/api/v1/outbox").await;
    let returned_mail = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["dedupe_key"] == format!("returned:{}", v1["id"]));
    assert!(returned_mail.is_some(), "{outbox}");

    let (_, v2) = file(2).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(
        v2["on_time"], false,
        "timeliness stays that of the first submission"
    );
    assert_eq!(deadline(&app, "A", "2023").await["status"], "late");
    let (status, accepted) = app
        .post(
            &format!("/api/v1/submissions/{}/review", v2["id"]),
            json!({"decision": "accept"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted["review"]["decision"], "accept");
    assert_eq!(accepted["payload"], json!({"n": 2}));
    let (status, _) = app
        .post(
            &format!("/api/v1/submissions/{}/review", v2["id"]),
            json!({"decision": "return"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "reviewed once");

    let (_, versions) = app
        .get(&format!(
            "/api/v1/deadlines/{}/submissions",
            v1["deadline_id"]
        ))
        .await;
    let numbers: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(versions["items"][0]["review"]["comment"], "Thiếu số liệu");
    // A page at a time, like every list.
    let (_, first) = app
        .get(&format!(
            "/api/v1/deadlines/{}/submissions?limit=1",
            v1["deadline_id"]
        ))
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let (_, rest) = app
        .get(&format!(
            "/api/v1/deadlines/{}/submissions?limit=1&cursor={}",
            v1["deadline_id"],
            first["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rest["items"][0]["version"], 2);
    assert!(rest.get("next_cursor").is_none(), "{rest}");
    let actions: Vec<String> = app
        .audit()
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .filter(|a| a.starts_with("submission."))
        .collect();
    assert_eq!(
        actions,
        [
            "submission.create",
            "submission.review",
            "submission.create",
            "submission.review"
        ]
    );
});

backend_test!(extension_reopens_and_waiver_exempts, |app| async move {
    let (past, _) = world(&app, None).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    let overdue = deadline(&app, "A", "2022").await;
    assert_eq!(overdue["status"], "overdue");
    let id = overdue["id"].as_i64().unwrap();
    let (status, problem) = app
        .post(
            &format!("/api/v1/deadlines/{id}/extension"),
            json!({"last_day": "2022-01-01", "reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/last_day"]);
    let (status, _) = as_token(
        &app,
        &reporter,
        Method::POST,
        &format!("/api/v1/deadlines/{id}/extension"),
        Some(json!({"last_day": "2040-01-01", "reason": "x"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a reporter cannot extend its own deadline"
    );
    let (status, extended) = app
        .post(
            &format!("/api/v1/deadlines/{id}/extension"),
            json!({"last_day": "2040-06-28", "reason": "Bão lũ"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    assert_eq!(extended["status"], "open");
    assert_eq!(extended["last_day"], "2040-06-28");
    assert_eq!(extended["due_at"], "2040-06-29T00:00:00+07:00");
    assert_eq!(extended["extension_reason"], "Bão lũ");
    let (_, receipt) = as_token(
        &app,
        &reporter,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": past, "period": "2022", "payload": {}})),
    )
    .await;
    assert_eq!(receipt["on_time"], true, "{receipt}");
    let (status, _) = app
        .post(
            &format!("/api/v1/deadlines/{id}/waiver"),
            json!({"reason": "late"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a filed deadline is not waived"
    );

    let b = deadline(&app, "B", "2022").await["id"].as_i64().unwrap();
    let (status, waived) = app
        .post(
            &format!("/api/v1/deadlines/{b}/waiver"),
            json!({"reason": "Sáp nhập"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(waived["status"], "waived");
    assert_eq!(waived["waiver_reason"], "Sáp nhập");
    let (status, _) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": past, "period": "2022", "unit": "B", "payload": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let audit = app.audit().await;
    let extension = audit
        .iter()
        .find(|e| e["action"] == "deadline.extension")
        .unwrap();
    assert_eq!(extension["before"]["status"], "overdue");
    assert_eq!(extension["after"]["status"], "open");
    assert!(audit.iter().any(|e| e["action"] == "deadline.waiver"
        && e["entity_id"].as_str() == Some(b.to_string().as_str())));
});

backend_test!(limits_and_revocation, |app| async move {
    let (_, future) = world(&app, None).await;
    let (status, issued) = app
        .post(
            "/api/v1/tokens",
            json!({"role": "reporter", "unit": "A", "name": "Văn thư A"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = issued["token"].as_str().unwrap().to_owned();
    let big = json!({"obligation_id": future, "period": "2030", "payload": {"text": "x".repeat(70 * 1024)}});
    let (status, _) = as_token(
        &app,
        &secret,
        Method::POST,
        "/api/v1/submissions",
        Some(big),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(deadline(&app, "A", "2030").await["status"], "open");

    let (status, own) = as_token(&app, &secret, Method::GET, "/api/v1/deadlines", None).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let (_, tokens) = app.get("/api/v1/tokens").await;
    let listed = &tokens["items"][0];
    assert!(listed.get("token").is_none(), "the secret is never listed");
    assert!(secret.starts_with(listed["prefix"].as_str().unwrap()));
    assert!(listed["last_used_at"].is_string(), "{listed}");

    let (status, revoked) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", issued["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = as_token(&app, &secret, Method::GET, "/api/v1/deadlines", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused at once"
    );
    let (status, problem) = app
        .post(
            "/api/v1/tokens",
            json!({"role": "reporter", "name": "no unit"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/unit"]);
});

backend_test!(failed_authentications_are_rate_limited, |app| async move {
    // The test server allows 5 failures a minute per address.
    for _ in 0..5 {
        let (status, _) = as_token(&app, "hb_wrong", Method::GET, "/api/v1/units", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .client
        .get(app.url("/api/v1/units"))
        .bearer_auth("hb_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // Even the right token waits: the address is blocked, not the token.
    let (status, _) = app.get("/api/v1/units").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
});

backend_test!(
    paper_reports_are_judged_on_their_arrival_day,
    |app| async move {
        let (past, _) = world(&app, None).await;
        let reporter = token(&app, "reporter", Some("A")).await;
        let paper = |unit: &str, extra: Value| {
            let mut body =
                json!({"obligation_id": past, "period": "2022", "unit": unit, "payload": {}});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let before = app.snapshot().await;
        let (status, problem) = as_token(
            &app,
            &reporter,
            Method::POST,
            "/api/v1/submissions",
            Some(
                json!({"obligation_id": past, "period": "2022", "payload": {},
                    "received_on": "2022-11-28", "document_ref": "12/SĐ"}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(pointers(&problem), ["/received_on", "/document_ref"]);
        let long = "x".repeat(101);
        for (extra, pointer) in [
            (json!({"received_on": "2099-01-01"}), "/received_on"),
            (json!({"received_on": "2021-12-31"}), "/received_on"),
            (json!({"document_ref": "12/SĐ"}), "/received_on"),
            (
                json!({"received_on": "2022-11-28", "document_ref": long}),
                "/document_ref",
            ),
            (json!({"received_on": "28/11/2022"}), "/received_on"),
        ] {
            let (status, problem) = app
                .post("/api/v1/submissions", paper("A", extra.clone()))
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{extra}: {problem}"
            );
            assert_eq!(pointers(&problem), [pointer], "{extra}: {problem}");
        }
        assert_eq!(
            app.snapshot().await,
            before,
            "a refused filing stored nothing"
        );

        // Entered in 2026, received on paper on 28/11/2022, two days before the last day (30/11/2022): on time.
        let (status, on_time) = app
            .post(
                "/api/v1/submissions",
                paper(
                    "A",
                    json!({"received_on": "2022-11-28", "document_ref": " 1234/SĐ-LĐTBXH "}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{on_time}");
        assert_eq!(on_time["on_time"], true);
        assert_eq!(on_time["lateness"], Value::Null);
        assert_eq!(on_time["received_on"], "2022-11-28");
        assert_eq!(on_time["document_ref"], "1234/SĐ-LĐTBXH");
        let d = deadline(&app, "A", "2022").await;
        assert_eq!(
            (&d["status"], &d["submitted_on"], &d["submitted_at"]),
            (
                &json!("submitted"),
                &json!("2022-11-28"),
                &json!("2022-11-28T00:00:00+07:00")
            )
        );
        // Received on Saturday 3/12/2022: three days after the last day.
        let (_, late) = app
            .post(
                "/api/v1/submissions",
                paper("B", json!({"received_on": "2022-12-03"})),
            )
            .await;
        assert_eq!(
            (&late["on_time"], &late["lateness"]),
            (&json!(false), &json!("P3D"))
        );
        assert_eq!(deadline(&app, "B", "2022").await["status"], "late");
        // The audit keeps both.
        let filed = app
            .audit()
            .await
            .into_iter()
            .find(|e| e["action"] == "submission.create" && e["after"]["unit"] == "A")
            .unwrap();
        assert_eq!(filed["after"]["document_ref"], "1234/SĐ-LĐTBXH");
        assert_eq!(filed["after"]["received_on"], "2022-11-28");
    }
);

backend_test!(
    no_letter_to_a_closed_unit_about_what_the_office_entered,
    |app| async move {
        let (past, _) = world(&app, None).await;
        // A, dissolved in 2025, files its 2022 report late, from paper; the office returns it.
        let (status, unit) = app
            .patch("/api/v1/units/A", json!({"valid_until": "2025-06-30"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{unit}");
        let file = |unit: &'static str| {
            json!({"obligation_id": past, "period": "2022", "unit": unit, "payload": {},
                   "received_on": "2022-11-28", "document_ref": "12/SĐ"})
        };
        let (status, closed) = app.post("/api/v1/submissions", file("A")).await;
        assert_eq!(status, StatusCode::CREATED, "{closed}");
        let (status, open) = app.post("/api/v1/submissions", file("B")).await;
        assert_eq!(status, StatusCode::CREATED, "{open}");
        for receipt in [&closed, &open] {
            let (status, _) = app
                .post(
                    &format!("/api/v1/submissions/{}/review", receipt["id"]),
                    json!({"decision": "return", "comment": "Thiếu số liệu"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        // A's own reporter, still there, files again: they get the receipt.
        let reporter = token(&app, "reporter", Some("A")).await;
        let (status, own) = as_token(
            &app,
            &reporter,
            Method::POST,
            "/api/v1/submissions",
            Some(json!({"obligation_id": past, "period": "2022", "payload": {}})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{own}");
        let (_, outbox) = app.get("/api/v1/outbox").await;
        let keys: Vec<&str> = outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["dedupe_key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                format!("receipt:{}", open["id"]),
                format!("returned:{}", open["id"]),
                format!("receipt:{}", own["id"]),
            ],
            "nothing about the office's entries goes to the closed unit"
        );
        // The record of the closed unit is whole: both versions.
        assert_eq!(own["version"], 2);
    }
);
