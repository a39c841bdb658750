//! A small bar chart of on-time rates drawn by the server as SVG (`../shared/UX.md` §3): no script, and no
//! `style` attribute either (the pages' Content-Security-Policy allows no inline style) — presentation attributes
//! only. Every bar carries its percentage as text, never colour alone, and the picture has `role="img"` with a
//! label that reads every value, so a screen reader hears the numbers a sighted reader sees.

/// One bar: its label under it ("2024", "09/2024") and the rate, if anything was expected.
pub struct Bar {
    pub label: String,
    pub rate: Option<f64>,
}

const WIDTH: u32 = 60;
const TOP: u32 = 16;
const HEIGHT: u32 = 48;

fn percent(en: bool, rate: f64) -> String {
    let text = format!("{:.0}%", rate * 100.0);
    if en {
        text
    } else {
        text.replace('.', ",")
    }
}

/// The chart, or nothing when there is no bar. `title` names what is measured ("Tỷ lệ nộp đúng hạn").
pub fn on_time(en: bool, title: &str, bars: &[Bar]) -> Option<String> {
    if bars.is_empty() {
        return None;
    }
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let width = WIDTH * u32::try_from(bars.len()).unwrap_or(1) + 8;
    let base = TOP + HEIGHT;
    let spoken: Vec<String> = bars
        .iter()
        .map(|b| {
            let value = b.rate.map_or_else(
                || {
                    if en {
                        "nothing expected".into()
                    } else {
                        "không có hạn nộp".into()
                    }
                },
                |r| percent(en, r),
            );
            format!("{} {value}", b.label)
        })
        .collect();
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\" \
         aria-label=\"{}: {}\" xmlns=\"http://www.w3.org/2000/svg\">",
        base + 22,
        base + 22,
        escape(title),
        escape(&spoken.join("; ")),
    );
    svg.push_str(&format!(
        "<line x1=\"4\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#555d66\" stroke-width=\"1\"/>",
        width - 4
    ));
    for (i, bar) in bars.iter().enumerate() {
        let x = 8 + WIDTH * u32::try_from(i).unwrap_or(0);
        let middle = x + (WIDTH - 12) / 2;
        if let Some(rate) = bar.rate {
            let h = (rate.clamp(0.0, 1.0) * f64::from(HEIGHT)).round() as u32;
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"#1d4f91\"/>",
                base - h,
                WIDTH - 12
            ));
        }
        let value = bar.rate.map_or_else(|| "–".to_owned(), |r| percent(en, r));
        let y =
            base - bar.rate.map_or(0, |r| {
                (r.clamp(0.0, 1.0) * f64::from(HEIGHT)).round() as u32
            }) - 4;
        svg.push_str(&format!(
            "<text x=\"{middle}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1b1f24\">{value}</text>\
             <text x=\"{middle}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#1b1f24\">{}</text>",
            base + 15,
            escape(&bar.label)
        ));
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// A period id as a bar's label: "2024", "09/2024", "Quý 3/2024" / "Q3 2024", "6T đầu/2024" / "H1 2024",
/// "Tuần 7/2024" / "W7 2024".
pub fn short_period(en: bool, period: &str) -> String {
    use crate::domain::Period;
    match (period.parse::<Period>(), en) {
        (Ok(Period::Year(y)), _) => y.to_string(),
        (Ok(Period::Month(y, m)), _) => format!("{m:02}/{y}"),
        (Ok(Period::SixMonth(y, 1)), false) => format!("6T đầu/{y}"),
        (Ok(Period::SixMonth(y, _)), false) => format!("6T cuối/{y}"),
        (Ok(Period::SixMonth(y, h)), true) => format!("H{h} {y}"),
        (Ok(Period::Quarter(y, q)), false) => format!("Quý {q}/{y}"),
        (Ok(Period::Quarter(y, q)), true) => format!("Q{q} {y}"),
        (Ok(Period::Week(y, w)), false) => format!("Tuần {w}/{y}"),
        (Ok(Period::Week(y, w)), true) => format!("W{w} {y}"),
        _ => period.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_values_in_text_and_in_the_label() {
        let svg = on_time(
            false,
            "Tỷ lệ nộp đúng hạn",
            &[
                Bar {
                    label: "2024".into(),
                    rate: Some(0.5),
                },
                Bar {
                    label: "2025".into(),
                    rate: None,
                },
                Bar {
                    label: "<x>".into(),
                    rate: Some(1.0),
                },
            ],
        )
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"Tỷ lệ nộp đúng hạn: 2024 50%; 2025 không có hạn nộp; &lt;x&gt; 100%\""), "{svg}");
        assert!(
            svg.contains(">50%</text>") && svg.contains(">–</text>"),
            "{svg}"
        );
        assert_eq!(
            svg.matches("<rect").count(),
            2,
            "no bar where nothing was expected"
        );
        assert!(!svg.contains("style="), "the CSP allows no inline style");
        assert!(on_time(true, "x", &[]).is_none());
        assert_eq!(short_period(false, "202409"), "09/2024");
        assert_eq!(short_period(false, "2024Q3"), "Quý 3/2024");
        assert_eq!(short_period(true, "2024Q3"), "Q3 2024");
    }
}
