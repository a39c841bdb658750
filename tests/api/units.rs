//! Units: create, read, list with filters and pages, update, audit.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_test;
use crate::helpers::pointers;

backend_test!(create_read_and_defaults, |app| async move {
    app.seed_hanoi().await;
    let (status, unit) = app.get("/api/v1/units/HN-BADINH").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unit["code"], "HN-BADINH");
    assert_eq!(unit["name"], "UBND quận Ba Đình");
    assert_eq!(unit["kind"], "district");
    assert_eq!(unit["parent"], "HN");
    // Zone and language come from the server default through the parent.
    assert_eq!(unit["time_zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(unit["language"], "vi");
    assert_eq!(unit["valid_from"], serde_json::Value::Null);
    assert_eq!(unit["valid_until"], "2025-06-30");
    assert_eq!(
        unit["contacts"]["reporters"],
        json!(["baocao@hn-badinh.hanoi.gov.vn"])
    );

    // A child inherits its parent's zone unless it names one.
    app.create_unit(json!({"code": "NY", "name": "New York office", "kind": "office", "time_zone": "America/New_York", "language": "en"})).await;
    let child = app
        .create_unit(json!({"code": "NY-1", "name": "Desk 1", "kind": "other", "parent": "NY"}))
        .await;
    assert_eq!(child["time_zone"], "America/New_York");
    assert_eq!(child["language"], "en");
});

backend_test!(create_answers_201_with_location, |app| async move {
    let response = app
        .request(reqwest::Method::POST, "/api/v1/units")
        .json(&json!({"code": "DN", "name": "UBND tỉnh Đồng Nai", "kind": "province"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/api/v1/units/DN");
});

backend_test!(list_filters_and_pages, |app| async move {
    app.seed_hanoi().await;
    let codes = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, page) = app.get("/api/v1/units?parent=HN&kind=district").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&page), ["HN-BADINH", "HN-SOCSON"]);
    assert!(page.get("next_cursor").is_none());

    // Districts ended on 30 June 2025; the department on 28 February 2025.
    let (_, page) = app.get("/api/v1/units?parent=HN&valid_on=2025-03-01").await;
    assert_eq!(codes(&page), ["HN-BADINH", "HN-SOCSON"]);
    let (_, page) = app.get("/api/v1/units?parent=HN&valid_on=2025-07-01").await;
    assert!(codes(&page).is_empty());

    // Pages of two: 4 units → 2 pages, the cursor leads from the first to the second.
    let (_, first) = app.get("/api/v1/units?limit=2").await;
    assert_eq!(codes(&first), ["HN", "HN-SLDTBXH"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, second) = app
        .get(&format!("/api/v1/units?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(codes(&second), ["HN-BADINH", "HN-SOCSON"]);
    assert!(second.get("next_cursor").is_none(), "{second}");

    // Bad filters are field errors, not empty lists.
    let (status, problem) = app
        .get("/api/v1/units?kind=distrct&parent=NOPE&limit=0")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, ["/kind", "/limit", "/parent"]);
    let (status, problem) = app.get("/api/v1/units?valid_on=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/valid_on"]);
});

backend_test!(
    update_changes_only_what_is_sent_and_is_audited,
    |app| async move {
        app.seed_hanoi().await;
        let (_, before) = app.get("/api/v1/units/HN-SOCSON").await;
        let (status, after) = app
        .patch(
            "/api/v1/units/HN-SOCSON",
            json!({"name": "UBND huyện Sóc Sơn (cũ)", "contacts": {"reporters": ["a@socson.vn"], "heads": ["b@socson.vn"]}, "valid_until": null}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{after}");
        assert_eq!(after["name"], "UBND huyện Sóc Sơn (cũ)");
        assert_eq!(after["contacts"]["heads"], json!(["b@socson.vn"]));
        assert_eq!(after["valid_until"], serde_json::Value::Null);
        assert_eq!(after["parent"], "HN", "absent fields stay");
        assert_eq!(after["created_at"], before["created_at"]);

        // `parent: null` detaches; a parent that is the unit's own descendant is refused.
        let (status, problem) = app
            .patch("/api/v1/units/HN", json!({"parent": "HN-SOCSON"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(pointers(&problem), ["/parent"]);
        let (status, detached) = app
            .patch("/api/v1/units/HN-SOCSON", json!({"parent": null}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detached["parent"], serde_json::Value::Null);

        let (status, problem) = app
            .patch("/api/v1/units/HN-SOCSON", json!({"code": "HN-SS"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&problem), ["/code"]);

        let audit = app.audit().await;
        let updates: Vec<_> = audit
            .iter()
            .filter(|e| e["action"] == "unit.update")
            .collect();
        assert_eq!(updates.len(), 2, "{audit:?}");
        assert_eq!(updates[0]["entity_id"], "HN-SOCSON");
        assert_eq!(updates[0]["actor"], "admin (bootstrap token)");
        assert_eq!(updates[0]["before"]["name"], "UBND huyện Sóc Sơn");
        assert_eq!(updates[0]["after"]["name"], "UBND huyện Sóc Sơn (cũ)");
        let creates = audit
            .iter()
            .filter(|e| e["action"] == "unit.create")
            .count();
        assert_eq!(creates, 4);
        assert!(audit
            .iter()
            .all(|e| e["at"].as_str().is_some_and(|t| t.ends_with('Z'))));

        let (status, page) = app
            .get("/api/v1/audit?entity=unit&entity_id=HN-SOCSON")
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
    }
);

backend_test!(unknown_unit_is_404, |app| async move {
    let (status, problem) = app.get("/api/v1/units/NOWHERE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404);
    assert!(problem["detail"].as_str().unwrap().contains("NOWHERE"));
    let (status, _) = app
        .patch("/api/v1/units/NOWHERE", json!({"name": "x"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});
