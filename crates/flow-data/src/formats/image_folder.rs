//! Folders of PNG or JPEG images.
//!
//! Two layouts are read:
//! - **flat**: image files directly in the folder; every image gets label 0;
//! - **one subfolder per class**: `root/<class>/<image>`; classes are the subfolder names in
//!   byte order, labelled 0, 1, ... in that order.
//!
//! Files are taken in byte order of their names, so the same folder always gives the same
//! dataset. Names starting with `.` are skipped, as are files whose extension is not `png`,
//! `jpg` or `jpeg` (any case). The format is recognised from the contents.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::dataset::{ImageDataset, ImageShape};
use crate::error::{DataError, FormatError, Result};

/// How many channels to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// One channel; colour images are converted to luminance.
    Gray,
    /// Three channels; grayscale images are repeated across them.
    Rgb,
    /// Whatever the first image (in reading order) is: one channel if it has no colour,
    /// three if it has; later images are converted to match.
    #[default]
    Auto,
}

/// A dataset read from an image folder, with where each image came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFolder {
    /// The images and their labels.
    pub dataset: ImageDataset,
    /// Class names, indexed by label (`[""]` for a flat folder).
    pub class_names: Vec<String>,
    /// The file of each image, in dataset order.
    pub files: Vec<PathBuf>,
}

/// Reads every PNG and JPEG image under `root` (see the module docs for the layouts).
/// All images must have the same width and height; the first one that differs is named in
/// the error.
pub fn read_image_folder(root: &Path, mode: ColorMode) -> Result<ImageFolder> {
    let (files, class_names) = list_images(root)?;
    if files.is_empty() {
        return Err(DataError::NoImages {
            path: root.to_path_buf(),
        });
    }
    let mut channels = match mode {
        ColorMode::Gray => Some(1),
        ColorMode::Rgb => Some(3),
        ColorMode::Auto => None,
    };
    let mut first: Option<(PathBuf, u32, u32)> = None;
    let mut pixels = Vec::new();
    let mut labels = Vec::with_capacity(files.len());
    for (path, label) in &files {
        let image = decode(path)?;
        let (width, height) = (image.width(), image.height());
        match &first {
            None => first = Some((path.clone(), width, height)),
            Some((first_path, w, h)) if (*w, *h) != (width, height) => {
                return Err(DataError::MixedSizes {
                    path: path.clone(),
                    first: first_path.clone(),
                    expected: format!("{w}x{h}"),
                    found: format!("{width}x{height}"),
                });
            }
            Some(_) => {}
        }
        let c = *channels.get_or_insert(if image.color().has_color() { 3 } else { 1 });
        append_chw(&image, c, &mut pixels);
        labels.push(*label);
    }
    let (_, width, height) = first.ok_or_else(|| DataError::NoImages {
        path: root.to_path_buf(),
    })?;
    let shape = ImageShape::new(channels.unwrap_or(1), height as usize, width as usize);
    Ok(ImageFolder {
        dataset: ImageDataset::new(shape, pixels, labels)?,
        class_names,
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}

fn decode(path: &Path) -> Result<DynamicImage> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    // Decoders accept a file cut after its last pixel (and the JPEG decoder fills in
    // missing pixels); the missing end marker is how such a file is told apart.
    // (JPEG entropy-coded data escapes every 0xFF, so its marker cannot occur by accident.)
    let end_marker: Option<(&str, &[u8])> = match reader.format() {
        Some(ImageFormat::Jpeg) => Some(("JPEG", &JPEG_EOI)),
        Some(ImageFormat::Png) => Some(("PNG", PNG_IEND)),
        _ => None,
    };
    if let Some((format, marker)) = end_marker {
        if !bytes.windows(marker.len()).any(|w| w == marker) {
            return Err(DataError::format(
                path,
                FormatError::MissingEnd(format!(
                    "{format} file of {} bytes has no end marker",
                    bytes.len()
                )),
            ));
        }
    }
    reader.decode().map_err(|error| DataError::Image {
        path: path.to_path_buf(),
        error,
    })
}

/// The JPEG end-of-image marker.
const JPEG_EOI: [u8; 2] = [0xFF, 0xD9];
/// A PNG's final chunk, whole: IEND is always empty, so its CRC is fixed too.
const PNG_IEND: &[u8] = b"\0\0\0\0IEND\xAE\x42\x60\x82";

/// Appends the image as `channels x H x W` bytes (the decoder gives H x W x C).
fn append_chw(image: &DynamicImage, channels: usize, out: &mut Vec<u8>) {
    if channels == 1 {
        out.extend_from_slice(image.to_luma8().as_raw());
        return;
    }
    let rgb = image.to_rgb8();
    let raw = rgb.as_raw();
    for c in 0..3 {
        out.extend(raw.iter().skip(c).step_by(3));
    }
}

/// The image files with their labels, and the class names indexed by label.
type Listing = (Vec<(PathBuf, u32)>, Vec<String>);

/// Lists the images under `root` (see the module docs for the layouts).
fn list_images(root: &Path) -> Result<Listing> {
    let (dirs, files) = sorted_entries(root)?;
    if dirs.is_empty() {
        let files = files.into_iter().map(|f| (f, 0)).collect();
        return Ok((files, vec![String::new()]));
    }
    if let Some(loose) = files.first() {
        return Err(DataError::InvalidDataset(format!(
            "{}: image beside class subfolders; put every image in a class subfolder or \
             none",
            loose.display()
        )));
    }
    let mut out = Vec::new();
    let mut names = Vec::with_capacity(dirs.len());
    for (label, dir) in dirs.iter().enumerate() {
        let label = u32::try_from(label).map_err(|_| {
            DataError::InvalidDataset(format!("{}: too many classes", root.display()))
        })?;
        let (_, files) = sorted_entries(dir)?;
        out.extend(files.into_iter().map(|f| (f, label)));
        names.push(
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    Ok((out, names))
}

/// Visible subfolders and image files of `dir`, each sorted by name.
fn sorted_entries(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let read = fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    for entry in read {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| DataError::io(&path, e))?;
        // Follow symlinks: a folder of links to images is a common way to build a split.
        let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        if is_dir {
            dirs.push(path);
        } else if has_image_extension(&path) {
            files.push(path);
        }
    }
    dirs.sort();
    files.sort();
    Ok((dirs, files))
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, RgbImage};
    use proptest::prelude::*;

    fn gray(w: u32, h: u32, base: u8) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            image::Luma([base.wrapping_add((y * w + x) as u8)])
        })
    }

    #[test]
    fn flat_grayscale_png_folder_reads_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        gray(3, 2, 100).save(dir.path().join("b.png")).unwrap();
        gray(3, 2, 10).save(dir.path().join("a.PNG")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let f = read_image_folder(dir.path(), ColorMode::Auto).unwrap();
        assert_eq!(f.dataset.shape(), ImageShape::new(1, 2, 3));
        assert_eq!(f.dataset.image(0).unwrap(), &[10, 11, 12, 13, 14, 15]);
        assert_eq!(f.dataset.image(1).unwrap()[0], 100);
        assert_eq!(f.dataset.labels(), &[0, 0]);
        assert!(f.files[0].ends_with("a.PNG"));
    }

    #[test]
    fn class_subfolders_give_labels_and_rgb_is_channel_major() {
        let dir = tempfile::tempdir().unwrap();
        for class in ["cat", "ant"] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
        }
        let rgb = RgbImage::from_fn(2, 1, |x, _| image::Rgb([x as u8, 50 + x as u8, 200]));
        rgb.save(dir.path().join("cat/1.png")).unwrap();
        gray(2, 1, 7).save(dir.path().join("ant/1.png")).unwrap();
        // JPEG is lossy: a flat colour survives closely enough to check it was read.
        RgbImage::from_pixel(2, 1, image::Rgb([0, 0, 0]))
            .save(dir.path().join("cat/2.jpg"))
            .unwrap();
        let f = read_image_folder(dir.path(), ColorMode::Rgb).unwrap();
        assert_eq!(f.class_names, vec!["ant", "cat"]);
        assert_eq!(f.dataset.labels(), &[0, 1, 1]);
        assert_eq!(f.dataset.shape(), ImageShape::new(3, 1, 2));
        assert_eq!(f.dataset.image(0).unwrap(), &[7, 8, 7, 8, 7, 8]);
        assert_eq!(f.dataset.image(1).unwrap(), &[0, 1, 50, 51, 200, 200]);
        assert!(f.dataset.image(2).unwrap().iter().all(|&p| p < 8));
        // Auto follows the first image (gray), converting the colour ones.
        let auto = read_image_folder(dir.path(), ColorMode::Auto).unwrap();
        assert_eq!(auto.dataset.shape().channels, 1);
    }

    #[test]
    fn mixed_sizes_name_the_odd_file() {
        let dir = tempfile::tempdir().unwrap();
        gray(4, 4, 0).save(dir.path().join("a.png")).unwrap();
        gray(4, 5, 0).save(dir.path().join("b.png")).unwrap();
        let err = read_image_folder(dir.path(), ColorMode::Gray).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::MixedSizes { .. }));
        assert!(
            msg.contains("b.png: image is 4x5") && msg.contains("a.png"),
            "{msg}"
        );
    }

    #[test]
    fn empty_folders_and_loose_files_beside_classes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_image_folder(dir.path(), ColorMode::Auto),
            Err(DataError::NoImages { .. })
        ));
        std::fs::create_dir(dir.path().join("c")).unwrap();
        gray(1, 1, 0).save(dir.path().join("c/x.png")).unwrap();
        gray(1, 1, 0).save(dir.path().join("loose.png")).unwrap();
        let err = read_image_folder(dir.path(), ColorMode::Auto)
            .unwrap_err()
            .to_string();
        assert!(err.contains("loose.png"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_or_truncated_image_bytes_are_errors_naming_the_file(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
            cut_fraction in 0.0f64..1.0,
            png in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("bad.png");
            std::fs::write(&path, &bytes).unwrap();
            if let Err(e) = read_image_folder(dir.path(), ColorMode::Auto) {
                prop_assert!(e.to_string().contains("bad.png"));
            }
            // A real image cut short.
            let mut encoded = std::io::Cursor::new(Vec::new());
            let format = if png { image::ImageFormat::Png } else { image::ImageFormat::Jpeg };
            gray(8, 8, 3).write_to(&mut encoded, format).unwrap();
            let encoded = encoded.into_inner();
            let cut = (encoded.len() as f64 * cut_fraction) as usize;
            std::fs::write(&path, &encoded[..cut]).unwrap();
            let result = read_image_folder(dir.path(), ColorMode::Auto);
            prop_assert!(result.is_err(), "a file cut at {} of {} bytes was read", cut, encoded.len());
        }
    }
}
