//! `hanbao demo`: the seed plans as a working data set (units, plans, obligations, one campaign).
//!
//! Sources: shared/seeds (Hà Nội plan 269/KH-UBND §V.5, the Biên Hòa letter, the Cao Bằng and Thừa Thiên Huế
//! plans). Everything goes through the ordinary use cases, so it is validated and audited like API input.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::units::NewUnit;
use super::{deadlines, obligations, plans, units, Actor, ServiceError, ServiceResult};
use crate::domain::unit::{Contacts, UnitKind};
use crate::store::{self, AnyConnection};

/// Hà Nội's 30 district-level units valid until 30/6/2025: (code suffix, name, kind word).
const HANOI_DISTRICTS: [(&str, &str, &str); 30] = [
    ("BADINH", "Ba Đình", "quận"),
    ("HOANKIEM", "Hoàn Kiếm", "quận"),
    ("TAYHO", "Tây Hồ", "quận"),
    ("LONGBIEN", "Long Biên", "quận"),
    ("CAUGIAY", "Cầu Giấy", "quận"),
    ("DONGDA", "Đống Đa", "quận"),
    ("HAIBATRUNG", "Hai Bà Trưng", "quận"),
    ("HOANGMAI", "Hoàng Mai", "quận"),
    ("THANHXUAN", "Thanh Xuân", "quận"),
    ("NAMTULIEM", "Nam Từ Liêm", "quận"),
    ("BACTULIEM", "Bắc Từ Liêm", "quận"),
    ("HADONG", "Hà Đông", "quận"),
    ("SOCSON", "Sóc Sơn", "huyện"),
    ("DONGANH", "Đông Anh", "huyện"),
    ("GIALAM", "Gia Lâm", "huyện"),
    ("THANHTRI", "Thanh Trì", "huyện"),
    ("MELINH", "Mê Linh", "huyện"),
    ("BAVI", "Ba Vì", "huyện"),
    ("PHUCTHO", "Phúc Thọ", "huyện"),
    ("DANPHUONG", "Đan Phượng", "huyện"),
    ("HOAIDUC", "Hoài Đức", "huyện"),
    ("QUOCOAI", "Quốc Oai", "huyện"),
    ("THACHTHAT", "Thạch Thất", "huyện"),
    ("CHUONGMY", "Chương Mỹ", "huyện"),
    ("THANHOAI", "Thanh Oai", "huyện"),
    ("THUONGTIN", "Thường Tín", "huyện"),
    ("PHUXUYEN", "Phú Xuyên", "huyện"),
    ("UNGHOA", "Ứng Hòa", "huyện"),
    ("MYDUC", "Mỹ Đức", "huyện"),
    ("SONTAY", "Sơn Tây", "thị xã"),
];

/// Biên Hòa's 25 wards and communes in early 2025 (units.md: check against official lists before relying on them).
const BIENHOA_WARDS: [(&str, &str, &str); 25] = [
    ("ANBINH", "An Bình", "phường"),
    ("ANHOA", "An Hòa", "phường"),
    ("BINHDA", "Bình Đa", "phường"),
    ("BUUHOA", "Bửu Hòa", "phường"),
    ("BUULONG", "Bửu Long", "phường"),
    ("HIEPHOA", "Hiệp Hòa", "phường"),
    ("HOAAN", "Hóa An", "phường"),
    ("HONAI", "Hố Nai", "phường"),
    ("LONGBINH", "Long Bình", "phường"),
    ("LONGBINHTAN", "Long Bình Tân", "phường"),
    ("PHUOCTAN", "Phước Tân", "phường"),
    ("QUANGVINH", "Quang Vinh", "phường"),
    ("TAMHIEP", "Tam Hiệp", "phường"),
    ("TAMPHUOC", "Tam Phước", "phường"),
    ("TANBIEN", "Tân Biên", "phường"),
    ("TANHANH", "Tân Hạnh", "phường"),
    ("TANHIEP", "Tân Hiệp", "phường"),
    ("TANHOA", "Tân Hòa", "phường"),
    ("TANMAI", "Tân Mai", "phường"),
    ("TANPHONG", "Tân Phong", "phường"),
    ("TANVAN", "Tân Vạn", "phường"),
    ("THONGNHAT", "Thống Nhất", "phường"),
    ("TRANGDAI", "Trảng Dài", "phường"),
    ("TRUNGDUNG", "Trung Dũng", "phường"),
    ("LONGHUNG", "Long Hưng", "xã"),
];

/// Thừa Thiên Huế's district-level units before 2025.
const HUE_DISTRICTS: [(&str, &str, &str); 9] = [
    ("HUE", "Huế", "thành phố"),
    ("HUONGTHUY", "Hương Thủy", "thị xã"),
    ("HUONGTRA", "Hương Trà", "thị xã"),
    ("PHONGDIEN", "Phong Điền", "huyện"),
    ("QUANGDIEN", "Quảng Điền", "huyện"),
    ("PHUVANG", "Phú Vang", "huyện"),
    ("PHULOC", "Phú Lộc", "huyện"),
    ("ALUOI", "A Lưới", "huyện"),
    ("NAMDONG", "Nam Đông", "huyện"),
];

/// Cao Bằng's district-level units before 2025.
const CAOBANG_DISTRICTS: [(&str, &str, &str); 10] = [
    ("CAOBANG", "Cao Bằng", "thành phố"),
    ("BAOLAM", "Bảo Lâm", "huyện"),
    ("BAOLAC", "Bảo Lạc", "huyện"),
    ("HAQUANG", "Hà Quảng", "huyện"),
    ("TRUNGKHANH", "Trùng Khánh", "huyện"),
    ("HALANG", "Hạ Lang", "huyện"),
    ("QUANGHOA", "Quảng Hòa", "huyện"),
    ("HOAAN", "Hòa An", "huyện"),
    ("NGUYENBINH", "Nguyên Bình", "huyện"),
    ("THACHAN", "Thạch An", "huyện"),
];

/// What `hanbao demo` loaded.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub units: usize,
    pub plans: usize,
    pub obligations: usize,
    pub deadlines: usize,
    /// Sample reports filed (illustrative, labelled so).
    pub submissions: usize,
}

struct Loader<'a> {
    conn: &'a mut AnyConnection,
    actor: Actor,
    now: DateTime<Utc>,
    report: DemoReport,
}

impl Loader<'_> {
    fn unit(
        &mut self,
        code: &str,
        name: &str,
        kind: UnitKind,
        parent: Option<&str>,
        until: Option<&str>,
    ) -> ServiceResult<()> {
        let slug = code.to_lowercase();
        let input = NewUnit {
            code: code.into(),
            name: name.into(),
            kind,
            parent: parent.map(Into::into),
            time_zone: None,
            language: None,
            contacts: Some(Contacts {
                reporters: vec![format!("baocao.{slug}@example.gov.vn")],
                heads: vec![format!("lanhdao.{slug}@example.gov.vn")],
            }),
            valid_from: None,
            valid_until: until.map(|d| d.parse().expect("demo dates are valid")),
            // The seed documents give no address or phone number: the demo invents none.
            address: None,
            phone: None,
            email: None,
        };
        units::create(
            self.conn,
            &self.actor,
            self.now,
            chrono_tz::Asia::Ho_Chi_Minh,
            input,
        )?;
        self.report.units += 1;
        Ok(())
    }

    fn plan(&mut self, body: serde_json::Value) -> ServiceResult<i64> {
        let input: plans::NewPlan =
            serde_json::from_value(body).expect("demo plans are well-formed");
        let plan = plans::create(self.conn, &self.actor, self.now, input)?;
        self.report.plans += 1;
        Ok(plan.id)
    }

    fn obligation(&mut self, plan_id: i64, body: serde_json::Value) -> ServiceResult<i64> {
        let input: obligations::NewObligation =
            serde_json::from_value(body).expect("demo obligations are well-formed");
        let obligation = obligations::create(self.conn, &self.actor, self.now, plan_id, input)?;
        self.report.obligations += 1;
        self.report.deadlines += obligation.materialised.map_or(0, |m| m.created);
        Ok(obligation.id)
    }
}

/// Loads the demo data set; refuses (409) when it is already there.
pub fn load(conn: &mut AnyConnection, now: DateTime<Utc>) -> ServiceResult<DemoReport> {
    if store::units::find_by_code(conn, "HN")?.is_some() {
        return Err(ServiceError::Conflict {
            message: "the demo data is already loaded (unit HN exists)".into(),
            pointer: None,
        });
    }
    store::transaction(conn, |conn| {
        let mut l = Loader {
            conn,
            actor: Actor::operator("demo"),
            now,
            report: DemoReport::default(),
        };
        hanoi(&mut l)?;
        bien_hoa(&mut l, now)?;
        provincial_plans(&mut l)?;
        Ok(l.report)
    })
}

fn hanoi(l: &mut Loader<'_>) -> ServiceResult<()> {
    use UnitKind::*;
    l.unit("HN", "UBND Thành phố Hà Nội", Province, None, None)?;
    l.unit(
        "HN-SLDTBXH",
        "Sở Lao động - Thương binh và Xã hội Hà Nội",
        Department,
        Some("HN"),
        Some("2025-02-28"),
    )?;
    l.unit(
        "HN-SNNMT",
        "Sở Nông nghiệp và Môi trường Hà Nội",
        Department,
        Some("HN"),
        None,
    )?;
    for (suffix, name, word) in HANOI_DISTRICTS {
        l.unit(
            &format!("HN-{suffix}"),
            &format!("UBND {word} {name}"),
            District,
            Some("HN"),
            Some("2025-06-30"),
        )?;
    }
    // units.md: "the Department of Labour's poverty-reduction work moved on 1/3/2025 to the Department of
    // Agriculture and Environment": the reports of plan 269 from then on go there.
    let input: super::succession::SuccessionInput = serde_json::from_value(
        json!({"successors": ["HN-SNNMT"], "on": "2025-03-01", "kind": "merge"}),
    )
    .expect("a well-formed succession");
    super::succession::succeed(l.conn, &l.actor, l.now, "HN-SLDTBXH", input)?;
    let plan = l.plan(json!({
        "number": "269/KH-UBND",
        "title": "Kế hoạch truyền thông, thông tin, tuyên truyền về công tác giảm nghèo thành phố Hà Nội giai đoạn 2022-2025",
        "issuer": "HN", "coordinator": "HN-SLDTBXH", "issued_on": "2022-10-18",
        "starts_on": "2022-01-01", "ends_on": "2025-12-31",
        "text": "V.5. UBND các quận, huyện, thị xã: … Trước ngày 01 tháng 12 hàng năm, báo cáo kết quả gửi Sở Lao động - Thương binh và Xã hội để tổng hợp chung, báo cáo Ủy ban nhân dân Thành phố, Bộ Lao động - Thương binh và Xã hội theo quy định."
    }))?;
    let obligation = l.obligation(plan, json!({
        "title": "Báo cáo kết quả thực hiện công tác truyền thông giảm nghèo",
        "wording": "Trước ngày 01 tháng 12 hàng năm, báo cáo kết quả gửi Sở Lao động - Thương binh và Xã hội để tổng hợp chung, báo cáo Ủy ban nhân dân Thành phố, Bộ Lao động - Thương binh và Xã hội theo quy định.",
        "notes": "Mục V.5 của Kế hoạch 269/KH-UBND. Biểu mẫu báo cáo (số hoạt động, tóm tắt) là giả định minh họa: Kế hoạch không quy định mẫu.",
        "recipient": "HN-SLDTBXH",
        "reporters": {"group": {"parent": "HN", "kinds": ["district"]}},
        "schedule": {"period_type": "yearly", "cutoff": "calendar",
                     "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"},
                     "shift": "next_working_day", "starts_on": "2022-01-01", "ends_on": "2025-12-31", "calendar": "vn"},
        "form": {"type": "object", "required": ["activities"],
                 "properties": {"activities": {"type": "integer", "minimum": 0, "title": "Số hoạt động truyền thông"},
                                "summary": {"type": "string", "title": "Tóm tắt kết quả"}}}
    }))?;
    sample_reports(l, obligation)?;
    districts_to_communes(l)?;
    Ok(())
}

/// On 1/7/2025 the districts were abolished and Hà Nội reorganised into 126 commune-level units (units.md). The
/// seeds name none of them, and the real map is many-to-many; the demo gives each district one successor,
/// labelled as an assumption in its name, so that the 2025 cycle of plan 269 has someone to report.
fn districts_to_communes(l: &mut Loader<'_>) -> ServiceResult<()> {
    for (suffix, name, word) in HANOI_DISTRICTS {
        let code = format!("HN-X-{suffix}");
        let slug = code.to_lowercase();
        let input = NewUnit {
            code: code.clone(),
            name: format!("UBND cấp xã kế thừa {word} {name} (giả định minh họa)"),
            kind: UnitKind::Commune,
            parent: Some("HN".into()),
            time_zone: None,
            language: None,
            contacts: Some(Contacts {
                reporters: vec![format!("baocao.{slug}@example.gov.vn")],
                heads: vec![format!("lanhdao.{slug}@example.gov.vn")],
            }),
            valid_from: Some("2025-07-01".parse().expect("a valid date")),
            valid_until: None,
            address: None,
            phone: None,
            email: None,
        };
        units::create(l.conn, &l.actor, l.now, chrono_tz::Asia::Ho_Chi_Minh, input)?;
        l.report.units += 1;
        let succession: super::succession::SuccessionInput = serde_json::from_value(
            json!({"successors": [code], "on": "2025-07-01", "kind": "rename"}),
        )
        .expect("a well-formed succession");
        let done = super::succession::succeed(
            l.conn,
            &l.actor,
            l.now,
            &format!("HN-{suffix}"),
            succession,
        )?;
        l.report.deadlines += done.deadlines_created;
    }
    Ok(())
}

/// A few reports of the Hà Nội districts, entered as paper reports with their arrival day, so that the demo
/// shows a realistic picture (on time, late, returned) rather than every past deadline overdue. None of them
/// comes from the seed documents: each says so in its note. Only days already past at loading are used.
fn sample_reports(l: &mut Loader<'_>, obligation: i64) -> ServiceResult<()> {
    const NOTE: &str = "Dữ liệu minh họa (giả định): báo cáo bản giấy nhập để xem thử, không lấy từ văn bản nguồn.";
    let today = l
        .now
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    // (district, period, arrival day, incoming number, returned for revision with this comment)
    let reports: [(&str, &str, &str, &str, Option<&str>); 8] = [
        ("HN-BADINH", "2022", "2022-11-25", "MH-2022/01", None),
        ("HN-HOANKIEM", "2022", "2022-11-29", "MH-2022/02", None),
        ("HN-TAYHO", "2022", "2022-12-06", "MH-2022/03", None),
        ("HN-BADINH", "2023", "2023-11-27", "MH-2023/01", None),
        ("HN-CAUGIAY", "2023", "2023-12-04", "MH-2023/02", None),
        ("HN-BADINH", "2024", "2024-11-28", "MH-2024/01", None),
        ("HN-DONGDA", "2024", "2024-12-02", "MH-2024/02", None),
        (
            "HN-HOANKIEM",
            "2024",
            "2024-11-29",
            "MH-2024/03",
            Some("Đề nghị bổ sung số liệu về các hoạt động truyền thông tại cơ sở (minh họa)."),
        ),
    ];
    for (unit, period, arrived, number, returned) in reports {
        let arrived: chrono::NaiveDate = arrived.parse().expect("a valid date");
        if arrived > today {
            continue;
        }
        let input: super::submissions::NewSubmissionInput = serde_json::from_value(json!({
            "obligation_id": obligation, "period": period, "unit": unit,
            "payload": {"activities": 12, "summary": "Số liệu minh họa."},
            "note": NOTE, "received_on": arrived, "document_ref": number,
        }))
        .expect("demo submissions are well-formed");
        let filed = super::submissions::submit(l.conn, &l.actor, l.now, input, None)?;
        if let Some(comment) = returned {
            let id = filed.body["id"].as_i64().unwrap_or_default();
            let review = super::submissions::ReviewInput {
                decision: crate::store::states::ReviewDecision::Return,
                comment: Some(comment.to_owned()),
            };
            super::submissions::review(l.conn, &l.actor, l.now, id, review)?;
        }
        l.report.submissions += 1;
    }
    Ok(())
}

fn bien_hoa(l: &mut Loader<'_>, now: DateTime<Utc>) -> ServiceResult<()> {
    use UnitKind::*;
    l.unit("DN", "UBND tỉnh Đồng Nai", Province, None, None)?;
    l.unit(
        "DN-BIENHOA",
        "UBND thành phố Biên Hòa",
        District,
        Some("DN"),
        Some("2025-06-30"),
    )?;
    l.unit(
        "DN-BIENHOA-PVHTT",
        "Phòng Văn hóa và Thông tin thành phố Biên Hòa",
        Office,
        Some("DN-BIENHOA"),
        Some("2025-06-30"),
    )?;
    l.unit(
        "DN-BIENHOA-TTVHTT",
        "Trung tâm Văn hóa - Thể thao - Truyền thanh thành phố Biên Hòa",
        Agency,
        Some("DN-BIENHOA"),
        Some("2025-06-30"),
    )?;
    l.unit(
        "DN-BIENHOA-WEB",
        "Ban biên tập Trang thông tin điện tử thành phố Biên Hòa",
        Agency,
        Some("DN-BIENHOA"),
        Some("2025-06-30"),
    )?;
    let mut reporters = vec!["DN-BIENHOA-TTVHTT".to_owned(), "DN-BIENHOA-WEB".to_owned()];
    for (suffix, name, word) in BIENHOA_WARDS {
        let code = format!("DN-BH-{suffix}");
        l.unit(
            &code,
            &format!("UBND {word} {name}"),
            Commune,
            Some("DN-BIENHOA"),
            Some("2025-06-30"),
        )?;
        reporters.push(code);
    }
    let plan = l.plan(json!({
        "number": "…/PVHTT (2025)",
        "title": "V/v truyền thông Chương trình mục tiêu quốc gia giảm nghèo trên địa bàn thành phố Biên Hoà năm 2025",
        "issuer": "DN-BIENHOA-PVHTT", "coordinator": "DN-BIENHOA-PVHTT",
        "starts_on": "2025-02-04", "ends_on": "2025-06-30",
        "text": "Trung tâm VH-TT-TT/TP, Ban biên tập Trang thông tin điện tử thành phố, UBND 25 phường, xã triển khai, thực hiện công tác tuyên truyền, có báo cáo kết quả về Phòng Văn hoá và Thông tin thành phố sau đợt tuyên truyền."
    }))?;
    let obligation = l.obligation(plan, json!({
        "title": "Báo cáo kết quả tuyên truyền giảm nghèo",
        "wording": "Trung tâm VH-TT-TT/TP, Ban biên tập Trang thông tin điện tử thành phố, UBND 25 phường, xã triển khai, thực hiện công tác tuyên truyền, có báo cáo kết quả về Phòng Văn hoá và Thông tin thành phố sau đợt tuyên truyền.",
        "notes": "Giả định minh họa: văn bản chỉ ghi \"sau đợt tuyên truyền\", không nêu số ngày, và không ghi số, ngày ban hành; hạn 5 ngày làm việc sau khi đợt kết thúc, hiệu lực từ 04/02/2025 (ngày của Kế hoạch 14/KH-PLĐTBXH được viện dẫn) và đợt tuyên truyền kết thúc ngày 31/3/2025 là giả định của dữ liệu mẫu.",
        "recipient": "DN-BIENHOA-PVHTT",
        "reporters": {"units": reporters},
        "schedule": {"period_type": "event", "due": {"rule": "after_event", "days": 5, "working_days": true}, "calendar": "vn"}
    }))?;
    let event = deadlines::create_event(
        l.conn,
        &l.actor,
        now,
        deadlines::NewEventInput {
            obligation_id: obligation,
            name: "đợt tháng 3/2025".into(),
            ended_on: "2025-03-31".parse().expect("a valid date"),
            units: None,
        },
    )?;
    l.report.deadlines += event.deadlines;
    Ok(())
}

/// A provincial plan of the seeds, with what the demo assumes where it is silent.
struct Provincial {
    province: &'static str,
    name: &'static str,
    districts: &'static [(&'static str, &'static str, &'static str)],
    number: &'static str,
    issued: Option<&'static str>,
    starts: &'static str,
    department: &'static str,
    /// The plan's own words of the obligation, when the seed has them.
    wording: Option<&'static str>,
    notes: &'static str,
}

fn provincial_plans(l: &mut Loader<'_>) -> ServiceResult<()> {
    use UnitKind::*;
    let plans = [
        Provincial {
            province: "CB",
            name: "UBND tỉnh Cao Bằng",
            districts: &CAOBANG_DISTRICTS[..],
            number: "2278/KH-UBND",
            issued: Some("2022-08-31"),
            starts: "2022-08-31",
            department: "Sở Lao động - Thương binh và Xã hội tỉnh Cao Bằng",
            wording: None,
            notes: "Giả định minh họa: Kế hoạch 2278/KH-UBND (31/8/2022) không nêu hạn báo cáo của cấp huyện; \"chậm nhất ngày 31 tháng 01 hàng năm\", từ năm 2023, là giả định của dữ liệu mẫu.",
        },
        Provincial {
            province: "TTH",
            name: "UBND tỉnh Thừa Thiên Huế",
            districts: &HUE_DISTRICTS[..],
            number: "440/KH-UBND",
            issued: None,
            starts: "2024-12-22",
            department: "Sở Lao động - Thương binh và Xã hội tỉnh Thừa Thiên Huế",
            wording: Some("100% các huyện, thị xã, thành phố xây dựng kế hoạch truyền thông về giảm nghèo bền vững giai đoạn 2021-2025 và hàng năm."),
            notes: "Giả định minh họa: nguồn không ghi ngày ban hành Kế hoạch 440/KH-UBND; bản tin ngày 22/12/2024 đưa tin kế hoạch đã ban hành, nên dữ liệu mẫu coi kế hoạch có hiệu lực từ ngày đó. Kế hoạch không nêu hạn; \"chậm nhất ngày 31 tháng 01 hàng năm\" là giả định.",
        },
    ];
    for Provincial {
        province,
        name,
        districts,
        number,
        issued,
        starts,
        department,
        wording,
        notes,
    } in plans
    {
        l.unit(province, name, Province, None, None)?;
        let dept = format!("{province}-SLDTBXH");
        l.unit(
            &dept,
            department,
            Department,
            Some(province),
            Some("2025-02-28"),
        )?;
        for (suffix, district, word) in districts {
            l.unit(
                &format!("{province}-{suffix}"),
                &format!("UBND {word} {district}"),
                District,
                Some(province),
                Some("2025-06-30"),
            )?;
        }
        // The first plan a district submits is for the year after the provincial plan starts.
        let first_year = starts[..4].parse::<i32>().expect("a year") + 1;
        let plan = l.plan(json!({
            "number": number,
            "title": format!("Kế hoạch truyền thông về giảm nghèo bền vững giai đoạn 2021-2025 ({name})"),
            "issuer": province, "coordinator": dept, "issued_on": issued,
            "starts_on": starts, "ends_on": "2025-12-31"
        }))?;
        l.obligation(plan, json!({
            "title": "Kế hoạch truyền thông giảm nghèo của cấp huyện",
            "wording": wording, "notes": notes,
            "recipient": dept,
            "reporters": {"group": {"parent": province, "kinds": ["district"]}},
            "schedule": {"period_type": "yearly",
                         "due": {"rule": "fixed_date", "month": 1, "day": 31, "phrase": "no_later_than"},
                         "starts_on": format!("{}-01-01", first_year), "calendar": "vn"}
        }))?;
    }
    Ok(())
}
