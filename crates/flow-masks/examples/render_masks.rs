//! Prints every built-in mask schedule on a 1x8x8 image, so the masks can be checked by
//! eye. Channel-wise and tabular masks cannot split one channel of pixels: for those the
//! example prints the error, then the schedule on a shape they are meant for.
//!
//! Run with `cargo run -p flow-masks --example render_masks`.

use flow_masks::{MaskError, MaskSchedule, MaskShape};

fn main() -> Result<(), MaskError> {
    let image = MaskShape::image(1, 8, 8);
    let schedules = [
        ("checkerboard", MaskSchedule::checkerboard(2), None),
        ("horizontal", MaskSchedule::horizontal(2), None),
        ("vertical", MaskSchedule::vertical(2), None),
        ("cycle", MaskSchedule::cycle(4), None),
        (
            "channel-wise",
            MaskSchedule::channel_wise(2),
            Some(MaskShape::image(4, 2, 2)),
        ),
        (
            "tabular",
            MaskSchedule::tabular(2),
            Some(MaskShape::vector(8)),
        ),
    ];
    for (name, schedule, fallback) in &schedules {
        println!("== {name} on {image} ==");
        match (schedule.render(image), fallback) {
            (Ok(picture), _) => println!("{picture}"),
            (Err(err), Some(shape)) => {
                println!("error: {err}\n");
                println!("== {name} on {shape} ==");
                println!("{}", schedule.render(*shape)?);
            }
            (Err(err), None) => return Err(err),
        }
    }
    Ok(())
}
