//! Input complexity, Serrà et al., "Input Complexity and Out-of-Distribution Detection
//! with Likelihood-Based Generative Models" (ICLR 2020).

use std::io::Write;

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::likelihood::log_likelihood_nats;
use super::{Score, ScoreError};
use crate::units::{Bits, Nats};
use crate::Orientation;

/// A lossless codec whose output length measures an image's complexity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// A PNG file (8-bit gray or RGB, adaptive row filters, DEFLATE at level 9), header
    /// and chunk framing included: Serrà et al.'s choice.
    Png,
    /// The raw pixels (planar, as stored) through zlib DEFLATE at level 9: a
    /// general-purpose lossless coder with no image model (no row filters).
    Deflate,
}

impl Codec {
    /// The codec's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Png => "PNG",
            Codec::Deflate => "DEFLATE",
        }
    }

    /// The length `L(x)` of the compressed image `pixels` (`[C, H, W]` bytes, `C` 1 or
    /// 3).
    ///
    /// # Errors
    /// [`ScoreError::Compress`] for a channel count other than 1 or 3 (PNG), a pixel
    /// count that does not match the shape, or an encoder failure.
    pub fn compressed_bits(self, pixels: &[u8], [c, h, w]: [usize; 3]) -> Result<Bits, ScoreError> {
        let fail = |message: String| ScoreError::Compress {
            codec: self.name(),
            message,
        };
        if pixels.len() != c * h * w {
            return Err(fail(format!(
                "{} pixels for a {c}x{h}x{w} image",
                pixels.len()
            )));
        }
        let bytes = match self {
            Codec::Png => png_bytes(pixels, [c, h, w]).map_err(fail)?,
            Codec::Deflate => {
                let mut encoder =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
                encoder
                    .write_all(pixels)
                    .and_then(|()| encoder.finish())
                    .map_err(|e| fail(e.to_string()))?
            }
        };
        Ok(Bits::from_bytes(bytes.len()))
    }
}

/// `pixels` (`[C, H, W]`) as a PNG file in memory.
fn png_bytes(pixels: &[u8], [c, h, w]: [usize; 3]) -> Result<Vec<u8>, String> {
    let color = match c {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        _ => return Err(format!("PNG holds 1 or 3 channels, not {c}")),
    };
    let (width, height) = match (u32::try_from(w), u32::try_from(h)) {
        (Ok(width), Ok(height)) => (width, height),
        _ => return Err(format!("a {h}x{w} image is too large for PNG")),
    };
    // PNG stores channels interleaved per pixel; ours are planar.
    let plane = h * w;
    let interleaved: Vec<u8> = (0..plane)
        .flat_map(|i| (0..c).map(move |ch| pixels[ch * plane + i]))
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::Level(9));
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&interleaved)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// The 8-bit pixels behind dequantized values `v = (k + u) / 256`, `u` in `[0, 1)`:
/// `k = floor(256 v)`, clamped to `0..=255`.
pub(super) fn quantized_pixels(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .map(|v| (v * 256.0).floor().clamp(0.0, 255.0) as u8)
        .collect()
}

/// `S(x) = -log2 p(x) - L(x)`: the flow's code length for the image less the codec's.
pub fn input_complexity(log_p: Nats, length: Bits) -> Bits {
    -log_p.to_bits() - length
}

/// `S(x) = -log2 p(x) - L(x)` in bits: the flow's code length for the 8-bit image (its
/// discrete log-likelihood, the one bits/dim reports, converted from nats) minus the
/// length of the same image under a lossless codec. Both terms are [`Bits`]; the
/// codec length stands in for a universal model's, so the difference keeps what the
/// flow explains beyond generic image complexity. Higher means more
/// out-of-distribution (a simple image that the flow likes only because it is simple
/// scores low on both terms).
///
/// The 8-bit pixels are recovered from the dequantized input (`floor(256 x)`), so the
/// score takes the same batches as every other.
#[derive(Debug, Clone, Copy)]
pub struct InputComplexity<'a, B: FlowBackend> {
    model: &'a FlowNet<B>,
    codec: Codec,
}

impl<'a, B: FlowBackend> InputComplexity<'a, B> {
    /// The input complexity of `model` under `codec`.
    pub fn new(model: &'a FlowNet<B>, codec: Codec) -> Self {
        Self { model, codec }
    }

    /// The compressed length `L(x)` of every image of `x`.
    pub fn lengths(&self, x: Tensor<B, 4>) -> Result<Vec<Bits>, ScoreError> {
        let [n, c, h, w] = x.dims();
        let values = x
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(|e| ScoreError::Readback {
                score: self.name().to_string(),
                message: format!("{e:?}"),
            })?;
        let pixels = quantized_pixels(&values);
        let per = c * h * w;
        (0..n)
            .map(|i| {
                self.codec
                    .compressed_bits(&pixels[i * per..(i + 1) * per], [c, h, w])
            })
            .collect()
    }
}

impl<B: FlowBackend> Score<B> for InputComplexity<'_, B> {
    fn name(&self) -> &str {
        match self.codec {
            Codec::Png => "input complexity (PNG)",
            Codec::Deflate => "input complexity (DEFLATE)",
        }
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsOutOfDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let lengths = self.lengths(x.clone())?;
        let log_p = log_likelihood_nats(self.model, self.name(), x)?;
        Ok(log_p
            .iter()
            .zip(lengths)
            .map(|(&nats, length)| input_complexity(Nats(nats), length).value())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{constant_images, random_images, tiny_flow};
    use crate::Xoshiro256PlusPlus;
    use rand::Rng;

    #[test]
    fn a_constant_image_compresses_to_far_fewer_bits_than_noise() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let noise: Vec<u8> = (0..3 * 32 * 32).map(|_| rng.random()).collect();
        let constant = vec![117u8; 3 * 32 * 32];
        for codec in [Codec::Png, Codec::Deflate] {
            let noisy = codec.compressed_bits(&noise, [3, 32, 32]).unwrap();
            let flat = codec.compressed_bits(&constant, [3, 32, 32]).unwrap();
            // Noise cannot be compressed below its 8 bits per value; a constant image
            // needs a few hundred bits of framing.
            assert!(
                noisy.value() >= 8.0 * noise.len() as f64,
                "{codec:?} {noisy:?}"
            );
            assert!(
                flat.value() * 20.0 < noisy.value(),
                "{codec:?} {flat:?} {noisy:?}"
            );
        }
    }

    #[test]
    fn png_lengths_are_those_of_a_decodable_file_of_the_same_pixels() {
        let pixels: Vec<u8> = (0..2 * 3 * 5).map(|i| (i * 37 % 256) as u8).collect();
        let rgb: Vec<u8> = [pixels.clone(), pixels.clone(), pixels].concat();
        let bytes = png_bytes(&rgb, [3, 6, 5]).unwrap();
        let decoded = png::Decoder::new(std::io::Cursor::new(&bytes))
            .read_info()
            .unwrap();
        assert_eq!(decoded.info().width, 5);
        assert_eq!(decoded.info().height, 6);
        assert_eq!(
            Codec::Png.compressed_bits(&rgb, [3, 6, 5]).unwrap(),
            Bits::from_bytes(bytes.len())
        );
        assert!(Codec::Png.compressed_bits(&rgb, [2, 9, 5]).is_err());
        assert!(Codec::Png.compressed_bits(&rgb, [3, 6, 4]).is_err());
    }

    #[test]
    fn dequantized_values_map_back_to_their_pixels() {
        let values: Vec<f32> = (0..=255u8)
            .flat_map(|k| [0.0f32, 0.999].map(|u| (f32::from(k) + u) / 256.0))
            .collect();
        let expected: Vec<u8> = (0..=255u8).flat_map(|k| [k, k]).collect();
        assert_eq!(quantized_pixels(&values), expected);
    }

    #[test]
    fn the_score_is_the_flow_code_length_minus_the_codec_length_in_bits() {
        let model = tiny_flow(4);
        let score = InputComplexity::new(&model, Codec::Png);
        let x = random_images(3, 9);
        let s = score.score(x.clone()).unwrap();
        let lengths = score.lengths(x.clone()).unwrap();
        let nats = log_likelihood_nats(&model, "ll", x).unwrap();
        for i in 0..3 {
            let expected = -nats[i] / std::f64::consts::LN_2 - lengths[i].value();
            assert!((s[i] - expected).abs() < 1e-9);
        }
        // The constant image is simpler than noise under the codec.
        let flat = score.lengths(constant_images(1, 200)).unwrap();
        assert!(flat[0] < lengths[0]);
    }
}
