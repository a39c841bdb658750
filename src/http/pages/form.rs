//! The filing form, generated from an obligation's JSON Schema (`../shared/UX.md` §2.6): each top-level field
//! becomes a labelled control (`title` the label, `description` the hint), what the user typed is read
//! leniently ("1.250" and "1 250" are 1250) and checked with messages built from the field's title, not the
//! validator's; the filing use case then checks the whole report again, as for the API.

use serde_json::{Map, Number, Value};

/// What kind of control a field gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Text { multiline: bool },
    Integer,
    Number,
    Choice(Vec<String>),
    YesNo,
    TextList,
}

/// One field of the form.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub title: String,
    pub hint: Option<String>,
    pub kind: Kind,
    pub required: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub max_length: Option<u64>,
}

/// Rows of a list of texts offered at once (a page without JavaScript cannot add rows).
pub const LIST_ROWS: usize = 5;

/// The fields of a form (a JSON Schema object), by name; none without a form.
pub fn fields(form: Option<&Value>) -> Vec<Field> {
    let Some(form) = form else {
        return Vec::new();
    };
    let required: Vec<&str> = form
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = form.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, schema)| {
            let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_owned);
            let number = |key: &str| schema.get(key).and_then(Value::as_f64);
            let max_length = schema.get("maxLength").and_then(Value::as_u64);
            let kind = match (
                schema.get("type").and_then(Value::as_str),
                schema.get("enum").and_then(Value::as_array),
            ) {
                (_, Some(options)) => Kind::Choice(
                    options
                        .iter()
                        .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                        .collect(),
                ),
                (Some("integer"), _) => Kind::Integer,
                (Some("number"), _) => Kind::Number,
                (Some("boolean"), _) => Kind::YesNo,
                (Some("array"), _) => Kind::TextList,
                _ => Kind::Text {
                    multiline: max_length.is_none_or(|m| m > 200),
                },
            };
            Field {
                name: name.clone(),
                title: text("title").unwrap_or_else(|| name.clone()),
                hint: text("description"),
                kind,
                required: required.contains(&name.as_str()),
                minimum: number("minimum"),
                maximum: number("maximum"),
                max_length,
            }
        })
        .collect()
}

/// A field's problem, in the page's language.
#[derive(Debug, Clone)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// Reads what was typed (`pairs`: the posted form, a list field's rows as `name` repeated) into a report, and
/// the problems found: a required field left empty, a number that is not one, out of its bounds, a text too
/// long, a choice not offered.
pub fn read(fields: &[Field], pairs: &[(String, String)], english: bool) -> (Value, Vec<Problem>) {
    let mut payload = Map::new();
    let mut problems = Vec::new();
    for field in fields {
        let given: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == field.name)
            .map(|(_, v)| v.trim())
            .collect();
        let first = given.first().copied().unwrap_or("");
        let mut problem = |vi: String, en: String| {
            problems.push(Problem {
                field: field.name.clone(),
                message: if english { en } else { vi },
            });
        };
        let title = &field.title;
        match &field.kind {
            Kind::TextList => {
                let items: Vec<Value> = given
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String((*v).to_owned()))
                    .collect();
                if items.is_empty() && field.required {
                    problem(format!("Nhập {}", lower(title)), format!("Enter {title}"));
                } else if !items.is_empty() {
                    payload.insert(field.name.clone(), Value::Array(items));
                }
                continue;
            }
            _ if first.is_empty() => {
                if field.required {
                    match field.kind {
                        Kind::Choice(_) | Kind::YesNo => {
                            problem(format!("Chọn {}", lower(title)), format!("Choose {title}"))
                        }
                        _ => problem(format!("Nhập {}", lower(title)), format!("Enter {title}")),
                    }
                }
                continue;
            }
            _ => {}
        }
        let value = match &field.kind {
            Kind::Integer => match integer(first) {
                Some(n) => Value::Number(n.into()),
                None => {
                    problem(
                        format!("{title} phải là số nguyên, ví dụ 1250"),
                        format!("{title} must be a whole number, such as 1250"),
                    );
                    continue;
                }
            },
            Kind::Number => match decimal(first).and_then(Number::from_f64) {
                Some(n) => Value::Number(n),
                None => {
                    problem(
                        format!("{title} phải là số, ví dụ 12,5"),
                        format!("{title} must be a number, such as 12.5"),
                    );
                    continue;
                }
            },
            Kind::YesNo => Value::Bool(first == "true"),
            Kind::Choice(options) => {
                if !options.iter().any(|o| o == first) {
                    problem(format!("Chọn {}", lower(title)), format!("Choose {title}"));
                    continue;
                }
                Value::String(first.to_owned())
            }
            Kind::Text { .. } => {
                if let Some(max) = field.max_length {
                    if first.chars().count() as u64 > max {
                        problem(
                            format!("{title} không quá {max} ký tự"),
                            format!("{title} must be {max} characters or fewer"),
                        );
                        continue;
                    }
                }
                Value::String(first.to_owned())
            }
            Kind::TextList => continue,
        };
        if let Some(n) = value.as_f64() {
            if let Some(min) = field.minimum.filter(|min| n < *min) {
                problem(
                    format!("{title} phải từ {} trở lên", plain(min)),
                    format!("{title} must be {} or more", plain(min)),
                );
                continue;
            }
            if let Some(max) = field.maximum.filter(|max| n > *max) {
                problem(
                    format!("{title} không được lớn hơn {}", plain(max)),
                    format!("{title} must be {} or less", plain(max)),
                );
                continue;
            }
        }
        payload.insert(field.name.clone(), value);
    }
    (Value::Object(payload), problems)
}

/// "1.250", "1 250", "1250" → 1250; a decimal point or comma followed by other than three digits is not an
/// integer.
fn integer(text: &str) -> Option<i64> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let negative = cleaned.starts_with('-');
    let digits = cleaned.trim_start_matches('-');
    // Thousands separators: groups of three after the first.
    let groups: Vec<&str> = digits.split(['.', ',']).collect();
    if groups.is_empty()
        || groups
            .iter()
            .any(|g| g.is_empty() || !g.chars().all(|c| c.is_ascii_digit()))
        || groups.iter().skip(1).any(|g| g.len() != 3)
    {
        return None;
    }
    let n: i64 = groups.concat().parse().ok()?;
    Some(if negative { -n } else { n })
}

/// "12,5" or "12.5" → 12.5 (one decimal separator; thousands separators are not read here).
fn decimal(text: &str) -> Option<f64> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.matches([',', '.']).count() > 1 {
        return integer(&cleaned).map(|n| n as f64);
    }
    cleaned.replace(',', ".").parse().ok()
}

fn plain(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A title as the object of "Nhập …": its first letter lowered (“Nhập số hoạt động”).
fn lower(title: &str) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a field shows when the form is shown again: the raw text typed, or a stored value written out.
pub fn shown(value: Option<&Value>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(other) => vec![other.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_leniently_and_strictly() {
        assert_eq!(integer("1250"), Some(1250));
        assert_eq!(integer("1.250"), Some(1250));
        assert_eq!(integer("1 250"), Some(1250));
        assert_eq!(integer("1,250,000"), Some(1_250_000));
        assert_eq!(integer("12,5"), None, "not thousands: ambiguous");
        assert_eq!(integer("abc"), None);
        assert_eq!(decimal("12,5"), Some(12.5));
        assert_eq!(decimal("12.5"), Some(12.5));
    }

    #[test]
    fn problems_are_built_from_titles() {
        let form = json!({"type": "object", "required": ["so"], "properties": {
            "so": {"type": "integer", "title": "Số hoạt động", "minimum": 0, "maximum": 500},
            "ghi_chu": {"type": "string", "title": "Ghi chú", "maxLength": 5},
            "loai": {"enum": ["a", "b"], "title": "Loại"},
            "ds": {"type": "array", "items": {"type": "string"}, "title": "Danh sách"}
        }});
        let fields = fields(Some(&form));
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (_, problems) = read(&fields, &pairs(&[("so", "")]), false);
        assert_eq!(problems[0].message, "Nhập số hoạt động");
        let (_, problems) = read(
            &fields,
            &pairs(&[("so", "501"), ("ghi_chu", "dài quá")]),
            false,
        );
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        // In the form's order, as its author wrote it (serde_json's `preserve_order`), not by name.
        assert_eq!(
            messages,
            [
                "Số hoạt động không được lớn hơn 500",
                "Ghi chú không quá 5 ký tự"
            ]
        );
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["so", "ghi_chu", "loai", "ds"]);
        let (payload, problems) = read(
            &fields,
            &pairs(&[
                ("so", "1.250"),
                ("loai", "b"),
                ("ds", "x"),
                ("ds", ""),
                ("ds", "y"),
            ]),
            false,
        );
        assert_eq!(problems.len(), 1, "1250 > 500");
        assert_eq!(payload["loai"], "b");
        assert_eq!(payload["ds"], json!(["x", "y"]));
        let (_, problems) = read(&fields, &pairs(&[("so", "12,5")]), true);
        assert_eq!(
            problems[0].message,
            "Số hoạt động must be a whole number, such as 1250"
        );
    }
}
