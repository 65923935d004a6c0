//! The report says which images each number is about, in every configuration: read the
//! committed `standard` run (which holds a negative-training model scored on a held-out
//! split) and check what its Markdown and its finiteness check say.

use std::path::PathBuf;
use std::time::Duration;

use flow_lab::experiment::ExperimentResults;

fn standard_run() -> ExperimentResults {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard/results.json");
    ExperimentResults::read(&path).expect("the committed standard run reads back")
}

#[test]
fn each_row_names_the_split_and_the_number_of_images_it_scored() {
    let md = standard_run().markdown();
    let row = |name: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}"))
            .to_string()
    };
    // The headline row of the negative-training model is about its held-out split...
    let negative = row("realnvp_short_negative");
    assert!(
        negative.contains("MNIST (held out), 2004 images"),
        "{negative}"
    );
    // ...and a plain model's about all of MNIST.
    let plain = row("realnvp");
    assert!(plain.contains("| MNIST, 10000 images |"), "{plain}");
    assert!(plain.contains("FashionMNIST test, 10000 images"), "{plain}");
    // The per-set tables name a row's set where it differs from the column's.
    assert!(
        md.contains("(MNIST (held out), 2004 images)"),
        "the bits/dim table hides the held-out split"
    );
    assert!(
        md.contains("(MNIST (held out))"),
        "the AUROC table hides it"
    );
}

#[test]
fn a_mean_that_left_images_out_says_how_many() {
    let mut results = standard_run();
    results.models[0].sets.natural_ood.non_finite = 3;
    let md = results.markdown();
    assert!(
        md.contains("(3 non-finite left out)"),
        "the report hides it"
    );
}

#[test]
fn the_finiteness_check_covers_every_number_of_the_file() {
    let mut results = standard_run();
    assert_eq!(results.first_non_finite(), None);
    assert!(results.all_finite());
    // A number no hand-written check named: one layer term of one set.
    let layers = results.models[3].sets.in_test.layers.as_mut().unwrap();
    layers.log_det[2] = f64::NAN;
    assert_eq!(
        results.first_non_finite().as_deref(),
        Some("models[3].sets[1].layers.log_det[2]")
    );
    assert!(!results.all_finite());
    let mut results = standard_run();
    results.wall_seconds = f64::INFINITY;
    assert_eq!(results.first_non_finite().as_deref(), Some("wall_seconds"));
}

#[test]
fn a_resumed_run_reports_the_wall_time_of_every_session() {
    let mut results = standard_run();
    results.set_wall_time(&[100.0, 50.0], Duration::from_secs(25));
    assert_eq!(results.wall_seconds, 175.0);
    assert_eq!(results.session_seconds, [100.0, 50.0, 25.0]);
    assert!(
        results.markdown().contains("175 s over 3 sessions"),
        "the report hides the earlier sessions"
    );
    // Written and read back, the sessions stay.
    let dir = tempfile::tempdir().unwrap();
    results.write(dir.path()).unwrap();
    let back = ExperimentResults::read(&dir.path().join("results.json")).unwrap();
    assert_eq!(back.session_seconds, [100.0, 50.0, 25.0]);
}
