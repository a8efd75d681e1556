//! Plots (SVG) of latency against load, one line per server, from the saturation steps.

use plotters::prelude::*;

use crate::fanout::SaturationResult;

/// Colours for the servers, in the order they appear.
const COLOURS: [RGBColor; 5] = [
    RGBColor(0xd9, 0x48, 0x1b),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// Writes `latency.svg` in `dir`: p99 (solid) and p50 (dashed) latency in ms, log scale,
/// against the rate sent, for each server's saturation search.
pub fn latency_against_load(
    searches: &[SaturationResult],
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let points = |search: &SaturationResult, quantile: fn(&crate::fanout::FanoutResult) -> f64| {
        search
            .steps
            .iter()
            .map(|step| (step.sent as f64 / step.load.secs, quantile(step).max(0.01)))
            .collect::<Vec<_>>()
    };
    let all: Vec<(f64, f64)> = searches
        .iter()
        .flat_map(|s| {
            points(s, |r| r.p99_ms)
                .into_iter()
                .chain(points(s, |r| r.p50_ms))
        })
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    let max_rate = all.iter().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    let max_ms = all.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let min_ms = all.iter().map(|p| p.1).fold(f64::MAX, f64::min).max(0.01) / 2.0;
    let path = dir.join("latency.svg");
    let root = SVGBackend::new(&path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "End-to-end latency against load (p99 solid, p50 dashed)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..max_rate, (min_ms..max_ms).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("updates/s sent")
        .y_desc("latency, ms (log)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y}"))
        .draw()?;
    for (i, search) in searches.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let p99 = points(search, |r| r.p99_ms);
        chart
            .draw_series(LineSeries::new(p99.clone(), colour.stroke_width(2)))?
            .label(format!(
                "{} (sustained {:.0}/s)",
                search.server, search.highest_sustained_rate
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        chart.draw_series(p99.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        chart.draw_series(DashedLineSeries::new(
            points(search, |r| r.p50_ms),
            6,
            4,
            colour.stroke_width(1),
        ))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
