//! A measurement for choosing the CPU conv engine: the small CNN's forward pass (`--model
//! cnn`: 5x5 convolutions of 16 and 32 filters with padding 2, ReLU and 2x2 max pooling after
//! each, a 128-unit hidden layer, 10 classes) on 20,000 28x28 images, with every convolution
//! lowered to genviz's own dense kernel by im2col. Compare its seconds with `genviz bench`'s
//! `conv_point_20k_s` (burn's CPU backend) run just before or after.
//!
//! `cargo run --release -p genviz-mlp --example conv_im2col -- [IMAGES] [BATCH]`
//!
//! Only the forward arithmetic is here (no loss, no layout checks): it bounds what an im2col
//! engine would reach, it is not one.

use genviz_mlp::kernels::{linear_forward_relu, LANES};
use rayon::prelude::*;
use std::time::Instant;

/// `input` is `[channels, batch, side, side]`; returns im2col rows `[channels * 25, batch *
/// side * side]` for a 5x5 kernel with padding 2 (column = image-major, then pixel).
fn im2col(input: &[f32], channels: usize, batch: usize, side: usize) -> Vec<f32> {
    let pixels = batch * side * side;
    let mut out = vec![0f32; channels * 25 * pixels];
    out.chunks_mut(pixels).enumerate().for_each(|(row, dst)| {
        let (c, k) = (row / 25, row % 25);
        let (dy, dx) = ((k / 5) as isize - 2, (k % 5) as isize - 2);
        for b in 0..batch {
            let src = &input[(c * batch + b) * side * side..][..side * side];
            for y in 0..side {
                let sy = y as isize + dy;
                if sy < 0 || sy >= side as isize {
                    continue;
                }
                // The valid x of this row are contiguous: one copy.
                let x0 = (-dx).max(0) as usize;
                let x1 = (side as isize - dx).min(side as isize) as usize;
                let from = sy as usize * side;
                dst[(b * side + y) * side + x0..(b * side + y) * side + x1].copy_from_slice(
                    &src[(from as isize + x0 as isize + dx) as usize..][..x1 - x0],
                );
            }
        }
    });
    out
}

/// 2x2 max pooling of `[channels, batch, side, side]`.
fn pool(input: &[f32], channels: usize, batch: usize, side: usize) -> Vec<f32> {
    let half = side / 2;
    let mut out = vec![0f32; channels * batch * half * half];
    out.chunks_mut(half * half)
        .enumerate()
        .for_each(|(plane, dst)| {
            let src = &input[plane * side * side..][..side * side];
            for y in 0..half {
                for x in 0..half {
                    let at = |yy: usize, xx: usize| src[(2 * y + yy) * side + 2 * x + xx];
                    dst[y * half + x] = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                }
            }
        });
    out
}

/// A dense layer with ReLU over `cols` columns.
fn dense(w: &[f32], bias: &[f32], inp: &[f32], n_in: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; bias.len() * cols];
    linear_forward_relu(w, bias, inp, &mut out, n_in, cols);
    out
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let images = args.first().copied().unwrap_or(20_000);
    let batch = args.get(1).copied().unwrap_or(32);
    let value = |i: usize| ((i.wrapping_mul(2_654_435_761) >> 7) % 1000) as f32 / 1000.0 - 0.5;
    let (c1, c2, hidden) = (16, 32, 128);
    let w1: Vec<f32> = (0..c1 * 25).map(|i| 0.2 * value(i)).collect();
    let w2: Vec<f32> = (0..c2 * c1 * 25).map(|i| 0.05 * value(i + 7)).collect();
    let w3: Vec<f32> = (0..hidden * c2 * 49)
        .map(|i| 0.02 * value(i + 11))
        .collect();
    let w4: Vec<f32> = (0..10 * hidden).map(|i| 0.1 * value(i + 13)).collect();
    let (b1, b2, b3, b4) = (
        vec![0.01; c1],
        vec![0.01; c2],
        vec![0.01; hidden],
        vec![0.0; 10],
    );
    let flops_per_image = 2.0 * (28.0 * 28.0 * 16.0 * 25.0 + 14.0 * 14.0 * 32.0 * 400.0)
        + 2.0 * (1568.0 * 128.0 + 1280.0);
    let mut best = f64::INFINITY;
    let mut checksum = 0f64;
    for _ in 0..3 {
        let start = Instant::now();
        // Each thread takes whole batches of images through the whole net, one after the other.
        let firsts: Vec<usize> = (0..images).step_by(batch).collect();
        checksum = firsts
            .par_iter()
            .map(|&first| {
                let b = batch.min(images - first);
                let x: Vec<f32> = (0..b * 784).map(|i| value(i + first * 784) + 0.5).collect();
                let a1 = dense(&w1, &b1, &im2col(&x, 1, b, 28), 25, b * 784);
                let p1 = pool(&a1, c1, b, 28);
                let a2 = dense(&w2, &b2, &im2col(&p1, c1, b, 14), 400, b * 196);
                let p2 = pool(&a2, c2, b, 14);
                // [c2, b, 7, 7] to feature-major [c2 * 49, b] (PyTorch's flatten order).
                let cols = b.next_multiple_of(LANES);
                let mut flat = vec![0f32; c2 * 49 * cols];
                for c in 0..c2 {
                    for img in 0..b {
                        for p in 0..49 {
                            flat[(c * 49 + p) * cols + img] = p2[(c * b + img) * 49 + p];
                        }
                    }
                }
                let h = dense(&w3, &b3, &flat, c2 * 49, cols);
                let mut logits = vec![0f32; 10 * cols];
                genviz_mlp::kernels::linear_forward(&w4, &b4, &h, &mut logits, hidden, cols);
                logits.iter().map(|&v| f64::from(v)).sum::<f64>()
            })
            .sum();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{{\"images\": {images}, \"batch\": {batch}, \"threads\": {}, \"seconds\": {best:.3}, \"gflops\": {:.1}, \"checksum\": {checksum:.3}}}",
        rayon::current_num_threads(),
        flops_per_image * images as f64 / best / 1e9
    );
}
