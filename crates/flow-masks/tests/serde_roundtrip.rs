//! Kinds and schedules survive JSON and TOML, and hand-written TOML reads as documented.

mod common;

use common::kind;
use flow_masks::{Half, MaskKind, MaskSchedule, Quadrant};
use proptest::prelude::*;

proptest! {
    #[test]
    fn kind_round_trips(kind in kind()) {
        let json = serde_json::to_string(&kind).unwrap();
        prop_assert_eq!(serde_json::from_str::<MaskKind>(&json).unwrap(), kind);
        let toml_text = toml::to_string(&kind).unwrap();
        prop_assert_eq!(toml::from_str::<MaskKind>(&toml_text).unwrap(), kind);
    }

    #[test]
    fn schedule_round_trips(kinds in proptest::collection::vec(kind(), 0..10)) {
        let schedule = MaskSchedule::new(kinds);
        let json = serde_json::to_string(&schedule).unwrap();
        prop_assert_eq!(&serde_json::from_str::<MaskSchedule>(&json).unwrap(), &schedule);
        let toml_text = toml::to_string(&schedule).unwrap();
        prop_assert_eq!(&toml::from_str::<MaskSchedule>(&toml_text).unwrap(), &schedule);
    }
}

#[test]
fn hand_written_toml_reads_as_documented() {
    let text = r#"
[[layers]]
kind = "checkerboard"
parity = 1

[[layers]]
kind = "channel_wise"
transform = "second"

[[layers]]
kind = "cycle"
from = "bottom_left"

[[layers]]
kind = "tabular_halves"
transform = "first"
"#;
    let schedule: MaskSchedule = toml::from_str(text).unwrap();
    assert_eq!(
        schedule.kinds(),
        &[
            MaskKind::Checkerboard { parity: 1 },
            MaskKind::ChannelWise {
                transform: Half::Second
            },
            MaskKind::Cycle {
                from: Quadrant::BottomLeft
            },
            MaskKind::TabularHalves {
                transform: Half::First
            },
        ]
    );
}

#[test]
fn unknown_kind_is_rejected() {
    assert!(toml::from_str::<MaskKind>("kind = \"diagonal\"").is_err());
    assert!(serde_json::from_str::<MaskKind>(r#"{"kind":"cycle","from":"middle"}"#).is_err());
}
