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
    let plan = l.plan(json!({
        "number": "269/KH-UBND",
        "title": "Kế hoạch thực hiện Dự án truyền thông và giảm nghèo về thông tin thuộc Chương trình mục tiêu quốc gia giảm nghèo bền vững giai đoạn 2022-2025 trên địa bàn Thành phố Hà Nội",
        "issuer": "HN", "coordinator": "HN-SLDTBXH", "issued_on": "2022-10-18",
        "starts_on": "2022-01-01", "ends_on": "2025-12-31",
        "text": "V.5. UBND các quận, huyện, thị xã: … Trước ngày 01 tháng 12 hàng năm, báo cáo kết quả gửi Sở Lao động - Thương binh và Xã hội để tổng hợp chung, báo cáo Ủy ban nhân dân Thành phố, Bộ Lao động - Thương binh và Xã hội theo quy định."
    }))?;
    l.obligation(plan, json!({
        "title": "Báo cáo kết quả thực hiện công tác truyền thông giảm nghèo hàng năm",
        "recipient": "HN-SLDTBXH",
        "reporters": {"group": {"parent": "HN", "kinds": ["district"]}},
        "schedule": {"period_type": "yearly", "cutoff": "calendar",
                     "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"},
                     "shift": "next_working_day", "starts_on": "2022-01-01", "ends_on": "2025-12-31", "calendar": "vn"},
        "form": {"type": "object", "required": ["activities"],
                 "properties": {"activities": {"type": "integer", "minimum": 0}, "summary": {"type": "string"}}}
    }))?;
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
        "number": "PVHTT (2025)",
        "title": "Tuyên truyền Chương trình mục tiêu quốc gia giảm nghèo bền vững năm 2025 trên địa bàn thành phố Biên Hòa",
        "issuer": "DN-BIENHOA-PVHTT", "coordinator": "DN-BIENHOA-PVHTT",
        "starts_on": "2025-02-04", "ends_on": "2025-06-30",
        "text": "Trung tâm VH-TT-TT/TP, Ban biên tập Trang thông tin điện tử thành phố, UBND 25 phường, xã triển khai, thực hiện công tác tuyên truyền, có báo cáo kết quả về Phòng Văn hoá và Thông tin thành phố sau đợt tuyên truyền."
    }))?;
    // The letter says "after each campaign" without a count of days; 5 working days is the demo's assumption.
    let obligation = l.obligation(plan, json!({
        "title": "Báo cáo kết quả sau đợt tuyên truyền",
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
            name: "Đợt tuyên truyền giảm nghèo tháng 3/2025".into(),
            ended_on: "2025-03-31".parse().expect("a valid date"),
            units: None,
        },
    )?;
    l.report.deadlines += event.deadlines;
    Ok(())
}

fn provincial_plans(l: &mut Loader<'_>) -> ServiceResult<()> {
    use UnitKind::*;
    for (province, name, districts, number, issued, starts, department) in [
        (
            "CB",
            "UBND tỉnh Cao Bằng",
            &CAOBANG_DISTRICTS[..],
            "2278/KH-UBND",
            Some("2022-08-31"),
            "2022-08-31",
            "Sở Lao động - Thương binh và Xã hội tỉnh Cao Bằng",
        ),
        (
            "TTH",
            "UBND tỉnh Thừa Thiên Huế",
            &HUE_DISTRICTS[..],
            "440/KH-UBND",
            None,
            "2021-01-01",
            "Sở Lao động - Thương binh và Xã hội tỉnh Thừa Thiên Huế",
        ),
    ] {
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
        // The first plan a district submits is for the year after the provincial plan is issued.
        let first_year = issued.map_or(2021, |d: &str| d[..4].parse::<i32>().expect("a year") + 1);
        let plan = l.plan(json!({
            "number": number,
            "title": format!("Kế hoạch truyền thông về giảm nghèo bền vững giai đoạn {}-2025 ({name})", &starts[..4]),
            "issuer": province, "coordinator": dept, "issued_on": issued,
            "starts_on": starts, "ends_on": "2025-12-31"
        }))?;
        // "100% các huyện, thị xã, thành phố xây dựng kế hoạch truyền thông … hàng năm": the plans name no day;
        // "chậm nhất ngày 31 tháng 01 hàng năm" is the demo's assumption.
        l.obligation(plan, json!({
            "title": "Kế hoạch truyền thông giảm nghèo hàng năm của cấp huyện",
            "recipient": dept,
            "reporters": {"group": {"parent": province, "kinds": ["district"]}},
            "schedule": {"period_type": "yearly",
                         "due": {"rule": "fixed_date", "month": 1, "day": 31, "phrase": "no_later_than"},
                         "starts_on": format!("{}-01-01", first_year), "calendar": "vn"}
        }))?;
    }
    Ok(())
}
