//! Whether two runs of one configuration gave the same results: every number and
//! string of their `results.json` compared exactly, except what measures time or names
//! the run.

use serde_json::Value;

/// Keys whose values differ between two runs that computed the same thing: the run's
/// id and provenance, wall times (the OOD-scores table's costs among them) and
/// throughputs, and where the classifier came from
/// (its cache file, and whether this run loaded it from there, as a resumed run does).
pub const RUN_SPECIFIC_KEYS: [&str; 11] = [
    "run_id",
    "provenance",
    "wall_seconds",
    "session_seconds",
    "train_seconds",
    "base_seconds",
    "extra_seconds",
    "train_images_per_sec",
    "timings",
    "file",
    "cached",
];

/// At most this many differences are listed.
const MAX_LISTED: usize = 20;

/// The places where `a` and `b` differ, as `path: a vs b`, skipping
/// [`RUN_SPECIFIC_KEYS`] at any depth; empty when the runs agree. Numbers are compared
/// exactly (as JSON writes them), so one changed bit in any score shows.
pub fn result_differences(a: &Value, b: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk("", a, b, &mut found);
    found
}

fn walk(path: &str, a: &Value, b: &Value, found: &mut Vec<String>) {
    if found.len() >= MAX_LISTED {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for key in keys {
                if RUN_SPECIFIC_KEYS.contains(&key.as_str()) {
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => walk(&child, u, v, found),
                    (u, v) => found.push(format!("{child}: {} vs {}", shown(u), shown(v))),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                walk(&format!("{path}[{i}]"), u, v, found);
            }
        }
        _ if a != b => found.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".into(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timings_and_names_are_ignored_and_any_other_change_is_named() {
        let a = json!({
            "run_id": "smoke-1", "wall_seconds": 10.0,
            "models": [{"name": "realnvp", "train_seconds": 3.0,
                        "sets": [{"mean_bits_per_dim": 5.25}]}],
            "embedding": {"summary": {"timings": {"total": 1.0}, "classifier": {"file": "a"}}}
        });
        let mut b = a.clone();
        b["run_id"] = json!("smoke-2");
        b["wall_seconds"] = json!(11.0);
        b["models"][0]["train_seconds"] = json!(4.0);
        b["embedding"]["summary"]["timings"]["total"] = json!(2.0);
        b["embedding"]["summary"]["classifier"]["file"] = json!("b");
        assert!(result_differences(&a, &b).is_empty());

        b["models"][0]["sets"][0]["mean_bits_per_dim"] = json!(5.250000000000001);
        b["models"][0]["extra"] = json!(1);
        assert_eq!(
            result_differences(&a, &b),
            vec![
                "models[0].sets[0].mean_bits_per_dim: 5.25 vs 5.250000000000001".to_string(),
                "models[0].extra: (absent) vs 1".to_string(),
            ]
        );
        let c = json!({"models": []});
        assert_eq!(result_differences(&a, &c).len(), 2);
    }
}
