//! Plans: create, read, list, update, audit, and their field errors.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{pointers, TestApp};

fn plan_269() -> Value {
    json!({
        "number": "269/KH-UBND",
        "title": "Kế hoạch thực hiện công tác truyền thông về giảm nghèo bền vững giai đoạn 2022-2025",
        "issuer": "HN",
        "coordinator": "HN-SLDTBXH",
        "issued_on": "2022-10-18",
        "starts_on": "2022-01-01",
        "ends_on": "2025-12-31",
        "text": "Trước ngày 01 tháng 12 hàng năm, báo cáo kết quả thực hiện về Sở Lao động - Thương binh và Xã hội"
    })
}

async fn create_plan(app: &TestApp, body: Value) -> Value {
    let (status, plan) = app.post("/api/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    plan
}

backend_test!(create_read_list_update, |app| async move {
    app.seed_hanoi().await;
    let plan = create_plan(&app, plan_269()).await;
    let id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["issuer"], "HN");
    assert_eq!(plan["coordinator"], "HN-SLDTBXH");
    assert_eq!(plan["starts_on"], "2022-01-01");
    assert_eq!(plan["source_url"], Value::Null);

    let (status, read) = app.get(&format!("/api/v1/plans/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, plan);

    app.create_unit(json!({"code": "CB", "name": "UBND tỉnh Cao Bằng", "kind": "province"}))
        .await;
    let cao_bang = create_plan(
        &app,
        json!({"number": "2278/KH-UBND", "title": "Kế hoạch truyền thông giảm nghèo Cao Bằng", "issuer": "CB",
               "coordinator": "CB", "issued_on": "2022-08-31", "starts_on": "2022-08-31", "ends_on": "2025-12-31",
               "source_url": "https://caobang.gov.vn/"}),
    )
    .await;

    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        numbers(&app.get("/api/v1/plans").await.1),
        ["269/KH-UBND", "2278/KH-UBND"]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/plans?coordinator=CB").await.1),
        ["2278/KH-UBND"]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/plans?issuer=HN").await.1),
        ["269/KH-UBND"]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/plans?active_on=2022-03-01").await.1),
        ["269/KH-UBND"]
    );
    assert!(numbers(&app.get("/api/v1/plans?active_on=2026-01-01").await.1).is_empty());
    let (_, first) = app.get("/api/v1/plans?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        numbers(
            &app.get(&format!("/api/v1/plans?limit=1&cursor={cursor}"))
                .await
                .1
        ),
        ["2278/KH-UBND"]
    );

    let cb_id = cao_bang["id"].as_i64().unwrap();
    let (status, updated) = app
        .patch(
            &format!("/api/v1/plans/{cb_id}"),
            json!({"ends_on": "2025-06-30", "source_url": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["ends_on"], "2025-06-30");
    assert_eq!(updated["source_url"], Value::Null);
    assert_eq!(updated["title"], cao_bang["title"]);

    let audit = app.audit().await;
    let plan_entries: Vec<(String, String)> = audit
        .iter()
        .filter(|e| e["entity"] == "plan")
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["entity_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        plan_entries,
        [
            ("plan.create".to_owned(), id.to_string()),
            ("plan.create".to_owned(), cb_id.to_string()),
            ("plan.update".to_owned(), cb_id.to_string())
        ]
    );
    let update = audit.iter().find(|e| e["action"] == "plan.update").unwrap();
    assert_eq!(update["before"]["ends_on"], "2025-12-31");
    assert_eq!(update["after"]["ends_on"], "2025-06-30");
});

backend_test!(plan_field_errors_and_conflicts, |app| async move {
    app.seed_hanoi().await;
    create_plan(&app, plan_269()).await;
    let before = app.snapshot().await;
    let with = |key: &str, value: Value| {
        let mut body = plan_269();
        body[key] = value;
        body
    };
    let cases: Vec<(Value, StatusCode, Vec<&str>)> = vec![
        (
            with("coordinator", json!("NOPE")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/coordinator"],
        ),
        (
            with("issuer", json!("NOPE")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/issuer"],
        ),
        (
            with("ends_on", json!("2021-12-31")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/ends_on"],
        ),
        (
            with("starts_on", json!("01/01/2022")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/starts_on"],
        ),
        (
            with("source_url", json!("ftp://x")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/source_url"],
        ),
        (
            with("number", json!("  ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/number"],
        ),
        (
            with("priority", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["/priority"],
        ),
        (plan_269(), StatusCode::CONFLICT, vec!["/number"]),
    ];
    for (body, status, expected) in cases {
        let (got, problem) = app.post("/api/v1/plans", body).await;
        assert_eq!(got, status, "{problem}");
        assert_eq!(pointers(&problem), expected, "{problem}");
    }
    let (status, problem) = app
        .patch("/api/v1/plans/1", json!({"starts_on": "2026-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/ends_on"]);
    let (status, _) = app.patch("/api/v1/plans/999", json!({"title": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused request changed stored data"
    );
});

backend_test!(
    concurrent_creates_of_one_plan_number_make_one_plan,
    |app| async move {
        app.seed_hanoi().await;
        // Eight creates at once of the same number: the database's unique index decides, whatever the timing.
        // Plans without an issuer share one namespace too.
        for issuer in [json!("HN"), Value::Null] {
            let mut body = plan_269();
            body["issuer"] = issuer.clone();
            let calls = (0..8).map(|_| app.post("/api/v1/plans", body.clone()));
            let answers = futures_util::future::join_all(calls).await;
            let created = answers
                .iter()
                .filter(|(s, _)| *s == StatusCode::CREATED)
                .count();
            assert_eq!(created, 1, "{issuer}: {answers:?}");
            for (status, problem) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
                assert_eq!(*status, StatusCode::CONFLICT, "{problem}");
                assert_eq!(pointers(problem), ["/number"], "{problem}");
            }
        }
        let (_, list) = app.get("/api/v1/plans").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    }
);
