//! `evaluate` time of the ONNX path against genviz's native path on the same network (run by
//! hand: `cargo test -p genviz-onnx --test speed -- --ignored --nocapture`; prints JSON lines).

use genviz_conv::{Arch, ConvNet, ConvSpec};
use genviz_core::rng::stream;
use genviz_core::{Dataset, Network};
use genviz_mlp::{Init, Mlp, MlpSpec};
use genviz_onnx::{export_conv, export_mlp, CpuBackend, Head, OnnxModel, OnnxNet, OnnxOptions};
use rand::Rng as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Seconds per parameter vector of `net.evaluate` on `thetas` (best of `repeats`).
fn time(net: &dyn Network, thetas: &[Vec<f32>], data: &Dataset, repeats: usize) -> f64 {
    let refs: Vec<&[f32]> = thetas.iter().map(Vec::as_slice).collect();
    let _ = net.evaluate(&refs[..1], data);
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            let out = net.evaluate(&refs, data);
            assert!(out.iter().all(|e| e.loss.is_finite()));
            t.elapsed().as_secs_f64() / thetas.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn onnx(bytes: &[u8], head: Head) -> OnnxNet<CpuBackend> {
    let options = OnnxOptions {
        head: Some(head),
        ..Default::default()
    };
    let model = OnnxModel::from_bytes(bytes, Path::new("speed.onnx"), &options).unwrap();
    OnnxNet::new(Arc::new(model), Default::default())
}

fn perturbed(theta: &[f32], count: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = stream(seed, "points");
    (0..count)
        .map(|_| {
            theta
                .iter()
                .map(|&v| v + rng.gen_range(-0.01f32..0.01))
                .collect()
        })
        .collect()
}

#[test]
#[ignore = "a measurement, run by hand"]
fn evaluate_speed_onnx_vs_native() {
    let threads = rayon::current_num_threads();
    // The paper's swiss-roll net on the paper's 400 points.
    let spec = MlpSpec::swiss_roll();
    let native = Mlp::new(spec.clone()).unwrap();
    let theta =
        genviz_mlp::init_params(&spec, Init::GlorotUniform, &mut stream(1, "init")).into_values();
    let exported = onnx(&export_mlp(&spec, &theta).unwrap(), Head::Sigmoid);
    let data = genviz_data::SwissRoll::default().generate(&mut stream(2, "data"));
    let thetas = perturbed(&theta, 64, 3);
    let (n, o) = (
        time(&native, &thetas, &data, 3),
        time(&exported, &thetas, &data, 3),
    );
    println!(
        "{{\"net\": \"swiss_roll_mlp\", \"examples\": {}, \"points\": {}, \"threads\": {threads}, \"native_s_per_point\": {n:.3e}, \"onnx_s_per_point\": {o:.3e}, \"onnx_over_native\": {:.1}}}",
        data.len(),
        thetas.len(),
        o / n
    );

    // The small CNN on 500 Fashion-MNIST-sized images.
    let spec = ConvSpec {
        arch: Arch::small_cnn(),
        input: [1, 28, 28],
        num_classes: 10,
    };
    let native: ConvNet<CpuBackend> = ConvNet::new(spec.clone(), Default::default()).unwrap();
    let theta = genviz_conv::init_params(native.layout(), &mut stream(4, "init")).into_values();
    let exported = onnx(&export_conv(&spec, &theta).unwrap(), Head::Softmax);
    let mut rng = stream(5, "images");
    let images = Dataset::new(
        (0..500 * 784).map(|_| rng.gen_range(0.0f32..1.0)).collect(),
        (0..500).map(|i| i % 10).collect(),
        784,
        10,
    )
    .unwrap();
    let thetas = perturbed(&theta, 4, 6);
    let (n, o) = (
        time(&native, &thetas, &images, 3),
        time(&exported, &thetas, &images, 3),
    );
    println!(
        "{{\"net\": \"small_cnn\", \"examples\": 500, \"points\": {}, \"threads\": {threads}, \"native_s_per_point\": {n:.3e}, \"onnx_s_per_point\": {o:.3e}, \"onnx_over_native\": {:.2}}}",
        thetas.len(),
        o / n
    );
}
