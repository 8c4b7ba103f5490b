//! Whole-engine checks: gradients against finite differences, evaluation against a plain
//! reference, thread-count independence, and safetensors import.

use crate::*;
use genviz_core::{io, rng, Batch, Dataset, Network, Params};
use rand::Rng as _;

#[path = "reference.rs"]
mod reference;
use reference::{reference_logits, reference_loss};

fn data(n: usize, dim: usize, classes: usize, seed: u64) -> Dataset {
    let mut r = rng::stream(seed, "test-data");
    let x = (0..n * dim).map(|_| r.gen_range(-2.0..2.0)).collect();
    let y = (0..n).map(|_| r.gen_range(0..classes as u32)).collect();
    Dataset::new(x, y, dim, classes).unwrap()
}

/// The net `input_dim -> hidden... -> num_classes` with `activation` and `head`.
fn mlp_spec(
    input_dim: usize,
    hidden: &[usize],
    num_classes: usize,
    activation: Activation,
    head: Head,
) -> MlpSpec {
    MlpSpec {
        input_dim,
        hidden: hidden.to_vec(),
        num_classes,
        activation,
        head,
    }
}

fn check_gradient(spec: MlpSpec) {
    let mlp = Mlp::new(spec.clone()).unwrap();
    let theta = init_params(&spec, Init::Pytorch, &mut rng::stream(3, "init")).into_values();
    let d = data(37, spec.input_dim, spec.num_classes, 9);
    let coef: Vec<f32> = (0..d.len())
        .map(|i| if i % 3 == 0 { 0.02 } else { 0.03 })
        .collect();
    let reverse: Vec<bool> = (0..d.len()).map(|i| i % 4 == 1).collect();
    let batch = Batch {
        data: &d,
        coef: &coef,
        reverse: &reverse,
    };
    let mut grad = vec![0f32; theta.len()];
    let loss = mlp.loss_grad(&theta, &batch, &mut grad);
    let want = reference_loss(&spec, &theta, &d, &coef, &reverse);
    assert!(
        (loss - want).abs() < 1e-5 * want.abs().max(1.0),
        "loss {loss} vs {want}"
    );
    // The reference is f64, so a tiny step is exact enough, and small enough that no ReLU
    // changes side between the two evaluations (1e-4 still crossed a kink in the swiss-roll net).
    let h = 1e-6f32;
    for k in (0..theta.len()).step_by(7) {
        let mut plus = theta.clone();
        plus[k] += h;
        let mut minus = theta.clone();
        minus[k] -= h;
        let fd = (reference_loss(&spec, &plus, &d, &coef, &reverse)
            - reference_loss(&spec, &minus, &d, &coef, &reverse))
            / (plus[k] as f64 - minus[k] as f64);
        let g = grad[k] as f64;
        assert!(
            (g - fd).abs() < 2e-3 * fd.abs().max(0.05),
            "param {k}: analytic {g} vs finite difference {fd}"
        );
    }
}

#[test]
fn gradient_matches_finite_differences_sigmoid_tanh() {
    check_gradient(mlp_spec(3, &[9, 5], 2, Activation::Tanh, Head::Sigmoid));
}

#[test]
fn gradient_matches_finite_differences_softmax_leaky() {
    check_gradient(mlp_spec(
        4,
        &[6, 7],
        3,
        Activation::LeakyRelu { slope: 0.1 },
        Head::Softmax,
    ));
}

#[test]
fn gradient_matches_finite_differences_swiss_roll_net() {
    check_gradient(MlpSpec::swiss_roll());
}

#[test]
fn evaluate_matches_reference_for_many_thetas() {
    let spec = MlpSpec::swiss_roll();
    let mlp = Mlp::new(spec.clone()).unwrap();
    let d = data(300, 2, 2, 1);
    let thetas: Vec<Vec<f32>> = (0..5)
        .map(|s| init_params(&spec, Init::GlorotUniform, &mut rng::stream(s, "init")).into_values())
        .collect();
    let refs: Vec<&[f32]> = thetas.iter().map(|t| t.as_slice()).collect();
    let evals = mlp.evaluate(&refs, &d);
    let coef = vec![1.0 / d.len() as f32; d.len()];
    for (t, e) in thetas.iter().zip(&evals) {
        let want = reference_loss(&spec, t, &d, &coef, &vec![false; d.len()]);
        assert!((e.loss - want).abs() < 1e-5 * want, "{} vs {want}", e.loss);
        let correct = (0..d.len())
            .filter(|&i| (reference_logits(&spec, t, d.row(i))[0] > 0.0) as u32 == d.labels()[i])
            .count();
        assert_eq!(e.accuracy, correct as f64 / d.len() as f64);
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let spec = MlpSpec::swiss_roll();
    let mlp = Mlp::new(spec.clone()).unwrap();
    let theta = init_params(&spec, Init::GlorotUniform, &mut rng::stream(5, "init")).into_values();
    let d = data(1000, 2, 2, 2);
    let coef = vec![1e-3f32; d.len()];
    let reverse = vec![false; d.len()];
    let run = |threads| {
        genviz_core::threads::with_threads(threads, || {
            let mut g = vec![0f32; theta.len()];
            let l = mlp.loss_grad(
                &theta,
                &Batch {
                    data: &d,
                    coef: &coef,
                    reverse: &reverse,
                },
                &mut g,
            );
            (l, g, mlp.evaluate(&[&theta], &d)[0])
        })
        .unwrap()
    };
    let (l1, g1, e1) = run(1);
    let (l2, g2, e2) = run(2);
    assert_eq!(l1.to_bits(), l2.to_bits());
    assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(e1, e2);
}

#[test]
fn imports_pytorch_sequential_names_and_rejects_broken_chains() {
    let dir = tempfile::tempdir().unwrap();
    let spec = mlp_spec(2, &[4, 3], 2, Activation::Relu, Head::Sigmoid);
    let params = init_params(&spec, Init::Pytorch, &mut rng::stream(1, "init"));
    // Rename to nn.Sequential style: Linear modules at indices 0, 2, 4.
    let seq = genviz_core::Layout::new(params.layout().tensors().iter().map(|t| {
        let k: usize = t.name.split('.').nth(1).unwrap().parse().unwrap();
        (
            format!("{}.{}", 2 * k, t.name.rsplit('.').next().unwrap()),
            t.shape.clone(),
            t.role,
        )
    }))
    .unwrap();
    let seq_params = Params::from_vec(std::sync::Arc::new(seq), params.values().to_vec()).unwrap();
    let path = dir.path().join("seq.safetensors");
    io::write_safetensors(&path, &seq_params, Default::default()).unwrap();
    let (mlp, loaded) = load_mlp(&path).unwrap();
    assert_eq!(mlp.spec(), &spec);
    assert_eq!(loaded.values(), params.values());

    // A layer whose input width does not chain.
    let broken = genviz_core::Layout::new([
        (
            "0.weight".to_string(),
            vec![4, 2],
            genviz_core::Role::Weight,
        ),
        ("0.bias".to_string(), vec![4], genviz_core::Role::Bias),
        (
            "2.weight".to_string(),
            vec![1, 5],
            genviz_core::Role::Weight,
        ),
        ("2.bias".to_string(), vec![1], genviz_core::Role::Bias),
    ])
    .unwrap();
    let n = broken.len();
    io::write_safetensors(
        &path,
        &Params::from_vec(std::sync::Arc::new(broken), vec![0.0; n]).unwrap(),
        Default::default(),
    )
    .unwrap();
    let err = load_mlp(&path).unwrap_err().to_string();
    assert!(
        err.contains("seq.safetensors")
            && err.contains("`2.weight`")
            && err.contains("[1, 5]")
            && err.contains("[1, 4]"),
        "{err}"
    );
}

#[test]
fn glorot_init_has_zero_biases_and_bounded_kernels() {
    let spec = MlpSpec::swiss_roll();
    let p = init_params(&spec, Init::GlorotUniform, &mut rng::stream(0, "init"));
    assert_eq!(p.layout().len(), 3614);
    for t in p.layout().tensors() {
        let v = p.tensor(t);
        if t.name.ends_with("bias") {
            assert!(v.iter().all(|&x| x == 0.0));
        } else {
            let limit = (6.0 / (t.shape[0] + t.shape[1]) as f32).sqrt();
            assert!(v.iter().all(|&x| x.abs() <= limit));
        }
    }
}

#[test]
fn glorot_normal_is_truncated_with_glorot_variance() {
    // Wide layers so that the sample variance is tight: 2 -> 400 -> 400 -> 2.
    let spec = mlp_spec(2, &[400, 400], 2, Activation::Relu, Head::Softmax);
    let p = init_params(&spec, Init::GlorotNormal, &mut rng::stream(0, "init"));
    let t = p.layout().get("layers.1.weight").unwrap().clone();
    let v = p.tensor(&t);
    let glorot_std = (2.0 / 800.0f64).sqrt();
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    let var = v
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / v.len() as f64;
    assert!(mean.abs() < 0.01 * glorot_std, "mean {mean}");
    assert!(
        (var.sqrt() / glorot_std - 1.0).abs() < 0.01,
        "std {} vs {glorot_std}",
        var.sqrt()
    );
    // Truncated at two standard deviations of the underlying normal, and no further in.
    let cut = 2.0 * glorot_std / 0.879_625_661_034_239_8;
    let largest = v.iter().map(|&x| f64::from(x).abs()).fold(0.0, f64::max);
    assert!(
        largest <= cut * (1.0 + 1e-6) && largest > 0.97 * cut,
        "{largest} vs {cut}"
    );
    let biases = p.layout().get("layers.1.bias").unwrap().clone();
    assert!(p.tensor(&biases).iter().all(|&x| x == 0.0));
}

#[test]
fn affine_fast_path_matches_building_every_point() {
    let spec = mlp_spec(20, &[16, 12], 3, Activation::Relu, Head::Softmax);
    let mlp = Mlp::new(spec.clone()).unwrap();
    let d = data(300, 20, 3, 4);
    let init = |s| init_params(&spec, Init::Pytorch, &mut rng::stream(s, "init")).into_values();
    let (center, x, y) = (init(1), init(2), init(3));
    let plane = genviz_core::Affine {
        center: &center,
        x: &x,
        y: Some(&y),
    };
    let coords: Vec<(f64, f64)> = (0..25)
        .map(|k| ((k % 5) as f64 * 0.5 - 1.0, (k / 5) as f64 * 0.5 - 1.0))
        .collect();
    let fast = mlp.evaluate_affine(plane, &coords, &d);
    let slow = genviz_core::network::evaluate_affine_points(&mlp, plane, &coords, &d);
    for ((f, s), c) in fast.iter().zip(&slow).zip(&coords) {
        assert!(
            (f.loss - s.loss).abs() <= 1e-5 * s.loss,
            "{c:?}: {} vs {}",
            f.loss,
            s.loss
        );
        assert!(
            (f.accuracy - s.accuracy).abs() <= 2.0 / d.len() as f64,
            "{c:?}"
        );
    }
    // At the centre both are exactly the model.
    let at_centre = mlp.evaluate_affine(plane, &[(0.0, 0.0)], &d)[0];
    assert_eq!(at_centre, mlp.evaluate(&[&center], &d)[0]);
    // A point's value does not depend on the batch it is evaluated in.
    assert_eq!(mlp.evaluate_affine(plane, &coords[7..8], &d)[0], fast[7]);
}

fn exact_hvp_matches_second_differences(spec: MlpSpec) {
    let mlp = Mlp::new(spec.clone()).unwrap();
    let theta = init_params(&spec, Init::Pytorch, &mut rng::stream(7, "init")).into_values();
    let v = init_params(&spec, Init::Pytorch, &mut rng::stream(8, "init")).into_values();
    let d = data(41, spec.input_dim, spec.num_classes, 5);
    let hv = mlp.hvp(&theta, &v, &d);
    let coef = vec![1.0 / d.len() as f32; d.len()];
    let rev = vec![false; d.len()];
    let loss = |t: &[f32]| reference_loss(&spec, t, &d, &coef, &rev);
    // (v^T H e_k) from second differences of the f64 reference loss.
    let h = 1e-3f64;
    for k in (0..theta.len()).step_by(11) {
        let at = |sv: f64, sk: f64| {
            let t: Vec<f32> = theta
                .iter()
                .zip(&v)
                .enumerate()
                .map(|(i, (&x, &vi))| {
                    (f64::from(x) + sv * h * f64::from(vi) + if i == k { sk * h } else { 0.0 })
                        as f32
                })
                .collect();
            loss(&t)
        };
        let want = (at(1.0, 1.0) - at(1.0, -1.0) - at(-1.0, 1.0) + at(-1.0, -1.0)) / (4.0 * h * h);
        assert!(
            (hv[k] - want).abs() < 2e-2 * want.abs().max(1e-2),
            "component {k}: {} vs {want}",
            hv[k]
        );
    }
    // Symmetry: u^T H v = v^T H u.
    let u = init_params(&spec, Init::Pytorch, &mut rng::stream(9, "init")).into_values();
    let hu = mlp.hvp(&theta, &u, &d);
    let uhv: f64 = u.iter().zip(&hv).map(|(&a, b)| f64::from(a) * b).sum();
    let vhu: f64 = v.iter().zip(&hu).map(|(&a, b)| f64::from(a) * b).sum();
    assert!(
        (uhv - vhu).abs() < 1e-4 * uhv.abs().max(1e-3),
        "{uhv} vs {vhu}"
    );
}

#[test]
fn exact_hvp_tanh_sigmoid() {
    exact_hvp_matches_second_differences(mlp_spec(3, &[7, 5], 2, Activation::Tanh, Head::Sigmoid));
}

#[test]
fn exact_hvp_tanh_softmax() {
    exact_hvp_matches_second_differences(mlp_spec(4, &[6], 3, Activation::Tanh, Head::Softmax));
}
