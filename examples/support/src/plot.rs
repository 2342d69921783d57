//! Line charts as SVG (plotters), side by side in one file: what `basics --plot` draws. Written
//! atomically with `neurite::nn::write_atomic`, as neurite-nn's training history is.

use std::path::Path;

use plotters::prelude::*;

/// One curve: its label and its points.
pub type Curve = (String, Vec<(f64, f64)>);

/// One panel: a caption and its curves.
pub struct Panel {
    /// The panel's caption.
    pub caption: String,
    /// Its curves, drawn in the palette's order.
    pub curves: Vec<Curve>,
}

/// The panels as one SVG document, side by side under `title`.
pub fn to_svg(title: &str, panels: &[Panel]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let width = 480 * panels.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| e.to_string())?;
        for (area, panel) in root
            .split_evenly((1, panels.len().max(1)))
            .iter()
            .zip(panels)
        {
            let points = || panel.curves.iter().flat_map(|c| c.1.iter());
            let (x0, x1) = bounds(points().map(|p| p.0));
            let (y0, y1) = bounds(points().map(|p| p.1));
            let pad = (y1 - y0) * 0.05;
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.caption, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
                .map_err(|e| e.to_string())?;
            chart.configure_mesh().draw().map_err(|e| e.to_string())?;
            for (i, (label, pts)) in panel.curves.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Writes [`to_svg`] to `path` atomically.
pub fn write_svg(path: &Path, title: &str, panels: &[Panel]) -> Result<(), String> {
    neurite::nn::write_atomic(path, to_svg(title, panels)?.as_bytes()).map_err(|e| e.to_string())
}

/// The finite range of `values` (a unit range around a single value; 0..1 when empty).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}
