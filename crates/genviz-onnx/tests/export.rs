//! genviz's own networks exported as ONNX evaluate, differentiate and draw surfaces like the
//! native ones (to 1e-5 relative).

use genviz_conv::{Arch, ConvNet, ConvSpec};
use genviz_core::rng::stream;
use genviz_core::{Affine, Batch, Dataset, Network, Role};
use genviz_mlp::{Activation, Head as MlpHead, Init, Mlp, MlpSpec};
use genviz_onnx::{export_conv, export_mlp, CpuBackend, Head, OnnxModel, OnnxNet, OnnxOptions};
use rand::Rng as _;
use std::path::Path;
use std::sync::Arc;

/// Agreement required between a native network and its export.
const TOLERANCE: f64 = 1e-5;

fn onnx(bytes: &[u8], head: Head) -> OnnxNet<CpuBackend> {
    let options = OnnxOptions {
        head: Some(head),
        ..Default::default()
    };
    let model = OnnxModel::from_bytes(bytes, Path::new("export.onnx"), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    OnnxNet::new(Arc::new(model), Default::default())
}

fn random_data(n: usize, dim: usize, classes: u32, seed: u64) -> Dataset {
    let mut rng = stream(seed, "data");
    let features = (0..n * dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    let labels = (0..n).map(|i| i as u32 % classes).collect();
    Dataset::new(features, labels, dim, classes as usize).unwrap()
}

fn random_direction(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = stream(seed, "direction");
    (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// The same surface: a 3x3 grid on a random plane through `center`, both networks.
fn same_surface(
    native: &dyn Network,
    exported: &dyn Network,
    center: &[f32],
    to_onnx: &dyn Fn(&[f32]) -> Vec<f32>,
    data: &Dataset,
    seed: u64,
) {
    let (x, y) = (
        random_direction(center.len(), seed, 0.1),
        random_direction(center.len(), seed + 1, 0.1),
    );
    let coords: Vec<(f64, f64)> = [-1.0, 0.0, 1.0]
        .iter()
        .flat_map(|&a| [-1.0, 0.0, 1.0].map(move |b| (a, b)))
        .collect();
    let plane = Affine {
        center,
        x: &x,
        y: Some(&y),
    };
    let want = native.evaluate_affine(plane, &coords, data);
    let (c2, x2, y2) = (to_onnx(center), to_onnx(&x), to_onnx(&y));
    let plane2 = Affine {
        center: &c2,
        x: &x2,
        y: Some(&y2),
    };
    let got = exported.evaluate_affine(plane2, &coords, data);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            rel(g.loss, w.loss) <= TOLERANCE,
            "point {k}: loss {} vs native {}",
            g.loss,
            w.loss
        );
        assert_eq!(g.accuracy, w.accuracy, "point {k}");
    }
}

fn same_gradient(
    native: &dyn Network,
    exported: &dyn Network,
    theta: &[f32],
    to_onnx: &dyn Fn(&[f32]) -> Vec<f32>,
    data: &Dataset,
) {
    let n = data.len();
    let coef = vec![1.0 / n as f32; n];
    let mut reverse = vec![false; n];
    reverse[0] = true;
    let batch = Batch {
        data,
        coef: &coef,
        reverse: &reverse,
    };
    let mut g1 = vec![0f32; theta.len()];
    let l1 = native.loss_grad(theta, &batch, &mut g1);
    let t2 = to_onnx(theta);
    let mut g2 = vec![0f32; t2.len()];
    let l2 = exported.loss_grad(&t2, &batch, &mut g2);
    assert!(rel(l2, l1) <= TOLERANCE, "loss {l2} vs native {l1}");
    let g1 = to_onnx(&g1);
    let scale = g1.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (k, (a, b)) in g2.iter().zip(&g1).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale.max(1e-3),
            "gradient {k}: {a} vs native {b} (largest {scale})"
        );
    }
}

#[test]
fn swiss_roll_mlp_round_trips() {
    let spec = MlpSpec::swiss_roll();
    let native = Mlp::new(spec.clone()).unwrap();
    let theta =
        genviz_mlp::init_params(&spec, Init::GlorotUniform, &mut stream(3, "init")).into_values();
    let bytes = export_mlp(&spec, &theta).unwrap();
    let exported = onnx(&bytes, Head::Sigmoid);
    // Without a head given, the one the export records is used.
    let recorded =
        OnnxModel::from_bytes(&bytes, Path::new("mlp.onnx"), &OnnxOptions::default()).unwrap();
    assert_eq!(recorded.head(), Head::Sigmoid);
    assert_eq!(exported.layout().len(), native.layout().len());
    assert_eq!(exported.layout().tensors(), native.layout().tensors());
    let data = genviz_data::SwissRoll::default().generate(&mut stream(4, "data"));
    let same = |v: &[f32]| v.to_vec();
    same_surface(&native, &exported, &theta, &same, &data, 5);
    same_gradient(&native, &exported, &theta, &same, &data);
    let logits = exported.logits(&theta, data.features(), data.len());
    let native_logits = native.logits(&theta, data.features(), data.len());
    for (a, b) in logits.iter().zip(&native_logits) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn softmax_mlps_with_other_activations_round_trip() {
    for activation in [Activation::Tanh, Activation::LeakyRelu { slope: 0.1 }] {
        let spec = MlpSpec {
            input_dim: 5,
            hidden: vec![7, 6],
            num_classes: 4,
            activation,
            head: MlpHead::Softmax,
        };
        let native = Mlp::new(spec.clone()).unwrap();
        let theta =
            genviz_mlp::init_params(&spec, Init::Pytorch, &mut stream(6, "init")).into_values();
        let exported = onnx(&export_mlp(&spec, &theta).unwrap(), Head::Softmax);
        let data = random_data(50, 5, 4, 7);
        let same = |v: &[f32]| v.to_vec();
        same_surface(&native, &exported, &theta, &same, &data, 8);
        same_gradient(&native, &exported, &theta, &same, &data);
    }
}

/// Conv parameters with BatchNorm statistics made non-trivial.
fn conv_theta(net: &ConvNet<CpuBackend>, seed: u64) -> Vec<f32> {
    let layout = net.layout().clone();
    let mut params = genviz_conv::init_params(&layout, &mut stream(seed, "init"));
    let mut rng = stream(seed, "bn");
    for t in layout.tensors() {
        let values = &mut params.values_mut()[t.range()];
        match t.role {
            Role::RunningStat if t.name.ends_with("running_var") => {
                values.iter_mut().for_each(|v| *v = rng.gen_range(0.5..1.5))
            }
            Role::RunningStat => values
                .iter_mut()
                .for_each(|v| *v = rng.gen_range(-0.2..0.2)),
            Role::NormScale => values.iter_mut().for_each(|v| *v = rng.gen_range(0.5..1.5)),
            Role::NormShift => values
                .iter_mut()
                .for_each(|v| *v = rng.gen_range(-0.1..0.1)),
            _ => {}
        }
    }
    params.into_values()
}

fn conv_round_trip(spec: ConvSpec, seed: u64) {
    let native: ConvNet<CpuBackend> = ConvNet::new(spec.clone(), Default::default()).unwrap();
    let theta = conv_theta(&native, seed);
    let exported = onnx(&export_conv(&spec, &theta).unwrap(), Head::Softmax);
    assert!(
        exported.model().warnings().is_empty(),
        "{:?}",
        exported.model().warnings()
    );
    // The ONNX parameters are the conv net's, running statistics left out.
    let native_layout = native.layout().clone();
    let onnx_layout = exported.layout().clone();
    let kept: Vec<&str> = native_layout
        .tensors()
        .iter()
        .filter(|t| t.role != Role::RunningStat)
        .map(|t| t.name.as_str())
        .collect();
    let names: Vec<&str> = onnx_layout
        .tensors()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, kept);
    let to_onnx = move |v: &[f32]| {
        onnx_layout
            .tensors()
            .iter()
            .flat_map(|t| v[native_layout.get(&t.name).unwrap().range()].to_vec())
            .collect::<Vec<f32>>()
    };
    // Directions that leave the running statistics alone: both models keep them fixed.
    let dim: usize = spec.input.iter().product();
    let data = random_data(12, dim, spec.num_classes as u32, seed + 1);
    let stat_free = |v: Vec<f32>| {
        let mut v = v;
        for t in native
            .layout()
            .tensors()
            .iter()
            .filter(|t| t.role == Role::RunningStat)
        {
            v[t.range()].fill(0.0);
        }
        v
    };
    let x = stat_free(random_direction(theta.len(), seed + 2, 0.1));
    let y = stat_free(random_direction(theta.len(), seed + 3, 0.1));
    let coords = [(-1.0, 0.5), (0.0, 0.0), (1.0, -1.0)];
    let on_plane = |net: &dyn Network, center: &[f32], x: &[f32], y: &[f32]| {
        let y = Some(y);
        net.evaluate_affine(Affine { center, x, y }, &coords, &data)
    };
    let want = on_plane(&native, &theta, &x, &y);
    let got = on_plane(&exported, &to_onnx(&theta), &to_onnx(&x), &to_onnx(&y));
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            rel(g.loss, w.loss) <= TOLERANCE,
            "{:?} point {k}: {} vs native {}",
            spec.arch,
            g.loss,
            w.loss
        );
        assert_eq!(g.accuracy, w.accuracy);
    }
    if !spec.arch.has_batch_norm() {
        // genviz-conv differentiates BatchNorm nets with batch statistics (training); the
        // ONNX net differentiates the evaluated function, with the stored statistics, so
        // gradients compare only without BatchNorm.
        same_gradient(&native, &exported, &theta, &to_onnx, &data);
    }
}

#[test]
fn small_cnn_round_trips() {
    conv_round_trip(
        ConvSpec {
            arch: Arch::Cnn {
                channels: [3, 4],
                hidden: 6,
            },
            input: [1, 8, 8],
            num_classes: 3,
        },
        10,
    );
}

#[test]
fn resnet_with_and_without_shortcuts_round_trips() {
    for skip in [true, false] {
        conv_round_trip(
            ConvSpec {
                arch: Arch::ResNet {
                    blocks: vec![1, 1],
                    widths: vec![3, 4],
                    skip,
                },
                input: [2, 6, 6],
                num_classes: 3,
            },
            20,
        );
    }
}

#[test]
fn vgg_with_ceil_pooling_and_dense_batch_norm_round_trips() {
    conv_round_trip(
        ConvSpec {
            arch: Arch::Vgg {
                stages: vec![vec![3], vec![2, 4]],
                fc: true,
            },
            input: [2, 6, 6],
            num_classes: 3,
        },
        30,
    );
}

#[test]
fn recomputed_batch_norm_matches_genviz_conv() {
    // Both recompute the running statistics from the same data in the same batches.
    let spec = ConvSpec {
        arch: Arch::ResNet {
            blocks: vec![1],
            widths: vec![3],
            skip: true,
        },
        input: [2, 5, 5],
        num_classes: 3,
    };
    let native: ConvNet<CpuBackend> = ConvNet::new(spec.clone(), Default::default()).unwrap();
    let theta = conv_theta(&native, 40);
    let train = random_data(10, 50, 3, 41);
    let refreshed = native.recompute_bn(&theta, &train, 4);
    let exported = onnx(&export_conv(&spec, &theta).unwrap(), Head::Softmax)
        .with_recomputed_bn(Arc::new(train.clone()), 4)
        .unwrap();
    let stats = exported
        .recompute_bn(&exported.model().params().into_values(), &train, 4)
        .unwrap();
    for (name, values) in &stats {
        let t = native.layout().get(name).unwrap();
        for (a, b) in values.iter().zip(&refreshed[t.range()]) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{name}: {a} vs {b}"
            );
        }
    }
    let test = random_data(7, 50, 3, 42);
    let want = native.evaluate(&[&refreshed], &test)[0];
    let got = exported.evaluate(&[&exported.model().params().into_values()], &test)[0];
    assert!(
        rel(got.loss, want.loss) <= TOLERANCE,
        "{} vs {}",
        got.loss,
        want.loss
    );
}
