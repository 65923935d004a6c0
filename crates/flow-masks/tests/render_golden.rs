//! Golden pictures of every kind on a small shape: `c` conditioned on, `t` transformed,
//! `.` neither.

use flow_masks::{Half, MaskKind, MaskSchedule, MaskShape, Quadrant};

fn render(kind: MaskKind, shape: MaskShape) -> String {
    kind.build(shape).unwrap().render()
}

#[test]
fn checkerboard_parity_0_transforms_the_top_left_corner() {
    let picture = "\
tctc
ctct
tctc
";
    let shape = MaskShape::image(1, 3, 4);
    assert_eq!(render(MaskKind::Checkerboard { parity: 0 }, shape), picture);
}

#[test]
fn checkerboard_parity_1_is_the_other_colour() {
    let picture = "\
ctct
tctc
ctct
";
    let shape = MaskShape::image(1, 3, 4);
    assert_eq!(render(MaskKind::Checkerboard { parity: 1 }, shape), picture);
}

#[test]
fn checkerboard_is_drawn_once_when_every_channel_matches() {
    let picture = "\
tc
ct
";
    let shape = MaskShape::image(3, 2, 2);
    assert_eq!(render(MaskKind::Checkerboard { parity: 0 }, shape), picture);
}

#[test]
fn channel_wise_draws_one_block_per_channel() {
    let picture = "\
channel 0:
ttt
ttt
channel 1:
ttt
ttt
channel 2:
ccc
ccc
channel 3:
ccc
ccc
";
    let shape = MaskShape::image(4, 2, 3);
    let kind = MaskKind::ChannelWise {
        transform: Half::First,
    };
    assert_eq!(render(kind, shape), picture);
}

#[test]
fn horizontal_first_transforms_the_top_half() {
    let picture = "\
ttt
ttt
ccc
ccc
";
    let kind = MaskKind::Horizontal {
        transform: Half::First,
    };
    assert_eq!(render(kind, MaskShape::image(1, 4, 3)), picture);
}

#[test]
fn vertical_second_transforms_the_right_half() {
    let picture = "\
cctt
cctt
";
    let kind = MaskKind::Vertical {
        transform: Half::Second,
    };
    assert_eq!(render(kind, MaskShape::image(1, 2, 4)), picture);
}

#[test]
fn cycle_from_top_right_transforms_bottom_right_only() {
    let picture = "\
..cc
..cc
..tt
..tt
";
    let kind = MaskKind::Cycle {
        from: Quadrant::TopRight,
    };
    assert_eq!(render(kind, MaskShape::image(2, 4, 4)), picture);
}

#[test]
fn tabular_draws_a_vector_on_one_line() {
    let kind = MaskKind::TabularHalves {
        transform: Half::First,
    };
    // An odd vector puts the extra feature in the second half.
    assert_eq!(render(kind, MaskShape::vector(5)), "ttccc\n");
}

#[test]
fn cycle_schedule_walks_round_the_quadrants() {
    let picture = "\
layer 0: cycle (0 (top-left) -> 1 (top-right))
ct
..

layer 1: cycle (1 (top-right) -> 2 (bottom-right))
.c
.t

layer 2: cycle (2 (bottom-right) -> 3 (bottom-left))
..
tc

layer 3: cycle (3 (bottom-left) -> 0 (top-left))
t.
c.

layer 4: cycle (0 (top-left) -> 1 (top-right))
ct
..
";
    let rendered = MaskSchedule::cycle(5)
        .render(MaskShape::image(1, 2, 2))
        .unwrap();
    assert_eq!(rendered, picture);
}

#[test]
fn tabular_schedule_alternates() {
    let picture = "\
layer 0: tabular halves (transforms the first half of the features)
tttccc

layer 1: tabular halves (transforms the second half of the features)
cccttt
";
    let rendered = MaskSchedule::tabular(2)
        .render(MaskShape::vector(6))
        .unwrap();
    assert_eq!(rendered, picture);
}
