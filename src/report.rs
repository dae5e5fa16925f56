//! The HTML report of `refmatch eval --report`: one self-contained file (inline CSS and
//! SVG, no script, no external resource) with the counts at the config's threshold, the
//! precision-recall curve, the threshold sweep and the worst false positives and false
//! negatives with their evidence. It only renders what `cmd::eval` gathered: it knows
//! nothing of files, matching or the database, and the same input gives the same bytes
//! (no timestamps, no elapsed time, fixed number formats). The numbers carry stable ids
//! and data attributes (`id="m-tp" data-value="135"`, `data-document-id` on each case) so
//! scripts and tests can read them back without parsing prose.

use std::fmt::{self, Display, Write};

use crate::evaluate::{Confusion, Report, SweepPoint};
use crate::matcher::{Evidence, FieldEvidence};

/// What was evaluated, as the report names it.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub reference: String,
    pub documents: String,
    pub config: String,
    pub truth: String,
    /// Every row scored (`--exhaustive`) rather than the index's candidates.
    pub exhaustive: bool,
}

/// One mapping of the config, for the columns of the evidence tables.
#[derive(Clone, Debug)]
pub struct MappingView {
    pub name: String,
    pub source: String,
    pub target: String,
    pub weight: f64,
}

/// A reference row as one case shows it: its values and its evidence for the document.
#[derive(Clone, Debug)]
pub struct RowView {
    pub id: String,
    pub confidence: f64,
    /// `(column, value)` of every reference column.
    pub values: Vec<(String, String)>,
    /// Evidence as the API shows it: `{mapping name: {strategy, score, ...}}`.
    pub evidence: Evidence,
}

/// A document the matcher got wrong.
#[derive(Clone, Debug)]
pub struct Case {
    pub document_id: String,
    /// The document's value for each mapping's source, in config order.
    pub values: Vec<Option<String>>,
    /// The best candidate, if the matcher found any.
    pub top: Option<RowView>,
    /// Whether `top` reached the threshold (otherwise nothing was predicted).
    pub predicted: bool,
    /// The true row, when the document has one.
    pub true_row: Option<RowView>,
}

/// Everything the report shows.
#[derive(Clone, Debug)]
pub struct HtmlReport<'a> {
    pub inputs: Inputs,
    pub report: &'a Report,
    /// The 101 thresholds 0.00..=1.00.
    pub sweep: &'a [SweepPoint],
    pub confusion: Confusion,
    pub mappings: Vec<MappingView>,
    /// Highest confidence first.
    pub false_positives: Vec<Case>,
    /// Lowest confidence of the true row first.
    pub false_negatives: Vec<Case>,
    /// How many of each kind there are in all (the lists may be cut).
    pub false_positives_total: u64,
    pub false_negatives_total: u64,
}

/// Text escaped for HTML content and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// The plotting area of a chart: data in 0..1 on both axes, y growing upwards.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Plot {
    const CHART: Plot = Plot {
        left: 56.0,
        top: 20.0,
        width: 400.0,
        height: 280.0,
    };
    const SVG_WIDTH: f64 = 480.0;
    const SVG_HEIGHT: f64 = 380.0;

    /// Pixel x of a value in 0..1; values outside are drawn on the edge.
    fn x(&self, v: f64) -> f64 {
        self.left + clamp01(v) * self.width
    }

    /// Pixel y of a value in 0..1 (SVG's y grows downwards).
    fn y(&self, v: f64) -> f64 {
        self.top + (1.0 - clamp01(v)) * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    fn right(&self) -> f64 {
        self.left + self.width
    }
}

fn clamp01(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

/// A pixel coordinate, with one decimal so that the output is stable and small.
struct Px(f64);

impl Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// How many cases each list shows at most.
pub const WORST_CASES: usize = 20;

const STYLE: &str = "
:root{--fg:#1d232a;--muted:#5b6570;--line:#d5dae0;--bg:#fff;--soft:#f4f6f8;
--p:#1f6fb2;--r:#c4581a;--f:#1a8a4a;--mark:#7b2cbf;--bad:#b3261e;--ok:#1a8a4a}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1100px;padding:24px;color:var(--fg);background:var(--bg);
font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:0 0 6px}
.sub,.note{color:var(--muted)}
dl.inputs{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dl.inputs dt{color:var(--muted)}dl.inputs dd{margin:0}
.metrics{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 16px}
.metric{flex:1 1 96px;border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:var(--soft)}
.metric .label{display:block;color:var(--muted);font-size:12px;white-space:nowrap}
.metric .value{display:block;font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.n{text-align:right}
table.confusion td{text-align:right;min-width:96px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;fill:var(--fg)}
svg .grid{stroke:var(--line);stroke-width:1}
svg .axis{stroke:var(--fg);stroke-width:1}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
tr.config td{background:#f1e9fb}tr.best td{background:#e6f4ec}
.case{border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:0 0 12px}
.case table{width:100%;margin:6px 0}
.case td.v{word-break:break-word;max-width:260px}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
background:var(--soft);border:1px solid var(--line);margin-left:6px}
.tag.bad{color:var(--bad)}.tag.ok{color:var(--ok)}
.bar{display:inline-block;width:80px;height:9px;background:var(--soft);border:1px solid var(--line);
vertical-align:middle;margin-right:6px}
.bar span{display:block;height:100%;background:var(--f)}
.bar.low span{background:var(--bad)}.bar.mid span{background:#d29a00}
.none{color:var(--muted);font-style:italic}
p.row{display:flex;flex-wrap:wrap;gap:2px 14px;margin:2px 0 0;font-size:12px}
p.row b{font-weight:600}p.row .k{color:var(--muted)}
";

/// Renders the whole report.
pub fn render(r: &HtmlReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    // Writing into a String cannot fail.
    let _ = write_report(&mut out, r);
    out
}

fn write_report(out: &mut String, r: &HtmlReport) -> fmt::Result {
    let rep = r.report;
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>refmatch eval: {} against {}</title>",
        Esc(&r.inputs.config),
        Esc(&r.inputs.truth)
    )?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
    writeln!(out, "<h1>refmatch evaluation</h1>")?;
    writeln!(
        out,
        "<p class=\"sub\">Config <b>{}</b> on <b>{}</b> against <b>{}</b>, judged by <b>{}</b>.</p>",
        Esc(&r.inputs.config),
        Esc(&r.inputs.documents),
        Esc(&r.inputs.reference),
        Esc(&r.inputs.truth)
    )?;
    write_inputs(out, r)?;
    write_summary(out, r)?;
    write_charts(out, rep, r.sweep)?;
    write_sweep_table(out, rep, r.sweep)?;
    write_cases(out, r, Kind::FalsePositive)?;
    write_cases(out, r, Kind::FalseNegative)?;
    writeln!(
        out,
        "<footer class=\"note\"><p>Written by <code>refmatch eval --report</code>. \
         Precision, recall and F1 at each threshold are those of <code>eval --sweep</code>; \
         a wrong row counts as both a false positive and a false negative.</p></footer>"
    )?;
    writeln!(out, "</body>\n</html>")
}

fn write_inputs(out: &mut String, r: &HtmlReport) -> fmt::Result {
    let rep = r.report;
    writeln!(
        out,
        "<section id=\"inputs\">\n<h2>Inputs</h2>\n<dl class=\"inputs\">"
    )?;
    let rows: [(&str, String); 6] = [
        (
            "reference",
            format!("{} ({} rows)", Esc(&r.inputs.reference), rep.reference_rows),
        ),
        (
            "documents",
            format!("{} ({} documents)", Esc(&r.inputs.documents), rep.documents),
        ),
        (
            "config",
            format!(
                "{} (threshold {:.2}, {} mappings)",
                Esc(&r.inputs.config),
                rep.threshold,
                r.mappings.len()
            ),
        ),
        ("truth", Esc(&r.inputs.truth).to_string()),
        (
            "candidates",
            if r.inputs.exhaustive {
                "every reference row scored (--exhaustive)".into()
            } else {
                "the index's candidates".into()
            },
        ),
        (
            "mappings",
            r.mappings
                .iter()
                .map(|m| {
                    format!(
                        "{} ({} &rarr; {}, weight {})",
                        Esc(&m.name),
                        Esc(&m.source),
                        Esc(&m.target),
                        m.weight
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ];
    for (label, value) in rows {
        writeln!(out, "<dt>{label}</dt><dd>{value}</dd>")?;
    }
    writeln!(out, "</dl>\n</section>")
}

fn metric(
    out: &mut String,
    id: &str,
    label: &str,
    value: impl Display,
    shown: &str,
) -> fmt::Result {
    writeln!(
        out,
        "<div class=\"metric\" id=\"{id}\" data-value=\"{value}\"><span class=\"label\">{label}</span><span class=\"value\">{shown}</span></div>"
    )
}

fn write_summary(out: &mut String, r: &HtmlReport) -> fmt::Result {
    let rep = r.report;
    let c = &r.confusion;
    writeln!(
        out,
        "<section id=\"summary\">\n<h2>At the config's threshold {:.2}</h2>\n<div class=\"metrics\">",
        rep.threshold
    )?;
    metric(out, "m-tp", "true positives", rep.tp, &rep.tp.to_string())?;
    metric(out, "m-fp", "false positives", rep.fp, &rep.fp.to_string())?;
    metric(
        out,
        "m-fn",
        "false negatives",
        rep.fn_,
        &rep.fn_.to_string(),
    )?;
    metric(
        out,
        "m-tn",
        "true negatives",
        c.left_unmatched,
        &c.left_unmatched.to_string(),
    )?;
    metric(
        out,
        "m-precision",
        "precision",
        rep.precision,
        &format!("{:.4}", rep.precision),
    )?;
    metric(
        out,
        "m-recall",
        "recall",
        rep.recall,
        &format!("{:.4}", rep.recall),
    )?;
    metric(out, "m-f1", "F1", rep.f1, &format!("{:.4}", rep.f1))?;
    metric(
        out,
        "m-best-threshold",
        "best threshold",
        rep.best_threshold,
        &format!("{:.2}", rep.best_threshold),
    )?;
    metric(
        out,
        "m-best-f1",
        "best F1",
        rep.best_f1,
        &format!("{:.4}", rep.best_f1),
    )?;
    writeln!(out, "</div>")?;
    let with_row = c.right_row + c.wrong_row + c.missed;
    let without_row = c.spurious + c.left_unmatched;
    writeln!(
        out,
        "<table class=\"confusion\" id=\"confusion\">\n<caption class=\"note\">Documents by truth and prediction</caption>\n\
         <tr><th></th><th>predicted the true row</th><th>predicted another row</th><th>predicted nothing</th><th>documents</th></tr>\n\
         <tr><th>has a true row</th><td>{} <span class=\"tag ok\">TP</span></td><td>{} <span class=\"tag bad\">FP + FN</span></td><td>{} <span class=\"tag bad\">FN</span></td><td>{with_row}</td></tr>\n\
         <tr><th>has no true row</th><td class=\"none\">n/a</td><td>{} <span class=\"tag bad\">FP</span></td><td>{} <span class=\"tag ok\">TN</span></td><td>{without_row}</td></tr>\n\
         </table>",
        c.right_row, c.wrong_row, c.missed, c.spurious, c.left_unmatched
    )?;
    writeln!(out, "</section>")
}

/// Axes, grid, ticks every 0.2 and the axis titles of a chart.
fn write_axes(out: &mut String, p: &Plot, x_title: &str, y_title: &str) -> fmt::Result {
    for i in 0..=5 {
        let v = f64::from(i) / 5.0;
        let (x, y) = (p.x(v), p.y(v));
        writeln!(
            out,
            "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\
             <line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{v:.1}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{v:.1}</text>",
            Px(x),
            Px(p.top),
            Px(x),
            Px(p.bottom()),
            Px(p.left),
            Px(y),
            Px(p.right()),
            Px(y),
            Px(x),
            Px(p.bottom() + 16.0),
            Px(p.left - 6.0),
            Px(y + 4.0),
        )?;
    }
    writeln!(
        out,
        "<line class=\"axis\" x1=\"{l}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/>\
         <line class=\"axis\" x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{b}\"/>\
         <text x=\"{cx}\" y=\"{xt}\" text-anchor=\"middle\" font-weight=\"600\">{x_title}</text>\
         <text transform=\"translate(14 {cy}) rotate(-90)\" text-anchor=\"middle\" font-weight=\"600\">{y_title}</text>",
        l = Px(p.left),
        r = Px(p.right()),
        t = Px(p.top),
        b = Px(p.bottom()),
        cx = Px(p.left + p.width / 2.0),
        xt = Px(p.bottom() + 38.0),
        cy = Px(p.top + p.height / 2.0),
    )
}

/// `points` of a polyline from `(x, y)` pairs in data units.
fn polyline_points(p: &Plot, values: impl Iterator<Item = (f64, f64)>) -> String {
    let mut s = String::new();
    for (i, (x, y)) in values.enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{},{}", Px(p.x(x)), Px(p.y(y)));
    }
    s
}

fn svg_open(out: &mut String, id: &str, title: &str, desc: &str) -> fmt::Result {
    writeln!(
        out,
        "<svg id=\"{id}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" aria-label=\"{}\">\n\
         <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
        Plot::SVG_WIDTH,
        Plot::SVG_HEIGHT,
        Plot::SVG_WIDTH,
        Plot::SVG_HEIGHT,
        Esc(title),
        Esc(title),
        Esc(desc)
    )
}

fn write_charts(out: &mut String, rep: &Report, sweep: &[SweepPoint]) -> fmt::Result {
    let p = Plot::CHART;
    let best = sweep
        .iter()
        .find(|s| (s.threshold - rep.best_threshold).abs() < 1e-9);
    writeln!(
        out,
        "<section id=\"curves\">\n<h2>Precision, recall and F1</h2>\n<div class=\"charts\">"
    )?;

    // Precision-recall curve.
    writeln!(
        out,
        "<figure>\n<figcaption>Precision-recall curve</figcaption>"
    )?;
    svg_open(
        out,
        "pr-curve",
        "Precision-recall curve",
        &format!(
            "Precision against recall for thresholds 0.00 to 1.00. At the config's threshold \
             {:.2}: precision {:.4}, recall {:.4}. Best F1 {:.4} at threshold {:.2}.",
            rep.threshold, rep.precision, rep.recall, rep.best_f1, rep.best_threshold
        ),
    )?;
    write_axes(out, &p, "recall", "precision")?;
    writeln!(
        out,
        "<polyline fill=\"none\" stroke=\"var(--p)\" stroke-width=\"2\" points=\"{}\"/>",
        polyline_points(&p, sweep.iter().map(|s| (s.recall, s.precision)))
    )?;
    for s in sweep {
        writeln!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"var(--p)\"><title>threshold {:.2}: precision {:.4}, recall {:.4}, F1 {:.4}</title></circle>",
            Px(p.x(s.recall)),
            Px(p.y(s.precision)),
            s.threshold,
            s.precision,
            s.recall,
            s.f1
        )?;
    }
    if let Some(b) = best {
        writeln!(
            out,
            "<circle id=\"pr-best\" cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"none\" stroke=\"var(--f)\" stroke-width=\"2.5\"><title>best threshold {:.2}: precision {:.4}, recall {:.4}, F1 {:.4}</title></circle>",
            Px(p.x(b.recall)),
            Px(p.y(b.precision)),
            b.threshold,
            b.precision,
            b.recall,
            b.f1
        )?;
    }
    writeln!(
        out,
        "<circle id=\"pr-config\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"var(--mark)\" stroke=\"#fff\" stroke-width=\"1.5\"><title>config threshold {:.2}: precision {:.4}, recall {:.4}</title></circle>",
        Px(p.x(rep.recall)),
        Px(p.y(rep.precision)),
        rep.threshold,
        rep.precision,
        rep.recall
    )?;
    write_legend(
        out,
        &p,
        &[
            ("var(--p)", "", "thresholds"),
            (
                "var(--mark)",
                "dot",
                &format!("config {:.2}", rep.threshold),
            ),
            (
                "var(--f)",
                "ring",
                &format!("best {:.2}", rep.best_threshold),
            ),
        ],
    )?;
    writeln!(out, "</svg>\n</figure>")?;

    // Precision, recall and F1 against the threshold.
    writeln!(
        out,
        "<figure>\n<figcaption>F1, precision and recall against threshold</figcaption>"
    )?;
    svg_open(
        out,
        "threshold-sweep",
        "F1, precision and recall against threshold",
        &format!(
            "F1, precision and recall for thresholds 0.00 to 1.00. The config's threshold \
             {:.2} gives F1 {:.4}; the best threshold {:.2} gives F1 {:.4}.",
            rep.threshold, rep.f1, rep.best_threshold, rep.best_f1
        ),
    )?;
    write_axes(out, &p, "threshold", "score")?;
    for (color, dash, width, pick) in [
        ("var(--p)", "6 3", "1.5", 0),
        ("var(--r)", "2 3", "1.5", 1),
        ("var(--f)", "", "2.5", 2),
    ] {
        let points = polyline_points(
            &p,
            sweep.iter().map(|s| {
                (
                    s.threshold,
                    match pick {
                        0 => s.precision,
                        1 => s.recall,
                        _ => s.f1,
                    },
                )
            }),
        );
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"{dash} points=\"{points}\"/>"
        )?;
    }
    // The two thresholds as vertical lines; labels on opposite sides so that equal or
    // close thresholds stay readable.
    let config_x = p.x(rep.threshold);
    let best_x = p.x(rep.best_threshold);
    writeln!(
        out,
        "<line id=\"sweep-config\" x1=\"{x}\" y1=\"{t}\" x2=\"{x}\" y2=\"{b}\" stroke=\"var(--mark)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>config threshold {:.2}: F1 {:.4}</title></line>\
         <text x=\"{lx}\" y=\"{ly}\" text-anchor=\"end\" fill=\"var(--mark)\">config {:.2}</text>",
        rep.threshold,
        rep.f1,
        rep.threshold,
        x = Px(config_x),
        t = Px(p.top),
        b = Px(p.bottom()),
        lx = Px(config_x - 4.0),
        ly = Px(p.bottom() - 8.0),
    )?;
    writeln!(
        out,
        "<line id=\"sweep-best\" x1=\"{x}\" y1=\"{t}\" x2=\"{x}\" y2=\"{b}\" stroke=\"var(--f)\" stroke-width=\"1.5\"><title>best threshold {:.2}: F1 {:.4}</title></line>\
         <circle cx=\"{x}\" cy=\"{fy}\" r=\"4\" fill=\"var(--f)\"/>\
         <text x=\"{lx}\" y=\"{ly}\" fill=\"var(--f)\">best {:.2} (F1 {:.4})</text>",
        rep.best_threshold,
        rep.best_f1,
        rep.best_threshold,
        rep.best_f1,
        x = Px(best_x),
        t = Px(p.top),
        b = Px(p.bottom()),
        fy = Px(p.y(rep.best_f1)),
        lx = Px(if best_x > p.left + p.width * 0.7 {
            best_x - 150.0
        } else {
            best_x + 4.0
        }),
        ly = Px(p.bottom() - 24.0),
    )?;
    write_legend(
        out,
        &p,
        &[
            ("var(--f)", "", "F1"),
            ("var(--p)", "6 3", "precision"),
            ("var(--r)", "2 3", "recall"),
        ],
    )?;
    writeln!(out, "</svg>\n</figure>\n</div>\n</section>")
}

/// A legend in one row under the x axis title, outside the plot so that it never hides
/// a curve. `kind` is a dash pattern, `dot` or `ring`.
fn write_legend(out: &mut String, p: &Plot, items: &[(&str, &str, &str)]) -> fmt::Result {
    let y = p.bottom() + 62.0;
    for (i, (color, kind, label)) in items.iter().enumerate() {
        let x = p.left + 130.0 * i as f64;
        match *kind {
            "dot" => writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{color}\"/>",
                Px(x + 11.0),
                Px(y - 4.0)
            )?,
            "ring" => writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
                Px(x + 11.0),
                Px(y - 4.0)
            )?,
            dash => writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"2\"{}/>",
                Px(x),
                Px(y - 4.0),
                Px(x + 22.0),
                Px(y - 4.0),
                if dash.is_empty() {
                    String::new()
                } else {
                    format!(" stroke-dasharray=\"{dash}\"")
                }
            )?,
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            Px(x + 28.0),
            Px(y),
            Esc(label)
        )?;
    }
    Ok(())
}

fn write_sweep_table(out: &mut String, rep: &Report, sweep: &[SweepPoint]) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"sweep\">\n<details>\n<summary>Threshold sweep as a table ({} thresholds)</summary>\n\
         <table id=\"sweep-table\">\n<tr><th>threshold</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr>",
        sweep.len()
    )?;
    let config_hundredths = (rep.threshold * 100.0).round();
    for s in sweep {
        let hundredths = (s.threshold * 100.0).round();
        let class = if (s.threshold - rep.best_threshold).abs() < 1e-9 {
            " class=\"best\""
        } else if hundredths == config_hundredths {
            " class=\"config\""
        } else {
            ""
        };
        writeln!(
            out,
            "<tr{class}><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td></tr>",
            s.threshold, s.tp, s.fp, s.fn_, s.precision, s.recall, s.f1
        )?;
    }
    writeln!(
        out,
        "</table>\n<p class=\"note\">Highlighted: the best threshold (green) and the config's threshold rounded to hundredths (violet).</p>\n</details>\n</section>"
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    FalsePositive,
    FalseNegative,
}

fn write_cases(out: &mut String, r: &HtmlReport, kind: Kind) -> fmt::Result {
    let (id, heading, explanation, cases, total) = match kind {
        Kind::FalsePositive => (
            "false-positives",
            "Worst false positives",
            "A row was predicted (confidence at or above the threshold) and it is not the \
             document's true row; highest confidence first.",
            &r.false_positives,
            r.false_positives_total,
        ),
        Kind::FalseNegative => (
            "false-negatives",
            "Worst false negatives",
            "The document has a true row and the matcher did not predict it (it predicted \
             nothing or another row); lowest confidence of the true row first, so the true \
             rows the config misses most come first.",
            &r.false_negatives,
            r.false_negatives_total,
        ),
    };
    writeln!(
        out,
        "<section id=\"{id}\">\n<h2>{heading} ({} of {total})</h2>\n<p class=\"note\">{explanation}</p>",
        cases.len()
    )?;
    if cases.is_empty() {
        writeln!(out, "<p class=\"none\">None.</p>")?;
    }
    for (i, case) in cases.iter().enumerate() {
        write_case(out, r, kind, i + 1, case)?;
    }
    writeln!(out, "</section>")
}

fn write_case(out: &mut String, r: &HtmlReport, kind: Kind, n: usize, case: &Case) -> fmt::Result {
    let predicted = case.top.as_ref().filter(|_| case.predicted);
    writeln!(
        out,
        "<article class=\"case\" data-kind=\"{}\" data-confidence=\"{:.4}\" data-document-id=\"{}\" data-predicted-row=\"{}\" data-true-row=\"{}\">",
        if kind == Kind::FalsePositive { "fp" } else { "fn" },
        if kind == Kind::FalsePositive {
            case.top.as_ref().map_or(0.0, |t| t.confidence)
        } else {
            case.true_row.as_ref().map_or(0.0, |t| t.confidence)
        },
        Esc(&case.document_id),
        Esc(predicted.map_or("", |t| t.id.as_str())),
        Esc(case.true_row.as_ref().map_or("", |t| t.id.as_str())),
    )?;
    write!(out, "<h3>{n}. document {}", Esc(&case.document_id))?;
    match (&case.top, case.predicted) {
        (Some(top), true) => write!(
            out,
            "<span class=\"tag bad\">predicted {} at {:.4}</span>",
            Esc(&top.id),
            top.confidence
        )?,
        (Some(top), false) => write!(
            out,
            "<span class=\"tag\">predicted nothing: best {} at {:.4}</span>",
            Esc(&top.id),
            top.confidence
        )?,
        (None, _) => write!(
            out,
            "<span class=\"tag\">predicted nothing: no candidate</span>"
        )?,
    }
    match &case.true_row {
        Some(t) => write!(
            out,
            "<span class=\"tag ok\">true row {} at {:.4}</span>",
            Esc(&t.id),
            t.confidence
        )?,
        None => write!(out, "<span class=\"tag\">no true row</span>")?,
    }
    writeln!(out, "</h3>")?;

    // One row per mapping: the document's value, then each row's value and evidence.
    let top_label = if case.predicted {
        "predicted"
    } else {
        "best candidate"
    };
    let show_top = case
        .top
        .as_ref()
        .filter(|t| case.true_row.as_ref().is_none_or(|tr| tr.id != t.id));
    write!(
        out,
        "<table>\n<tr><th>field</th><th>strategy</th><th>document</th>"
    )?;
    if let Some(t) = show_top {
        write!(out, "<th>{top_label} {}</th><th>score</th>", Esc(&t.id))?;
    }
    if let Some(t) = &case.true_row {
        write!(out, "<th>true row {}</th><th>score</th>", Esc(&t.id))?;
    }
    writeln!(out, "</tr>")?;
    for (i, m) in r.mappings.iter().enumerate() {
        let strategy = [show_top, case.true_row.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|row| Some(row.evidence.get(&m.name)?.strategy.as_str()))
            .unwrap_or("");
        write!(
            out,
            "<tr><td>{} <span class=\"note\">&times;{}</span></td><td>{}</td><td class=\"v\">{}</td>",
            Esc(&m.name),
            m.weight,
            Esc(strategy),
            Cell(case.values.get(i).and_then(Option::as_deref))
        )?;
        for row in [show_top, case.true_row.as_ref()].into_iter().flatten() {
            write_evidence_cells(out, row.evidence.get(&m.name))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")?;
    for (label, row) in [(top_label, show_top), ("true row", case.true_row.as_ref())] {
        if let Some(row) = row {
            write!(out, "<p class=\"row\"><b>{label} {}</b>", Esc(&row.id))?;
            for (column, value) in &row.values {
                write!(
                    out,
                    "<span><span class=\"k\">{}</span> {}</span>",
                    Esc(column),
                    Cell(Some(value))
                )?;
            }
            writeln!(out, "</p>")?;
        }
    }
    writeln!(out, "</article>")
}

/// A value as a cell shows it: escaped, or a marker when empty.
struct Cell<'a>(Option<&'a str>);

impl Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) if !v.trim().is_empty() => write!(f, "{}", Esc(v)),
            _ => f.write_str("<span class=\"none\">empty</span>"),
        }
    }
}

/// The target value and a score bar of one evidence entry.
fn write_evidence_cells(out: &mut String, entry: Option<&FieldEvidence>) -> fmt::Result {
    let Some(entry) = entry else {
        return write!(out, "<td></td><td></td>");
    };
    write!(
        out,
        "<td class=\"v\">{}</td>",
        Cell(entry.target_value.as_deref())
    )?;
    let score = entry.score;
    let why = if entry.missing {
        Some("missing")
    } else if entry.unparsable {
        Some("unparsable")
    } else {
        None
    };
    match (score, why) {
        (Some(s), _) if why.is_none() || s > 0.0 => write!(out, "<td>{}</td>", ScoreBar(s)),
        (Some(s), Some(why)) => write!(
            out,
            "<td>{} <span class=\"none\">{why}</span></td>",
            ScoreBar(s)
        ),
        (None, Some(why)) => write!(out, "<td class=\"none\">{why}, not counted</td>"),
        (_, None) => write!(out, "<td class=\"none\">no score</td>"),
    }
}

/// A score in 0..1 as a small bar and its value.
struct ScoreBar(f64);

impl Display for ScoreBar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = clamp01(self.0);
        let class = if s >= 0.8 {
            "bar"
        } else if s >= 0.5 {
            "bar mid"
        } else {
            "bar low"
        };
        write!(
            f,
            "<span class=\"{class}\" role=\"img\" aria-label=\"score {s:.4}\"><span style=\"width:{:.1}%\"></span></span>{s:.4}",
            s * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            Esc("<script>alert('x') & \"y\"</script>").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(Esc("Müller & Söhne").to_string(), "Müller &amp; Söhne");
        assert_eq!(Esc("plain").to_string(), "plain");
        assert_eq!(Esc("").to_string(), "");
    }

    #[test]
    fn plot_maps_the_unit_square_onto_its_area_with_y_up() {
        let p = Plot {
            left: 50.0,
            top: 10.0,
            width: 400.0,
            height: 200.0,
        };
        assert_eq!((p.x(0.0), p.x(1.0), p.x(0.25)), (50.0, 450.0, 150.0));
        // Precision 1 is at the top, 0 at the bottom.
        assert_eq!((p.y(1.0), p.y(0.0), p.y(0.5)), (10.0, 210.0, 110.0));
        // Out-of-range and NaN values stay inside the plot.
        assert_eq!((p.x(-1.0), p.x(2.0), p.y(f64::NAN)), (50.0, 450.0, 210.0));
    }

    #[test]
    fn polyline_points_are_fixed_precision_pixels() {
        let p = Plot::CHART;
        assert_eq!(
            polyline_points(&p, [(0.0, 1.0), (1.0, 0.0), (1.0 / 3.0, 0.5)].into_iter()),
            "56.0,20.0 456.0,300.0 189.3,160.0"
        );
    }

    #[test]
    fn score_bars_clamp_and_values_mark_empty() {
        assert!(ScoreBar(1.5).to_string().contains("width:100.0%"));
        assert!(ScoreBar(0.25).to_string().contains("bar low"));
        assert_eq!(
            Cell(Some(" ")).to_string(),
            "<span class=\"none\">empty</span>"
        );
        assert_eq!(Cell(Some("a<b")).to_string(), "a&lt;b");
    }

    fn sample_report() -> Report {
        Report {
            documents: 3,
            reference_rows: 2,
            threshold: 0.8,
            tp: 1,
            fp: 1,
            fn_: 1,
            precision: 0.5,
            recall: 0.5,
            f1: 0.5,
            best_threshold: 0.5,
            best_f1: 0.6667,
            elapsed_ms: 0,
            sweep: None,
        }
    }

    #[test]
    fn renders_one_self_contained_page_with_escaped_user_strings() {
        let rep = sample_report();
        let sweep: Vec<SweepPoint> = (0..=100)
            .map(|t| SweepPoint {
                threshold: f64::from(t) / 100.0,
                tp: 1,
                fp: 1,
                fn_: 1,
                precision: 0.5,
                recall: 0.5,
                f1: 0.5,
            })
            .collect();
        let evidence = Evidence(vec![(
            "vendor".into(),
            FieldEvidence {
                strategy: crate::config::StrategyKind::Fuzzy,
                score: Some(0.5),
                source_value: Some("<b>".into()),
                target_value: Some("A & B".into()),
                missing: false,
                unparsable: false,
            },
        )]);
        let row = RowView {
            id: "R<1>".into(),
            confidence: 0.9,
            values: vec![("vendor".into(), "A & B".into())],
            evidence,
        };
        let case = Case {
            document_id: "D\"1".into(),
            values: vec![Some("<script>x</script>".into())],
            top: Some(row),
            predicted: true,
            true_row: None,
        };
        let html = render(&HtmlReport {
            inputs: Inputs {
                reference: "ref.csv".into(),
                documents: "docs.csv".into(),
                config: "c.json".into(),
                truth: "t.csv".into(),
                exhaustive: false,
            },
            report: &rep,
            sweep: &sweep,
            confusion: Confusion::default(),
            mappings: vec![MappingView {
                name: "vendor".into(),
                source: "vendor".into(),
                target: "vendor".into(),
                weight: 1.0,
            }],
            false_positives: vec![case],
            false_negatives: vec![],
            false_positives_total: 1,
            false_negatives_total: 0,
        });
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("data-document-id=\"D&quot;1\""));
        assert!(html.contains("R&lt;1&gt;") && html.contains("A &amp; B"));
        assert!(!html.contains("src=") && !html.contains("href="));
    }
}
