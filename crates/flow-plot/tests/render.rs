//! Every figure type through the public API: it writes a PNG that decodes, has the
//! expected size, is not blank (ink in several colours, text in its title band), leaves
//! no temporary file behind; bad input is an error naming the file and writes nothing.

use std::path::{Path, PathBuf};

use flow_plot::{
    bar_png, bar_png_from_colour, histogram_png, image_grid_png, labelled_grid_png,
    labelled_grid_with_header_png, line_png, panel_figure_png, roc_png, ColourKey, Curve,
    FigureError, Image, Normalise, Panel, PanelFigure, PanelRow, Series,
};
use image::RgbImage;

/// Opens `path`, checks that it is the only file in its folder (no temporary left) and
/// that it holds ink: at least `min_ink` non-white pixels in at least `min_colours`
/// colours.
fn open_inked(path: &Path, min_ink: usize, min_colours: usize) -> RgbImage {
    let dir = path.parent().unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files, vec![path.to_path_buf()], "stray files");
    let img = image::open(path).unwrap().to_rgb8();
    let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        ink >= min_ink,
        "{}: only {ink} inked pixels",
        path.display()
    );
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() >= min_colours,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    img
}

/// Dark (text-like) pixels in rows `y0..y1`.
fn dark_in_rows(img: &RgbImage, y0: u32, y1: u32) -> usize {
    (y0..y1.min(img.height()))
        .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 90))
        .count()
}

fn ramp(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * ((i * 7919) % n) as f64 / n as f64)
        .collect()
}

#[test]
fn histogram_renders_with_title_and_legend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.png");
    let sets: Vec<Series> = (0..12)
        .map(|k| Series::new(format!("set {k}"), ramp(300, k as f64, k as f64 + 3.0)))
        .collect();
    histogram_png(&path, "Twelve sets", "bits/dim", &sets, 40).unwrap();
    let img = open_inked(&path, 20_000, 50);
    assert_eq!(img.height(), 580);
    assert!(img.width() > 900, "the legend widens the page");
    assert!(dark_in_rows(&img, 0, 40) > 50, "title");
}

#[test]
fn far_tail_histogram_renders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.png");
    let sets = [
        Series::new("FashionMNIST test", ramp(1000, 2.5, 3.5)),
        Series::new("MNIST", ramp(1000, 100.0, 900.0)),
    ];
    histogram_png(&path, "negative training", "bits/dim", &sets, 60).unwrap();
    open_inked(&path, 20_000, 20);
}

#[test]
fn roc_and_training_curves_render() {
    let dir = tempfile::tempdir().unwrap();
    let roc = dir.path().join("roc.png");
    let curves = [
        Curve::new("a (AUROC 0.80)", vec![(0.0, 0.0), (0.1, 0.6), (1.0, 1.0)]),
        Curve::new("b (AUROC 0.30)", vec![(0.0, 0.0), (0.7, 0.2), (1.0, 1.0)]),
    ];
    roc_png(&roc, "ROC", &curves).unwrap();
    let img = open_inked(&roc, 5_000, 20);
    assert_eq!(img.height(), 690);
    std::fs::remove_file(&roc).unwrap();

    let line = dir.path().join("line.png");
    let train: Vec<(f64, f64)> = (0..2000)
        .map(|i| (i as f64, 6.0 - (i as f64).ln_1p() * 0.3))
        .collect();
    let test: Vec<(f64, f64)> = (0..5)
        .map(|i| (i as f64 * 500.0, 5.0 - i as f64 * 0.3))
        .collect();
    line_png(
        &line,
        "training",
        "step",
        "bits/dim",
        &[Curve::new("train", train), Curve::new("test", test)],
    )
    .unwrap();
    let img = open_inked(&line, 5_000, 20);
    assert_eq!(img.height(), 560);
}

#[test]
fn single_points_and_constant_curves_still_render() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.png");
    line_png(
        &path,
        "one point",
        "x",
        "y",
        &[Curve::new("p", vec![(3.0, 3.0)])],
    )
    .unwrap();
    open_inked(&path, 1_000, 10);
}

#[test]
fn grouped_bars_render_with_long_and_short_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.png");
    let cats: Vec<String> = (0..24)
        .map(|i| format!("scale{}.checkerboard{}", i / 6, i % 6))
        .collect();
    let groups: Vec<Series> = (0..9)
        .map(|g| Series::new(format!("set {g}"), ramp(24, -300.0, 600.0 + g as f64)))
        .collect();
    bar_png(&path, "per layer", "nats", &cats, &groups).unwrap();
    let img = open_inked(&path, 20_000, 20);
    assert!(img.height() > 600, "room for vertical names");
    std::fs::remove_file(&path).unwrap();

    let short: Vec<String> = vec!["AUROC".into(), "FPR@95".into()];
    let pair = [
        Series::new("cycle", vec![0.1, -0.2]),
        Series::new("bottleneck", vec![0.05, 0.3]),
    ];
    bar_png_from_colour(&path, "metrics", "value", &short, &pair, 1).unwrap();
    let img = open_inked(&path, 5_000, 10);
    assert_eq!(img.height(), 600);
}

#[test]
fn image_grids_render() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.png");
    let imgs: Vec<Image> = (0..6)
        .map(|i| Image::grey(4, 4, (0..16).map(|p| ((p + i) % 5) as f32 / 4.0).collect()))
        .collect();
    image_grid_png(&path, &imgs, 3, 2, Normalise::Fixed(0.0, 1.0)).unwrap();
    let img = open_inked(&path, 100, 4);
    assert_eq!((img.width(), img.height()), (1 + 3 * 9, 1 + 2 * 9));
    std::fs::remove_file(&path).unwrap();

    let rows = vec![
        ("FashionMNIST".to_string(), imgs[..3].to_vec()),
        ("MNIST".to_string(), imgs[3..].to_vec()),
    ];
    labelled_grid_png(&path, &rows, 8, Normalise::PerImage).unwrap();
    let plain = open_inked(&path, 500, 4);
    std::fs::remove_file(&path).unwrap();
    let cols: Vec<String> = vec!["s".into(), "t".into(), "output".into()];
    labelled_grid_with_header_png(&path, &cols, &rows, 8, Normalise::Symmetric).unwrap();
    let headed = open_inked(&path, 500, 4);
    assert!(headed.height() > plain.height());
}

#[test]
fn panel_figures_render() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.png");
    let tile = |v: f32| {
        Image::grey(
            6,
            6,
            (0..36).map(|i| v * (i as f32 - 18.0) / 18.0).collect(),
        )
    };
    let div = Normalise::Diverging { limit: 1.0 };
    let figure = PanelFigure {
        title: "couplings".into(),
        column_groups: vec![("in".into(), 2), ("out".into(), 1)],
        columns: vec!["s".into(), "t".into(), "output".into()],
        rows: vec![PanelRow {
            label: "layer 0".into(),
            panels: vec![
                Some(Panel::new(tile(1.0), div)),
                Some(Panel::new(tile(-1.0), div)),
                Some(Panel::new(tile(0.5), Normalise::PerImage)),
            ],
        }],
        notes: vec!["a note".into()],
        key: Some(ColourKey {
            caption: "blue < 0 < red".into(),
            ends: ["\u{2212}1".into(), "0".into(), "+1".into()],
        }),
        scale: 6,
    };
    panel_figure_png(&path, &figure).unwrap();
    let img = open_inked(&path, 2_000, 30);
    assert!(dark_in_rows(&img, 0, 40) > 30, "title");
}

#[test]
fn bad_input_is_an_error_naming_the_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.png");
    let named = |e: FigureError| {
        assert!(e.to_string().contains("bad.png"), "{e}");
    };
    named(histogram_png(&path, "t", "x", &[], 10).unwrap_err());
    named(histogram_png(&path, "t", "x", &[Series::new("e", vec![])], 10).unwrap_err());
    named(histogram_png(&path, "t", "x", &[Series::new("n", vec![f64::NAN])], 10).unwrap_err());
    named(roc_png(&path, "t", &[Curve::new("c", vec![(0.5, f64::NAN)])]).unwrap_err());
    named(line_png(&path, "t", "x", "y", &[]).unwrap_err());
    named(
        bar_png(
            &path,
            "t",
            "y",
            &["a".into(), "b".into()],
            &[Series::new("short", vec![1.0])],
        )
        .unwrap_err(),
    );
    named(image_grid_png(&path, &[], 1, 1, Normalise::PerImage).unwrap_err());
    named(
        image_grid_png(
            &path,
            &[Image::grey(2, 2, vec![0.0; 3])],
            1,
            1,
            Normalise::PerImage,
        )
        .unwrap_err(),
    );
    named(panel_figure_png(&path, &PanelFigure::default()).unwrap_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope").join("h.png");
    let err = histogram_png(&path, "t", "x", &[Series::new("a", vec![1.0, 2.0])], 5).unwrap_err();
    assert!(matches!(err, FigureError::Io { .. }), "{err}");
}
