//! The CPU engine held to burn's: the same logits, losses and gradients on the same vectors,
//! finite differences, and the same bits whatever the threads and chunks.

use super::*;
use crate::tests::{check_gradient, random_images};
use crate::{init_params, ConvNet, CpuBackend};
use genviz_core::network::MeanWeights;
use genviz_core::rng::stream;
use genviz_core::threads::with_threads;

fn spec(channels: [usize; 2], hidden: usize, input: [usize; 3], classes: usize) -> ConvSpec {
    ConvSpec {
        arch: Arch::Cnn { channels, hidden },
        input,
        num_classes: classes,
    }
}

/// Largest `|a - b| / (tol_abs + |b|)` over the pairs, as a multiple of `rel`.
fn assert_close(a: &[f32], b: &[f32], abs: f32, rel: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= abs + rel * y.abs(),
            "{what}[{i}]: cpu {x} vs burn {y}"
        );
    }
}

/// Both engines on the same parameters and images: logits, loss and gradient agree to
/// rounding. Shapes include odd sides (pooling drops a row and column) and several channels.
#[test]
fn the_cpu_engine_computes_what_burn_computes() {
    let cases = [
        (spec([3, 4], 6, [1, 8, 8], 3), 11),
        (spec([4, 5], 7, [3, 9, 7], 4), 13),
        (spec([16, 32], 128, [1, 28, 28], 10), 19),
    ];
    for (case, (spec, n)) in cases.into_iter().enumerate() {
        let cpu = CpuCnn::new(spec.clone()).unwrap();
        let burn = ConvNet::<CpuBackend>::new(spec.clone(), Default::default()).unwrap();
        assert_eq!(cpu.layout(), burn.layout());
        let dim: usize = spec.input.iter().product();
        let data = random_images(n, dim, spec.num_classes as u32, 40 + case as u64);
        let theta = init_params(cpu.layout(), &mut stream(case as u64, "init"));
        let (a, b) = (
            cpu.logits(theta.values(), data.features(), n),
            burn.logits(theta.values(), data.features(), n),
        );
        assert_close(&a, &b, 1e-5, 1e-4, &format!("case {case} logits"));
        let coef: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 / n as f32).collect();
        let reverse: Vec<bool> = (0..n).map(|i| i % 3 == 1).collect();
        let batch = Batch {
            data: &data,
            coef: &coef,
            reverse: &reverse,
        };
        let mut ga = vec![0f32; cpu.layout().len()];
        let mut gb = vec![0f32; cpu.layout().len()];
        let la = cpu.loss_grad(theta.values(), &batch, &mut ga);
        let lb = burn.loss_grad(theta.values(), &batch, &mut gb);
        assert!(
            (la - lb).abs() <= 1e-5 * lb.abs(),
            "case {case}: loss {la} vs {lb}"
        );
        let scale = gb.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(scale > 0.0);
        assert_close(
            &ga,
            &gb,
            1e-4 * scale,
            1e-3,
            &format!("case {case} gradient"),
        );
        let (ea, eb) = (
            cpu.evaluate(&[theta.values()], &data)[0],
            burn.evaluate(&[theta.values()], &data)[0],
        );
        assert!(
            (ea.loss - eb.loss).abs() <= 1e-5 * eb.loss,
            "{ea:?} vs {eb:?}"
        );
        assert_eq!(ea.accuracy, eb.accuracy);
    }
}

#[test]
fn cpu_gradient_matches_finite_differences_with_reverse_rows() {
    let net = CpuCnn::new(spec([3, 4], 6, [1, 8, 8], 3)).unwrap();
    let data = random_images(6, 64, 3, 1);
    check_gradient(&net, &data, &[false, true, false, true, false, false], 2);
}

/// Results do not depend on the threads, nor on which other images share a chunk: a logit
/// is the same evaluated alone.
#[test]
fn results_are_the_same_bits_whatever_the_threads_and_chunks() {
    let net = CpuCnn::new(spec([4, 6], 9, [2, 10, 10], 5)).unwrap();
    let n = 3 * CHUNK + 5;
    let data = random_images(n, 200, 5, 8);
    let theta = init_params(net.layout(), &mut stream(9, "init")).into_values();
    let weights = MeanWeights::new(n);
    let run = |threads| {
        with_threads(threads, || {
            let mut grad = vec![0f32; theta.len()];
            let loss = net.loss_grad(&theta, &weights.batch(&data), &mut grad);
            (loss, grad, net.logits(&theta, data.features(), n))
        })
        .unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    let last = net.logits(&theta, &data.features()[(n - 1) * 200..], 1);
    assert_eq!(last, one.2[(n - 1) * 5..]);
}

#[test]
fn other_architectures_are_refused_with_their_name() {
    let err = CpuCnn::new(ConvSpec {
        arch: Arch::vgg9(),
        input: [3, 32, 32],
        num_classes: 10,
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("cnn") && err.contains("Vgg"), "{err}");
}
