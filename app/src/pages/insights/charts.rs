//! The Insights tab's charts: SVG written on the server (this module is not in the
//! WebAssembly), so the console carries no chart library. Each chart is an `img` with a title
//! and a description that says what it shows in words; the page puts its numbers in a table
//! beside it. Colours are from the Okabe–Ito palette, told apart by readers with any common
//! colour-vision deficiency, and every series also differs by shape or position.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
/// Okabe–Ito blue, vermillion, bluish green, orange.
pub const BLUE: &str = "#0072B2";
pub const VERMILLION: &str = "#D55E00";
pub const GREEN: &str = "#009E73";
pub const ORANGE: &str = "#E69F00";
/// Axis text: dark enough for 4.5:1 on white.
const INK: &str = "#3d3d3d";
const GRID: &str = "#d9d9d9";

/// Text for an SVG text node or attribute.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A round step (1, 2, 5 × a power of ten) at least `at_least`.
fn nice_step(at_least: f64) -> f64 {
    if at_least <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(at_least.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|v| *v >= at_least).unwrap_or(10.0 * power)
}

/// The top of an axis with four gridlines at least `max`: each gridline a round number,
/// and whole numbers only (these are counts).
fn nice_max(max: f64) -> f64 {
    4.0 * nice_step(max / 4.0).max(1.0)
}

/// The opening of a chart: `id` makes its title and description IDs unique on the page.
fn open(id: &str, title: &str, description: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" class=\"chart\" font-size=\"11\" font-family=\"system-ui, sans-serif\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        esc(title),
        esc(description)
    )
}

/// Horizontal grid lines and their values, from `low` to `high`.
fn y_axis(svg: &mut String, low: f64, high: f64, y: impl Fn(f64) -> f64) {
    for i in 0..=4 {
        let v = low + (high - low) * f64::from(i) / 4.0;
        let at = y(v);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{at:.1}\" y2=\"{at:.1}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0,
            compact(v)
        );
    }
}

/// 1234 → "1.2k", 2500000 → "2.5M".
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3).replace(".0k", "k")
    } else {
        format!("{}", v.round() as i64)
    }
}

/// Labels under the x axis: at most about eight, evenly spread.
fn x_labels(svg: &mut String, labels: &[String], x: impl Fn(usize) -> f64) {
    let every = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(svg, "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>", x(i), HEIGHT - 8.0, esc(label));
    }
}

/// One line over the days (subscribers over time), its points marked.
pub fn line(id: &str, title: &str, description: &str, labels: &[String], values: &[i64]) -> String {
    let mut svg = open(id, title, description);
    let (min, max) = (values.iter().copied().min().unwrap_or(0), values.iter().copied().max().unwrap_or(0));
    let low = if min > 0 && (max - min) * 4 < max { (min as f64 * 0.9).floor() } else { 0.0 };
    let high = nice_max(max as f64).max(low + 1.0);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - (v - low) / (high - low) * plot_h;
    let step = if values.len() > 1 { (WIDTH - LEFT - RIGHT) / (values.len() - 1) as f64 } else { 0.0 };
    let x = |i: usize| LEFT + step * i as f64;
    y_axis(&mut svg, low, high, y);
    let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v as f64))).collect();
    let _ = write!(svg, "<polyline fill=\"none\" stroke=\"{BLUE}\" stroke-width=\"2.5\" points=\"{}\"/>", points.join(" "));
    if values.len() <= 31 {
        for (i, v) in values.iter().enumerate() {
            let _ = write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{BLUE}\"/>", x(i), y(*v as f64));
        }
    }
    x_labels(&mut svg, labels, x);
    svg.push_str("</svg>");
    svg
}

/// Gained above the axis and lost below it, per day: two colours and two directions.
pub fn gained_lost(id: &str, title: &str, description: &str, labels: &[String], gained: &[i64], lost: &[i64]) -> String {
    let mut svg = open(id, title, description);
    let high = nice_max(gained.iter().chain(lost).copied().max().unwrap_or(0) as f64);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h / 2.0 - v / high * (plot_h / 2.0);
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    y_axis(&mut svg, -high, high, y);
    let bar = (slot * 0.7).max(1.0);
    for (i, (g, l)) in gained.iter().zip(lost).enumerate() {
        let left = x(i) - bar / 2.0;
        if *g > 0 {
            let _ = write!(
                svg,
                "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{GREEN}\"/>",
                y(*g as f64),
                y(0.0) - y(*g as f64)
            );
        }
        if *l > 0 {
            let _ = write!(
                svg,
                "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{VERMILLION}\"/>",
                y(0.0),
                y(-(*l as f64)) - y(0.0)
            );
        }
    }
    let _ = write!(svg, "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{INK}\"/>", WIDTH - RIGHT, y(0.0), y(0.0));
    x_labels(&mut svg, labels, x);
    svg.push_str("</svg>");
    svg
}

/// One column per label (reads by hour).
pub fn columns(id: &str, title: &str, description: &str, labels: &[String], values: &[i64]) -> String {
    let mut svg = open(id, title, description);
    let high = nice_max(values.iter().copied().max().unwrap_or(0) as f64);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - v / high * plot_h;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    y_axis(&mut svg, 0.0, high, y);
    let bar = (slot * 0.75).max(1.0);
    for (i, v) in values.iter().enumerate().filter(|(_, v)| **v > 0) {
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{BLUE}\"/>",
            x(i) - bar / 2.0,
            y(*v as f64),
            y(0.0) - y(*v as f64)
        );
    }
    x_labels(&mut svg, labels, x);
    svg.push_str("</svg>");
    svg
}

/// Labelled horizontal bars (notification settings, sources), each with its number.
pub fn bars(id: &str, title: &str, description: &str, items: &[(String, i64)], colours: &[&str]) -> String {
    let rows = items.len().max(1) as f64;
    let height = TOP + rows * 30.0 + 8.0;
    let mut svg = open(id, title, description).replacen(&format!("0 0 {WIDTH} {HEIGHT}"), &format!("0 0 {WIDTH} {height}"), 1);
    let label_w = 170.0;
    let high = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let room = WIDTH - label_w - RIGHT - 60.0;
    for (i, (label, v)) in items.iter().enumerate() {
        let top = TOP + i as f64 * 30.0;
        let w = *v as f64 / high * room;
        let colour = colours.get(i % colours.len().max(1)).copied().unwrap_or(BLUE);
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\
             <rect x=\"{label_w}\" y=\"{top:.1}\" width=\"{w:.1}\" height=\"20\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">{}</text>",
            label_w - 8.0,
            top + 14.0,
            esc(label),
            label_w + w + 6.0,
            top + 14.0,
            compact(*v as f64)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_a_chart_cannot_open_markup() {
        let svg = bars("c", "<script>alert(1)</script>", "\"quoted\"", &[("link:<b>".into(), 3)], &[BLUE]);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;") && svg.contains("&quot;quoted&quot;"));
    }

    #[test]
    fn axes_round_up_and_numbers_are_compact() {
        assert_eq!((nice_max(0.0), nice_max(3.0), nice_max(7.0), nice_max(39.0), nice_max(480.0)), (4.0, 4.0, 8.0, 40.0, 800.0));
        assert_eq!(
            (compact(950.0), compact(1200.0), compact(25_000.0), compact(1_000_000.0)),
            ("950".into(), "1.2k".into(), "25k".into(), "1M".into())
        );
    }

    #[test]
    fn every_chart_is_an_image_named_by_its_title_and_description() {
        let labels: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        for svg in [
            line("a", "Subscribers", "from 1 to 3", &labels[..3], &[1, 2, 3]),
            gained_lost("b", "Gained and lost", "d", &labels[..3], &[1, 0, 2], &[0, 1, 0]),
            columns("c", "Reads by hour", "d", &labels, &[0; 24]),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(svg.contains("role=\"img\"") && svg.contains("aria-labelledby="), "{svg}");
        }
    }
}
