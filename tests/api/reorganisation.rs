//! The 2025 reorganisation, recipient side: Hà Nội's Department of Labour closed on 28/2/2025 and its poverty
//! work went to the Department of Agriculture and Environment; the districts ended on 30/6/2025. Plan 269's 2025
//! cycle, loaded before its deadline, goes to the wards that succeed the districts and to the successor
//! department — reminders, escalations, the letter to the department and its digest — and a split recipient is
//! the office's to choose, from a period on, without rewriting history.

use hanbao::service;
use hanbao::service::tick::TickReport;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{at, pointers};

/// (kind, unit, to, cc) of each notice.
fn sent(report: &TickReport) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let mut rows: Vec<_> = report
        .notices
        .iter()
        .map(|n| {
            (
                n.kind.to_owned(),
                n.unit.clone(),
                n.to.clone(),
                n.cc.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

backend_test!(
    hanoi_2025_goes_to_the_wards_and_the_successor_department,
    |app| async move {
        // Loaded on 1 June 2025: the department has closed (28/2), the districts have a month left.
        let loaded = at("2025-06-01T09:00:00+07:00");
        // The demo records the department's succession (units.md) and gives each district one successor from
        // 1/7/2025, labelled as an assumption (the seeds do not name the 126 new units).
        app.with_conn(move |c| {
            service::demo::load(c, loaded).unwrap();
        })
        .await;

        // The obligation says who receives from when, and its 2025 cycle is served.
        let (_, obligation) = app.get("/api/v1/obligations/1").await;
        assert_eq!(
            obligation["recipients"],
            json!([{"from": null, "recipient": "HN-SLDTBXH"}, {"from": "2025-03-01", "recipient": "HN-SNNMT"}]),
            "{obligation}"
        );
        let codes: Vec<&str> = obligation["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert!(
            !codes.contains(&"no_recipient") && !codes.contains(&"no_reporter"),
            "{obligation}"
        );
        let (_, cycle) = app.get("/api/v1/deadlines?obligation=1&period=2025").await;
        let units: Vec<&str> = cycle["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["unit"].as_str().unwrap())
            .collect();
        assert_eq!(units.len(), 30);
        assert!(units.iter().all(|u| u.starts_with("HN-X-")), "{units:?}");

        // 1/12/2025 is a Monday: last day 1/12, due 2/12 00:00. P14D on Tuesday 18/11: the wards are reminded.
        let reminders = app.tick("2025-11-18T08:00:00+07:00").await;
        // (Monday's digests are caught up at the same time: only the departments still open get one.)
        let (digests, reminders): (Vec<_>, Vec<_>) =
            sent(&reminders).into_iter().partition(|n| n.0 == "digest");
        let digested: Vec<&str> = digests.iter().map(|n| n.1.as_str()).collect();
        assert_eq!(digested, ["HN-SNNMT"], "no digest to a closed department");
        assert_eq!(reminders.len(), 30);
        assert!(reminders.contains(&(
            "reminder".into(),
            "HN-X-BADINH".into(),
            vec!["baocao.hn-x-badinh@example.gov.vn".into()],
            vec![]
        )));
        app.tick("2025-12-02T08:00:00+07:00").await;
        // The second step copies the successor department, not the closed one.
        let second = app.tick("2025-12-05T08:00:00+07:00").await;
        let department = vec![
            "baocao.hn-snnmt@example.gov.vn".to_owned(),
            "lanhdao.hn-snnmt@example.gov.vn".to_owned(),
        ];
        assert!(
            sent(&second).iter().all(|n| n.3 == department),
            "{:?}",
            sent(&second)
        );
        // Monday 8/12: the successor department's digest lists the 30 overdue 2025 reports, and only them: the
        // closed department's 2022-2024 history stays its own.
        let digest = app.tick("2025-12-08T08:00:00+07:00").await;
        let to_department = digest
            .notices
            .iter()
            .find(|n| n.kind == "digest" && n.unit == "HN-SNNMT")
            .unwrap_or_else(|| panic!("{digest:?}"));
        assert!(
            to_department.subject.contains(": 30 quá hạn,"),
            "{}",
            to_department.subject
        );
        // Step 3 on Tuesday 9/12: one letter to the successor department listing the 30 late units, signed by
        // the successor department too (the plan's coordinating department was dissolved).
        let third = app.tick("2025-12-09T08:00:00+07:00").await;
        assert_eq!(third.notices.len(), 30);
        assert!(third.notices.iter().all(|n| n.to == department));
        assert_eq!(
            third.notices[0].subject,
            "30 đơn vị chưa gửi Báo cáo kết quả thực hiện công tác truyền thông giảm nghèo năm 2025"
        );
        let signed: Vec<Option<String>> = app
            .with_conn(|c| {
                hanbao::store::outbox::emails(c, None, None, 10_000)
                    .unwrap()
                    .into_iter()
                    .filter(|e| e.dedupe_key.starts_with("overdue_list:"))
                    .map(|e| e.sender_name)
                    .collect()
            })
            .await;
        assert_eq!(
            signed,
            [Some("Sở Nông nghiệp và Môi trường Hà Nội".to_owned())]
        );

        // Nobody closed was written to by the ticks.
        let (_, outbox) = app.get("/api/v1/outbox?limit=1000").await;
        for email in outbox["items"].as_array().unwrap() {
            // What the demo itself queued on loading, before the units closed.
            if email["created_at"]
                .as_str()
                .unwrap()
                .starts_with("2025-06-01")
            {
                continue;
            }
            let all = format!("{} {}", email["to"], email["cc"]);
            for closed in ["hn-sldtbxh", "hn-badinh@", "hn-hoankiem@"] {
                assert!(!all.contains(closed), "{email}");
            }
        }
    }
);

backend_test!(
    a_split_recipient_is_the_offices_to_choose,
    |app| async move {
        for (code, name) in [("R", "Sở cũ"), ("R1", "Sở A"), ("R2", "Sở B")] {
            app.create_unit(json!({"code": code, "name": name, "kind": "department"}))
                .await;
        }
        app.create_unit(json!({"code": "U", "name": "UBND U", "kind": "district"}))
            .await;
        let (_, plan) = app
            .post(
                "/api/v1/plans",
                json!({"number": "9/KH", "title": "Plan", "coordinator": "R",
                   "starts_on": "2029-01-01", "ends_on": "2031-12-31"}),
            )
            .await;
        let (status, obligation) = app.post(&format!("/api/v1/plans/{}/obligations", plan["id"]), json!({
        "title": "Báo cáo năm", "recipient": "R", "reporters": {"units": ["U"]},
        "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}
    })).await;
        assert_eq!(status, StatusCode::CREATED, "{obligation}");
        let id = obligation["id"].as_i64().unwrap();
        // R's work goes to two departments on 1/6/2030.
        let (status, body) = app
            .post(
                "/api/v1/units/R/succession",
                json!({"successors": ["R1", "R2"], "on": "2030-06-01", "kind": "split"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, read) = app.get(&format!("/api/v1/obligations/{id}")).await;
        let split: Vec<(&str, &str)> = read["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["code"] == "recipient_split")
            .map(|w| (w["period"].as_str().unwrap(), w["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            split,
            [("2030", "recipient_split"), ("2031", "recipient_split")],
            "{read}"
        );
        assert_eq!(read["recipients"][1]["split_into"], json!(["R1", "R2"]));

        // A recipient chosen from a period on: refused without one, with a bad period, or a period of another type.
        let before = app.snapshot().await;
        for (body, pointer) in [
            (json!({"from_period": "2030"}), "/from_period"),
            (
                json!({"recipient": "R1", "from_period": "20x0"}),
                "/from_period",
            ),
            (
                json!({"recipient": "R1", "from_period": "203007"}),
                "/from_period",
            ),
            (
                json!({"recipient": "NOPE", "from_period": "2030"}),
                "/recipient",
            ),
        ] {
            let (status, problem) = app
                .patch(&format!("/api/v1/obligations/{id}"), body.clone())
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {problem}"
            );
            assert_eq!(pointers(&problem), [pointer], "{body}: {problem}");
        }
        assert_eq!(
            app.snapshot().await,
            before,
            "refused changes store nothing"
        );

        let (status, chosen) = app
            .patch(
                &format!("/api/v1/obligations/{id}"),
                json!({"recipient": "R1", "from_period": "2030"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{chosen}");
        assert!(
            !chosen["warnings"].to_string().contains("recipient_split"),
            "{chosen}"
        );
        assert_eq!(chosen["recipient"], "R", "the plan's named recipient stays");
        let spans: Vec<(Value, Value)> = chosen["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["from"].clone(), s["recipient"].clone()))
            .collect();
        assert_eq!(
            spans,
            [
                (Value::Null, json!("R")),
                (json!("2030-06-01"), Value::Null),
                (json!("2030-12-02"), json!("R1"))
            ],
            "2029 stays R's; from the 2030 cycle's last day on, R1 receives"
        );
        let (_, audit) = app.get("/api/v1/audit?entity=obligation").await;
        assert!(audit["items"].as_array().unwrap().len() >= 2);
    }
);
