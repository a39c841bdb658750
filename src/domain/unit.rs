//! Units (đơn vị): their codes, kinds, contacts and validity, and the checks every unit must pass.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::FieldError;

/// What level or sort of organisation a unit is; reporter groups select units by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Province or centrally-run city (tỉnh, thành phố trực thuộc trung ương).
    Province,
    /// Provincial department (sở) or ministry-level body.
    Department,
    /// District level: quận, huyện, thị xã, provincial city (until 30 June 2025).
    District,
    /// Commune level: xã, phường, thị trấn, đặc khu.
    Commune,
    /// An office inside a People's Committee (phòng), e.g. a Culture & Information Office.
    Office,
    /// Another public body: a centre, a portal, a school.
    Agency,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        Self::Province,
        Self::Department,
        Self::District,
        Self::Commune,
        Self::Office,
        Self::Agency,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Department => "department",
            Self::District => "district",
            Self::Commune => "commune",
            Self::Office => "office",
            Self::Agency => "agency",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The officers to write to: `reporters` file the reports, `heads` are the first escalation target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    #[serde(default)]
    pub reporters: Vec<String>,
    #[serde(default)]
    pub heads: Vec<String>,
}

impl Contacts {
    /// Reporters then heads, each address once: everybody to write to about the unit as a whole.
    pub fn everyone(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for address in self.reporters.iter().chain(&self.heads) {
            if !all.contains(address) {
                all.push(address.clone());
            }
        }
        all
    }
}

/// Languages that templates exist for.
pub const LANGUAGES: [&str; 2] = ["vi", "en"];

/// A unit code is used in URLs and reporter lists: letters, digits, `.`, `_`, `-`, at most 64.
pub fn check_code(pointer: &str, code: &str) -> Option<FieldError> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    (!ok).then(|| {
        FieldError::new(
            pointer,
            "must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    })
}

/// An address the mailer will take at send time: lettre's own parsers (`Address`, and the `Mailbox` that the
/// transport builds each recipient with) both accept it as a bare address, and it has a dot in its domain
/// (hanbao writes to offices on the internet or an intranet, not to `root@localhost`). Checking at input with
/// the sender's parser means an address the API accepted is never refused by the transport later.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let parsed = s.parse::<lettre::Address>().is_ok()
        && s.parse::<lettre::message::Mailbox>()
            .is_ok_and(|m| m.name.is_none() && m.email.to_string() == s);
    parsed
        && !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        // No empty label: also no "..", and no leading or trailing dot.
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && !domain.contains('@')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && s.len() <= 254
}

pub fn check_contacts(pointer: &str, contacts: &Contacts) -> Vec<FieldError> {
    let lists = [
        ("reporters", &contacts.reporters),
        ("heads", &contacts.heads),
    ];
    lists
        .into_iter()
        .flat_map(|(name, list)| {
            list.iter()
                .enumerate()
                .filter(|(_, a)| !is_email(a))
                .map(move |(i, a)| {
                    FieldError::new(
                        format!("{pointer}/{name}/{i}"),
                        format!("`{a}` is not an email address"),
                    )
                })
        })
        .collect()
}

pub fn check_validity(
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
) -> Option<FieldError> {
    match (valid_from, valid_until) {
        (Some(from), Some(until)) if until < from => Some(FieldError::new(
            "/valid_until",
            "must not be before valid_from",
        )),
        _ => None,
    }
}

/// Whether a unit with this validity exists on `day` (both ends inclusive; open ends are unbounded).
pub fn is_valid_on(
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    day: NaiveDate,
) -> bool {
    valid_from.is_none_or(|f| f <= day) && valid_until.is_none_or(|u| day <= u)
}

pub fn check_name(pointer: &str, name: &str) -> Option<FieldError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        Some(FieldError::new(pointer, "must not be empty"))
    } else if trimmed.chars().count() > 300 {
        Some(FieldError::new(pointer, "must be at most 300 characters"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(check_code("/code", "HN-BADINH").is_none());
        assert!(check_code("/code", "dn.bienhoa_01").is_none());
        for bad in ["", "-HN", "HN BADINH", "HN/1", "Hà-Nội", &"x".repeat(65)] {
            assert!(check_code("/code", bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails() {
        for good in [
            "vanphong@badinh.hanoi.gov.vn",
            "nguyen.van.a@ldtbxh.hanoi.gov.vn",
            "van_thu+baocao@ubnd-badinh.vn",
        ] {
            assert!(is_email(good), "{good:?} refused");
            // What the transport will do with it at send time.
            assert!(good.parse::<lettre::message::Mailbox>().is_ok());
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.vn",
            "a@.vn",
            "a b@c.vn",
            "a@b.vn;c@d.vn",
            "a@b@c.vn",
            // Refused by the SMTP transport at send time in the fault campaign (issue 11).
            ".a@example.vn",
            "a.@example.vn",
            "a..b@example.vn",
            "a@b..vn",
            "a@-b.vn",
            "a(b)@example.vn",
            "a@b.vn:25",
            "Văn thư <a@b.vn>",
            "a@b.vn\n",
        ] {
            assert!(!is_email(bad), "{bad:?} accepted");
        }
        let errors = check_contacts(
            "/contacts",
            &Contacts {
                reporters: vec!["ok@x.vn".into(), "nope".into()],
                heads: vec!["bad".into()],
            },
        );
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/contacts/reporters/1", "/contacts/heads/0"]);
    }

    #[test]
    fn validity_is_inclusive() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(is_valid_on(None, Some(d("2025-06-30")), d("2025-06-30")));
        assert!(!is_valid_on(None, Some(d("2025-06-30")), d("2025-07-01")));
        assert!(!is_valid_on(Some(d("2025-07-01")), None, d("2025-06-30")));
        assert!(check_validity(Some(d("2025-07-01")), Some(d("2025-06-30"))).is_some());
    }

    #[test]
    fn kinds_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(UnitKind::parse("distrct"), None);
    }
}
