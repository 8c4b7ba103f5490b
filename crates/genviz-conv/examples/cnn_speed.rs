//! The small CNN on the CPU engine: seconds for one point on 20,000 random images and for a
//! forward and backward pass over 128 of them, to profile the engine alone (`genviz bench`
//! reports the same workloads next to burn's).
//!
//! `cargo run -p genviz-conv --example cnn_speed -- [REPEATS]`

use genviz_conv::{init_params, Arch, ConvSpec, CpuCnn};
use genviz_core::network::MeanWeights;
use genviz_core::rng::stream;
use genviz_core::{Dataset, Network};
use rand::Rng as _;
use std::time::Instant;

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let spec = ConvSpec {
        arch: Arch::small_cnn(),
        input: [1, 28, 28],
        num_classes: 10,
    };
    let net = CpuCnn::new(spec).expect("a valid spec");
    let theta = init_params(net.layout(), &mut stream(4, "init")).into_values();
    let images = |n: usize| {
        let mut r = stream(5, "images");
        Dataset::new(
            (0..n * 784).map(|_| r.gen_range(0.0f32..1.0)).collect(),
            (0..n as u32).map(|i| i % 10).collect(),
            784,
            10,
        )
        .expect("a valid data set")
    };
    let (many, batch) = (images(20_000), images(128));
    let best = |f: &mut dyn FnMut()| {
        (0..repeats)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let point = best(&mut || {
        net.evaluate(&[&theta], &many);
    });
    let weights = MeanWeights::new(128);
    let mut grad = vec![0f32; theta.len()];
    let step = best(&mut || {
        net.loss_grad(&theta, &weights.batch(&batch), &mut grad);
    });
    println!(
        "{{\"point_20k_s\": {point:.3}, \"train_images_per_s\": {:.0}, \"threads\": {}}}",
        128.0 / step,
        rayon::current_num_threads()
    );
}
