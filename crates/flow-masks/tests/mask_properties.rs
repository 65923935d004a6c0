//! Properties every mask must have, over random shapes.

mod common;

use common::{allowed, any_shape, kind, quadrant};
use flow_masks::{Half, MaskError, MaskKind, MaskSchedule, MaskShape, Quadrant, Role};
use proptest::prelude::*;

/// Even-sized image shapes every image kind can split.
fn even_image() -> impl Strategy<Value = MaskShape> {
    (1usize..4, 1usize..5, 1usize..5).prop_map(|(c, h, w)| MaskShape::image(2 * c, 2 * h, 2 * w))
}

/// The quadrant of pixel (h, w) of an even `height x width` image, by its definition.
fn quadrant_of(h: usize, w: usize, height: usize, width: usize) -> Quadrant {
    match (h < height / 2, w < width / 2) {
        (true, true) => Quadrant::TopLeft,
        (true, false) => Quadrant::TopRight,
        (false, false) => Quadrant::BottomRight,
        (false, true) => Quadrant::BottomLeft,
    }
}

proptest! {
    #[test]
    fn build_succeeds_exactly_on_allowed_shapes(kind in kind(), shape in any_shape()) {
        let built = kind.build(shape);
        prop_assert_eq!(built.is_ok(), allowed(kind, shape), "{} on {}: {:?}", kind, shape, built);
    }

    #[test]
    fn condition_and_transform_are_disjoint(kind in kind(), shape in any_shape()) {
        if let Ok(mask) = kind.build(shape) {
            prop_assert!(mask.condition().is_disjoint(mask.transform()));
            prop_assert_eq!(mask.condition().shape(), shape);
            prop_assert_eq!(mask.transform().shape(), shape);
            prop_assert_eq!(mask.condition().as_slice().len(), shape.len());
        }
    }

    #[test]
    fn every_kind_but_cycle_covers_every_entry(kind in kind(), shape in any_shape()) {
        if let Ok(mask) = kind.build(shape) {
            let is_cycle = matches!(kind, MaskKind::Cycle { .. });
            prop_assert_eq!(mask.covers_all(), !is_cycle);
            prop_assert_eq!(kind.covers_all(), !is_cycle);
            prop_assert_eq!(mask.condition().count() + mask.transform().count()
                == shape.len(), !is_cycle);
            // Both parts are non-empty: a coupling that transforms nothing, or sees
            // nothing, is useless.
            prop_assert!(mask.condition().count() > 0);
            prop_assert!(mask.transform().count() > 0);
        }
    }

    #[test]
    fn two_way_kinds_split_in_half(kind in kind(), shape in any_shape()) {
        if let Ok(mask) = kind.build(shape) {
            let (cond, trans) = (mask.condition().count(), mask.transform().count());
            match kind {
                MaskKind::Checkerboard { .. } => {
                    // Per channel, the two parities differ by at most one pixel.
                    prop_assert!(cond.abs_diff(trans) <= shape.channels);
                }
                MaskKind::TabularHalves { transform } => {
                    let first = shape.channels / 2;
                    let expect = if transform == Half::First { first } else { shape.channels - first };
                    prop_assert_eq!(trans, expect);
                }
                MaskKind::Cycle { .. } => {}
                _ => prop_assert_eq!(cond, trans),
            }
        }
    }

    #[test]
    fn cycle_conditions_on_one_quadrant_and_transforms_the_next(
        from in quadrant(),
        shape in even_image(),
    ) {
        let mask = MaskKind::Cycle { from }.build(shape).unwrap();
        let quarter = shape.len() / 4;
        prop_assert_eq!(mask.condition().count(), quarter);
        prop_assert_eq!(mask.transform().count(), quarter);
        for c in 0..shape.channels {
            for h in 0..shape.height {
                for w in 0..shape.width {
                    let q = quadrant_of(h, w, shape.height, shape.width);
                    prop_assert_eq!(mask.condition().get(c, h, w), q == from);
                    prop_assert_eq!(mask.transform().get(c, h, w), q == from.next());
                    let expected = if q == from {
                        Role::Condition
                    } else if q == from.next() {
                        Role::Transform
                    } else {
                        Role::Neither
                    };
                    prop_assert_eq!(mask.role(c, h, w), expected);
                }
            }
        }
    }

    #[test]
    fn cycle_schedule_returns_to_its_start_after_four_layers(
        n in 5usize..16,
        shape in even_image(),
    ) {
        let schedule = MaskSchedule::cycle(n);
        prop_assert_eq!(schedule.layer(0), Some(MaskKind::Cycle { from: Quadrant::TopLeft }));
        for i in 0..n {
            let mask = schedule.mask(i, shape).unwrap();
            if i + 4 < n {
                prop_assert_eq!(&schedule.mask(i + 4, shape).unwrap(), &mask);
            }
            // What one layer transforms, the next one conditions on.
            if i + 1 < n {
                let next = schedule.mask(i + 1, shape).unwrap();
                prop_assert_eq!(mask.transform(), next.condition());
            }
        }
    }

    #[test]
    fn checkerboard_parities_are_complements(shape in any_shape()) {
        let even = MaskKind::Checkerboard { parity: 0 }.build(shape);
        let odd = MaskKind::Checkerboard { parity: 1 }.build(shape);
        if let (Ok(even), Ok(odd)) = (even, odd) {
            prop_assert_eq!(even.transform(), &odd.transform().complement());
            prop_assert_eq!(even.condition(), odd.transform());
            for c in 0..shape.channels {
                prop_assert!(even.transform().get(c, 0, 0));
                prop_assert!(odd.condition().get(c, 0, 0));
                for h in 0..shape.height {
                    for w in 0..shape.width {
                        prop_assert_eq!(even.transform().get(c, h, w), (h + w) % 2 == 0);
                    }
                }
            }
        }
    }

    #[test]
    fn halves_follow_their_documented_direction(transform in common::half(), shape in even_image()) {
        let first = transform == Half::First;
        let channel = MaskKind::ChannelWise { transform }.build(shape).unwrap();
        let horizontal = MaskKind::Horizontal { transform }.build(shape).unwrap();
        let vertical = MaskKind::Vertical { transform }.build(shape).unwrap();
        for c in 0..shape.channels {
            for h in 0..shape.height {
                for w in 0..shape.width {
                    prop_assert_eq!(channel.transform().get(c, h, w), (c < shape.channels / 2) == first);
                    prop_assert_eq!(horizontal.transform().get(c, h, w), (h < shape.height / 2) == first);
                    prop_assert_eq!(vertical.transform().get(c, h, w), (w < shape.width / 2) == first);
                }
            }
        }
    }

    #[test]
    fn channel_split_matches_the_grids(transform in common::half(), shape in even_image()) {
        let mask = MaskKind::ChannelWise { transform }.build(shape).unwrap();
        let (cond, trans) = mask.channel_split().unwrap();
        prop_assert_eq!(cond.len() + trans.len(), shape.channels);
        for c in 0..shape.channels {
            prop_assert_eq!(cond.contains(&c), mask.condition().get(c, 0, 0));
            prop_assert_eq!(trans.contains(&c), mask.transform().get(c, 0, 0));
        }
    }

    #[test]
    fn alternating_schedules_flip_every_layer(n in 2usize..12) {
        let cases = [
            (MaskSchedule::checkerboard(n), MaskShape::image(1, 4, 4)),
            (MaskSchedule::channel_wise(n), MaskShape::image(4, 2, 2)),
            (MaskSchedule::horizontal(n), MaskShape::image(1, 4, 4)),
            (MaskSchedule::horizontal_from(n, Half::Second), MaskShape::image(1, 4, 4)),
            (MaskSchedule::vertical(n), MaskShape::image(1, 4, 4)),
            (MaskSchedule::tabular(n), MaskShape::vector(6)),
        ];
        for (schedule, shape) in cases {
            prop_assert_eq!(schedule.len(), n);
            for i in 0..n - 1 {
                let this = schedule.mask(i, shape).unwrap();
                let next = schedule.mask(i + 1, shape).unwrap();
                prop_assert_eq!(this.transform(), next.condition());
                prop_assert_eq!(this.condition(), next.transform());
            }
        }
    }
}

#[test]
fn schedules_start_where_the_paper_does() {
    assert_eq!(
        MaskSchedule::checkerboard(2).kinds(),
        &[
            MaskKind::Checkerboard { parity: 0 },
            MaskKind::Checkerboard { parity: 1 }
        ]
    );
    let froms: Vec<usize> = MaskSchedule::cycle(8)
        .kinds()
        .iter()
        .map(|k| match k {
            MaskKind::Cycle { from } => from.index(),
            other => panic!("not a cycle: {other}"),
        })
        .collect();
    assert_eq!(froms, [0, 1, 2, 3, 0, 1, 2, 3]);
    // The reference's 3-layer co-adaptation flow transforms the bottom half first.
    assert_eq!(
        MaskSchedule::horizontal_from(3, Half::Second).kinds(),
        &[
            MaskKind::Horizontal {
                transform: Half::Second
            },
            MaskKind::Horizontal {
                transform: Half::First
            },
            MaskKind::Horizontal {
                transform: Half::Second
            },
        ]
    );
    assert_eq!(
        MaskSchedule::channel_wise(1).layer(0),
        Some(MaskKind::ChannelWise {
            transform: Half::First
        })
    );
}

#[test]
fn quadrants_are_numbered_clockwise_from_top_left() {
    assert_eq!(Quadrant::from_index(0), Quadrant::TopLeft);
    assert_eq!(Quadrant::from_index(1), Quadrant::TopRight);
    assert_eq!(Quadrant::from_index(2), Quadrant::BottomRight);
    assert_eq!(Quadrant::from_index(3), Quadrant::BottomLeft);
    assert_eq!(Quadrant::from_index(7), Quadrant::BottomLeft);
    for q in Quadrant::ALL {
        assert_eq!(Quadrant::from_index(q.index()), q);
        assert_eq!(q.next().index(), (q.index() + 1) % 4);
        assert_eq!(q.next().next().next().next(), q);
    }
}

#[test]
fn bad_shapes_give_errors_that_name_kind_and_shape() {
    let cases = [
        (
            MaskKind::ChannelWise {
                transform: Half::First,
            },
            MaskShape::image(3, 4, 4),
            "channel-wise",
        ),
        (
            MaskKind::Horizontal {
                transform: Half::First,
            },
            MaskShape::image(1, 5, 4),
            "horizontal",
        ),
        (
            MaskKind::Vertical {
                transform: Half::Second,
            },
            MaskShape::image(1, 4, 5),
            "vertical",
        ),
        (
            MaskKind::Cycle {
                from: Quadrant::TopLeft,
            },
            MaskShape::image(1, 4, 3),
            "cycle",
        ),
        (
            MaskKind::TabularHalves {
                transform: Half::First,
            },
            MaskShape::image(2, 2, 2),
            "tabular",
        ),
        (
            MaskKind::TabularHalves {
                transform: Half::First,
            },
            MaskShape::vector(1),
            "tabular",
        ),
        (
            MaskKind::Checkerboard { parity: 0 },
            MaskShape::vector(4),
            "checkerboard",
        ),
        (
            MaskKind::Checkerboard { parity: 2 },
            MaskShape::image(1, 4, 4),
            "parity",
        ),
        (
            MaskKind::Checkerboard { parity: 0 },
            MaskShape::image(0, 4, 4),
            "empty",
        ),
    ];
    for (kind, shape, word) in cases {
        let err = kind.build(shape).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&shape.to_string()), "{message}");
        assert!(message.contains(word), "{message}");
        assert!(message.contains(&kind.to_string()), "{message}");
    }
}

#[test]
fn out_of_range_layer_is_an_error() {
    let shape = MaskShape::image(1, 4, 4);
    let schedule = MaskSchedule::checkerboard(3);
    assert!(schedule.mask(2, shape).is_ok());
    assert_eq!(schedule.layer(3), None);
    let err = schedule.mask(3, shape).unwrap_err();
    assert_eq!(
        err,
        MaskError::LayerOutOfRange {
            index: 3,
            len: 3,
            shape
        }
    );
    assert!(err.to_string().contains("1x4x4"));
    assert!(MaskSchedule::new(vec![]).is_empty());
    assert!(MaskSchedule::cycle(4)
        .render(MaskShape::image(1, 3, 4))
        .is_err());
}

#[test]
fn grid_reads_outside_its_shape_as_unselected() {
    let mask = MaskKind::Checkerboard { parity: 0 }
        .build(MaskShape::image(1, 2, 2))
        .unwrap();
    assert_eq!(mask.transform().try_get(0, 0, 0), Some(true));
    assert_eq!(mask.transform().try_get(1, 0, 0), None);
    assert!(!mask.transform().get(0, 2, 0));
    assert_eq!(mask.role(0, 0, 9), Role::Neither);
}
