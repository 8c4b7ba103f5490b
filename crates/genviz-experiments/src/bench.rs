//! `genviz bench`: speed figures of the paper's workloads as one JSON object.
//!
//! Every figure is measured in the call that reports it. The Python peers' timings are kept
//! for reference under `peers_measured_elsewhere`, with where and when they were measured; no
//! ratio is computed against them, because a ratio only holds when both sides ran in the same
//! run on the same machine.

use crate::presets;
use anyhow::Result;
use genviz_core::rng;
use genviz_mlp::{init_params, Mlp};
use genviz_train::{train, TrainRequest};
use serde_json::json;
use std::collections::HashMap;

/// fp32 peak of this project's machine (2 Zen 4 cores), GFLOP/s.
const MACHINE_PEAK_GFLOPS: f64 = 200.0;

/// Times a 51 x 51 filter-normalised surface of `net` on `train` (best of `repeats`).
fn time_surface(
    net: &Mlp,
    spec: &genviz_mlp::MlpSpec,
    train: &genviz_core::Dataset,
    repeats: usize,
) -> Result<f64> {
    use genviz_landscape::direction::random_direction;
    use genviz_landscape::{Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
    let theta = init_params(
        spec,
        genviz_mlp::Init::GlorotUniform,
        &mut rng::stream(0, "init"),
    );
    let dir = |k: &str| {
        random_direction(
            &theta,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(0, k),
        )
    };
    let plane = Plane::new(theta.clone(), dir("x"), Some(dir("y")))?;
    let coords = Axis {
        min: -1.0,
        max: 1.0,
        num: 51,
    }
    .coords(Spacing::Linear);
    let empty =
        genviz_core::Dataset::new(Vec::new(), Vec::new(), train.dim(), train.num_classes())?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) + 1 {
        let mut surface = Surface::new(coords.clone(), coords.clone(), 0)?;
        let start = std::time::Instant::now();
        surface.fill(net, &plane, train, &empty, Shard::ALL, &mut |_, _| Ok(()))?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Seconds per parameter vector of `net.evaluate` at `thetas` (best of `repeats`, after one
/// warm-up evaluation).
fn per_point(
    net: &dyn genviz_core::Network,
    thetas: &[Vec<f32>],
    data: &genviz_core::Dataset,
    repeats: usize,
) -> f64 {
    let refs: Vec<&[f32]> = thetas.iter().map(Vec::as_slice).collect();
    net.evaluate(&refs[..1], data);
    (0..repeats.max(1))
        .map(|_| {
            let start = std::time::Instant::now();
            net.evaluate(&refs, data);
            start.elapsed().as_secs_f64() / thetas.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// `count` small perturbations of `theta`: the points of a landscape near a model.
fn near(theta: &[f32], count: usize, seed: u64) -> Vec<Vec<f32>> {
    use rand::Rng as _;
    let mut r = rng::stream(seed, "bench-points");
    (0..count)
        .map(|_| {
            theta
                .iter()
                .map(|&v| v + r.gen_range(-0.01..0.01))
                .collect()
        })
        .collect()
}

/// The ONNX path against the native one on the same networks, in this run: the paper's
/// swiss-roll MLP (64 points, 400 examples) and the small CNN (4 points, 500 28x28 images),
/// each exported with genviz's exporter and read back. genviz-onnx recognises both graphs
/// and runs them on genviz's own engines (the MLP's and the CPU conv engine); the
/// interpreter's time (every node through burn) is reported beside each.
fn onnx_vs_native(repeats: usize) -> Result<serde_json::Value> {
    use genviz_onnx::{CpuBackend, OnnxModel, OnnxNet, OnnxOptions};
    use rand::Rng as _;
    use std::sync::Arc;
    let open = |bytes: Vec<u8>| -> Result<OnnxNet<CpuBackend>> {
        let model = OnnxModel::from_bytes(
            &bytes,
            std::path::Path::new("bench.onnx"),
            &OnnxOptions::default(),
        )?;
        Ok(OnnxNet::new(Arc::new(model), Default::default()))
    };
    let spec = genviz_mlp::MlpSpec::swiss_roll();
    let mlp = Mlp::new(spec.clone())?;
    let theta = init_params(
        &spec,
        genviz_mlp::Init::GlorotUniform,
        &mut rng::stream(1, "init"),
    )
    .into_values();
    let exported = open(genviz_onnx::export_mlp(&spec, &theta)?)?;
    let data = genviz_data::SwissRoll::default().generate(&mut rng::stream(2, "data"));
    let thetas = near(&theta, 64, 3);
    let mlp_native = per_point(&mlp, &thetas, &data, repeats);
    let mlp_onnx = per_point(&exported, &thetas, &data, repeats);
    let mlp_runs_natively = exported.runs_natively();
    let mlp_engine = exported.native_engine();
    let interpreted = exported.clone().interpreted();
    let mlp_interpreted = per_point(&interpreted, &thetas, &data, repeats);

    let spec = genviz_conv::ConvSpec {
        arch: genviz_conv::Arch::small_cnn(),
        input: [1, 28, 28],
        num_classes: 10,
    };
    let cnn = genviz_conv::DeviceNet::new(spec.clone(), genviz_conv::Device::Cpu)?;
    let theta = genviz_conv::init_params(cnn.layout(), &mut rng::stream(4, "init")).into_values();
    let exported = open(genviz_onnx::export_conv(&spec, &theta)?)?;
    let mut r = rng::stream(5, "images");
    let images = genviz_core::Dataset::new(
        (0..500 * 784).map(|_| r.gen_range(0.0f32..1.0)).collect(),
        (0..500).map(|i| i % 10).collect(),
        784,
        10,
    )?;
    let thetas = near(&theta, 4, 6);
    let cnn_native = per_point(&*cnn, &thetas, &images, repeats);
    let cnn_onnx = per_point(&exported, &thetas, &images, repeats);
    let cnn_engine = exported.native_engine();
    let interpreted = exported.clone().interpreted();
    let cnn_interpreted = per_point(&interpreted, &thetas, &images, repeats);
    Ok(json!({
        "workload": "evaluate at many points: the paper's swiss-roll MLP (64 points, 400 examples) and the small CNN (4 points, 500 28x28 images), native vs the same network exported to ONNX and read back; seconds per point, best of the repeats, all measured in this run. genviz-onnx runs both exported graphs on genviz's own engines (*_onnx_engine names which); *_interpreted_* times them with every node through burn",
        "mlp_native_s_per_point": mlp_native,
        "mlp_onnx_s_per_point": mlp_onnx,
        "mlp_onnx_over_native": mlp_onnx / mlp_native,
        "mlp_onnx_runs_natively": mlp_runs_natively,
        "mlp_onnx_engine": mlp_engine,
        "mlp_interpreted_s_per_point": mlp_interpreted,
        "mlp_interpreted_over_native": mlp_interpreted / mlp_native,
        "cnn_native_s_per_point": cnn_native,
        "cnn_onnx_s_per_point": cnn_onnx,
        "cnn_onnx_over_native": cnn_onnx / cnn_native,
        "cnn_onnx_engine": cnn_engine,
        "cnn_interpreted_s_per_point": cnn_interpreted,
        "cnn_interpreted_over_native": cnn_interpreted / cnn_native,
    }))
}

/// The small CNN's speed on the CPU by one engine: seconds for one landscape point on 20,000
/// images, and training images per second.
struct ConvSpeed {
    point_s: f64,
    images_per_s: f64,
}

/// The small CNN (`--model cnn`, 28x28 grey images, 10 classes) on the CPU, by genviz's own
/// engine (what `--model cnn` runs) and by burn's CPU backend, one after the other in this
/// run: seconds for one landscape point on 20,000 images (best of `repeats`, at most 3, after
/// a warm-up; burn's best of at most 2, at several seconds each), and training images per
/// second, from the time of one forward and backward pass over a 128-image batch (what a
/// training step computes; the update itself is microseconds). Random pixels: the speed does
/// not depend on what the images show.
fn conv_speed(repeats: usize) -> Result<[ConvSpeed; 2]> {
    use genviz_core::network::MeanWeights;
    use rand::Rng as _;
    let spec = genviz_conv::ConvSpec {
        arch: genviz_conv::Arch::small_cnn(),
        input: [1, 28, 28],
        num_classes: 10,
    };
    let cnn = genviz_conv::DeviceNet::new(spec.clone(), genviz_conv::Device::Cpu)?;
    let burn = genviz_conv::ConvNet::<genviz_conv::CpuBackend>::new(spec, Default::default())?;
    let theta = genviz_conv::init_params(cnn.layout(), &mut rng::stream(4, "init")).into_values();
    let images = |n: usize, stream: &str| {
        let mut r = rng::stream(5, stream);
        genviz_core::Dataset::new(
            (0..n * 784).map(|_| r.gen_range(0.0f32..1.0)).collect(),
            (0..n as u32).map(|i| i % 10).collect(),
            784,
            10,
        )
    };
    let many = images(20_000, "bench-20k")?;
    let batch_images = images(128, "bench-batch")?;
    let weights = MeanWeights::new(128);
    let batch = weights.batch(&batch_images);
    let speed = |net: &dyn genviz_core::Network, repeats: usize| -> Result<ConvSpeed> {
        let point_s = per_point(net, std::slice::from_ref(&theta), &many, repeats);
        let mut grad = vec![0f32; theta.len()];
        net.loss_grad(&theta, &batch, &mut grad);
        let step_s = fastest(repeats, || {
            for _ in 0..4 {
                net.loss_grad(&theta, &batch, &mut grad);
            }
            Ok(())
        })? / 4.0;
        Ok(ConvSpeed {
            point_s,
            images_per_s: 128.0 / step_s,
        })
    };
    Ok([
        speed(&*cnn, repeats.clamp(1, 3))?,
        speed(&burn, repeats.clamp(1, 2))?,
    ])
}

/// Forward GFLOP/s of evaluating a wide MLP at many parameter vectors (best of `repeats`).
fn w256_gflops(repeats: usize) -> Result<(f64, f64)> {
    use genviz_core::Network;
    let (spec, net, data) = random_mlp(2, vec![256; 4], 2, 2000, -1.0..1.0, "bench-data")?;
    let thetas: Vec<Vec<f32>> = (0..64).map(|k| pytorch_init(&spec, k)).collect();
    let refs: Vec<&[f32]> = thetas.iter().map(|t| t.as_slice()).collect();
    let weights: usize = spec.widths().windows(2).map(|w| w[0] * w[1]).sum();
    let flops = 2.0 * weights as f64 * data.len() as f64 * refs.len() as f64;
    let best = fastest(repeats, || {
        net.evaluate(&refs, &data);
        Ok(())
    })?;
    Ok((flops / best / 1e9, best))
}

/// A ReLU softmax MLP `input_dim`-`hidden`-`num_classes` and `n` examples uniform in `range`
/// (labels cycling through the classes) from stream `stream`: a benchmark's workload.
fn random_mlp(
    input_dim: usize,
    hidden: Vec<usize>,
    num_classes: usize,
    n: usize,
    range: std::ops::Range<f32>,
    stream: &str,
) -> Result<(genviz_mlp::MlpSpec, Mlp, genviz_core::Dataset)> {
    use rand::Rng as _;
    let spec = genviz_mlp::MlpSpec {
        input_dim,
        hidden,
        num_classes,
        activation: genviz_mlp::Activation::Relu,
        head: genviz_mlp::Head::Softmax,
    };
    let net = Mlp::new(spec.clone())?;
    let mut r = rng::stream(0, stream);
    let data = genviz_core::Dataset::new(
        (0..input_dim * n)
            .map(|_| r.gen_range(range.clone()))
            .collect(),
        (0..n).map(|i| (i % num_classes) as u32).collect(),
        input_dim,
        num_classes,
    )?;
    Ok((spec, net, data))
}

/// PyTorch-initialised parameters of `spec` from seed `k`.
fn pytorch_init(spec: &genviz_mlp::MlpSpec, k: u64) -> Vec<f32> {
    init_params(spec, genviz_mlp::Init::Pytorch, &mut rng::stream(k, "init")).into_values()
}

/// The fastest of `repeats + 1` runs of `f`, in seconds (the extra run lets one warm caches
/// and thread pools without being reported).
fn fastest(repeats: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) + 1 {
        let start = std::time::Instant::now();
        f()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Times 200 exact radii at a briefly trained swiss-roll minimum, and Hessian-vector products
/// per second there.
fn basin_and_hessian(
    net: &Mlp,
    spec: &genviz_mlp::MlpSpec,
    train_set: &genviz_core::Dataset,
    config: &crate::config::ExperimentConfig,
    repeats: usize,
) -> Result<(f64, f64)> {
    use genviz_landscape::basin::{radii, RayConfig};
    let mut short = config.train.clone();
    short.steps = 3000;
    short.log_every = u64::MAX;
    let request = TrainRequest {
        network: net,
        init: init_params(
            spec,
            config.model.init,
            &mut rng::stream(config.seed, "init"),
        ),
        train: train_set,
        test: train_set,
        config: &short,
        poison: None,
        seed: config.seed,
        out_dir: None,
        metadata: HashMap::new(),
    };
    let theta = train(request, &mut |_| {})?.params;
    let rays = RayConfig::filter_normalised(200, 0);
    let best = fastest(repeats, || {
        radii(net, &theta, train_set, &rays)?;
        Ok(())
    })?;
    let h = genviz_landscape::hessian::Hessian::new(net, theta.values(), train_set);
    let v = vec![1.0; theta.values().len()];
    let count = 200;
    let start = std::time::Instant::now();
    for _ in 0..count {
        std::hint::black_box(h.apply(&v));
    }
    Ok((best, count as f64 / start.elapsed().as_secs_f64()))
}

/// Seconds for 64 landscape points of an MNIST-sized MLP with the first-layer precomputation,
/// and without it (best of `repeats`).
fn affine_first_layer(repeats: usize) -> Result<(f64, f64)> {
    use genviz_core::{Affine, Network};
    let (spec, net, data) = random_mlp(784, vec![128], 10, 1000, 0.0..1.0, "bench-affine")?;
    let (c, x, y) = (
        pytorch_init(&spec, 0),
        pytorch_init(&spec, 1),
        pytorch_init(&spec, 2),
    );
    let plane = Affine {
        center: &c,
        x: &x,
        y: Some(&y),
    };
    let coords: Vec<(f64, f64)> = (0..64)
        .map(|k| ((k % 8) as f64 / 8.0, (k / 8) as f64 / 8.0))
        .collect();
    let fast = fastest(repeats, || {
        net.evaluate_affine(plane, &coords, &data);
        Ok(())
    })?;
    let plain = fastest(repeats, || {
        genviz_core::network::evaluate_affine_points(&net, plane, &coords, &data);
        Ok(())
    })?;
    Ok((fast, plain))
}

/// How much `genviz bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// Timed repetitions per figure (the fastest is reported).
    pub repeats: usize,
    /// Steps per timed training run.
    pub steps: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            repeats: 5,
            steps: 2000,
        }
    }
}

/// Python peers' timings of the same workloads, measured once on this project's 2-core
/// machine (idle, compile time excluded) and quoted in the issues that set the targets; kept
/// for reference, never divided by.
fn peers() -> serde_json::Value {
    json!({
        "where": "the project's 2-core development machine (2 Zen 4 cores), idle, one run each, 2026",
        "train_s_per_1k_steps": { "jax_0.10_jit": 0.14, "pytorch_1_thread": 0.77 },
        "surface_51x51_s": { "jax_jit_vmap": 0.13, "pytorch_loop": 0.66 },
        "radii_200_s": { "jax": 0.31, "pytorch": 1.6 },
        "train_many_50_s_per_1k_net_steps": { "jax_0.10_jit_vmap": 0.107 },
        "conv_point_20k_s": { "jax_0.10_jit": 2.15 },
    })
}

/// Measures genviz's speed on the paper's workloads; returns one JSON object, each figure with
/// its workload in words.
pub fn run(args: BenchOptions) -> Result<serde_json::Value> {
    let config = presets::swiss_roll_clean(args.steps);
    let loaded = config.data.load(config.seed)?;
    let spec = config.model.spec(2, 2);
    let net = Mlp::new(spec.clone())?;
    let mut train_config = config.train.clone();
    train_config.log_every = u64::MAX;
    let time_training = || -> Result<f64> {
        let request = TrainRequest {
            network: &net,
            init: init_params(
                &spec,
                config.model.init,
                &mut rng::stream(config.seed, "init"),
            ),
            train: &loaded.train,
            test: &loaded.test,
            config: &train_config,
            poison: None,
            seed: config.seed,
            out_dir: None,
            metadata: HashMap::new(),
        };
        let start = std::time::Instant::now();
        train(request, &mut |_| {})?;
        Ok(start.elapsed().as_secs_f64())
    };
    time_training()?; // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..args.repeats.max(1) {
        best = best.min(time_training()?);
    }
    let per_1k = best * 1000.0 / args.steps as f64;
    // Fifty copies of the paper's net, each from its own initialisation, trained together
    // (one per core at a time): the minefield's and every multi-seed run's workload.
    let nets = 50;
    let time_many = || -> Result<f64> {
        let mut short = train_config.clone();
        short.steps = 1000;
        let requests = (0..nets)
            .map(|k| TrainRequest {
                network: &net,
                init: init_params(&spec, config.model.init, &mut rng::stream(k, "init")),
                train: &loaded.train,
                test: &loaded.test,
                config: &short,
                poison: None,
                seed: k,
                out_dir: None,
                metadata: HashMap::new(),
            })
            .collect();
        let start = std::time::Instant::now();
        for outcome in genviz_train::train_many(requests, &|_, _| {}) {
            outcome?;
        }
        Ok(start.elapsed().as_secs_f64() / nets as f64)
    };
    let many_per_1k = (0..args.repeats.clamp(1, 3))
        .map(|_| time_many())
        .try_fold(f64::INFINITY, |best, t| t.map(|t| best.min(t)))?;
    let surface_s = time_surface(&net, &spec, &loaded.train, args.repeats)?;
    let (gflops, w256_s) = w256_gflops(args.repeats)?;
    let (affine_fast, affine_plain) = affine_first_layer(args.repeats)?;
    let onnx = onnx_vs_native(args.repeats)?;
    let [conv, conv_burn] = conv_speed(args.repeats)?;
    let (radii_s, hvp_per_s) =
        basin_and_hessian(&net, &spec, &loaded.train, &config, args.repeats)?;
    let out = json!({
        "version": genviz_core::VERSION,
        "threads": rayon::current_num_threads(),
        "train_s_per_1k_steps": per_1k,
        "train_workload": "paper swiss-roll net (3,614 parameters), Adam, full batch of 200 points, clipping at 8",
        "train_many_50_s_per_1k_net_steps": many_per_1k,
        "train_many_workload": "50 copies of the paper's net, each from its own initialisation and seed, 1,000 full-batch Adam steps each, trained together with train_many (one network per core at a time); seconds divided by 50, best of up to 3",
        "surface_51x51_s": surface_s,
        "surface_workload": "paper swiss-roll net, 51 x 51 filter-normalised grid, loss and accuracy on its 200 training points",
        "surface_w256_gflops": gflops,
        "surface_w256_s": w256_s,
        "surface_w256_workload": "2-256-256-256-256-2 MLP, 64 grid points on 2,000 points, forward FLOPs only",
        "machine_peak_gflops": MACHINE_PEAK_GFLOPS,
        "machine_peak_note": "fp32 peak of the project's 2-core machine, a constant, not measured here",
        "radii_200_s": radii_s,
        "radii_workload": "200 filter-normalised rays, threshold 1, exact mode (bisection to 1e-3), the paper's net after 3,000 training steps, its 200 training points",
        "hvp_per_s": hvp_per_s,
        "affine_784_s": affine_fast,
        "affine_784_plain_s": affine_plain,
        "affine_784_workload": "784-128-10 MLP, 64 points of a 2-D grid on 1,000 examples: first layer precomputed (linear in a, b) vs every point built and evaluated",
        "conv_point_20k_s": conv.point_s,
        "conv_point_workload": "the small CNN (`--model cnn`: 5x5 convolutions of 16 and 32 filters, a 128-unit hidden layer; 28x28 grey images, 10 classes) on the CPU, by genviz's engine (each convolution lowered by im2col onto genviz's dense kernels): loss and accuracy at one parameter vector over 20,000 images, best of up to 3",
        "conv_train_images_per_s": conv.images_per_s,
        "conv_train_workload": "the same CNN: forward and backward over a batch of 128 images (a training step without its update, which takes microseconds), images per second, best of the repeats",
        "conv_point_20k_burn_s": conv_burn.point_s,
        "conv_train_burn_images_per_s": conv_burn.images_per_s,
        "conv_burn_workload": "the same two workloads computed by burn's CPU backend (flex, with autodiff), measured in this run right after genviz's engine; best of up to 2",
        "onnx": onnx,
        "peers_measured_elsewhere": peers(),
    });
    Ok(out)
}
