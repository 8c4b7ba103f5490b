use super::*;
use genviz_core::io::{read_safetensors, write_safetensors};
use genviz_core::network::MeanWeights;
use genviz_core::rng::stream;
use genviz_core::{Batch, Dataset, Network, Role};
use rand::Rng as _;
use std::collections::HashMap;
use std::sync::Arc;

type B = burn::backend::Autodiff<burn::backend::Flex>;

fn tiny_cnn() -> ConvNet<B> {
    let spec = ConvSpec {
        arch: Arch::Cnn {
            channels: [3, 4],
            hidden: 6,
        },
        input: [1, 8, 8],
        num_classes: 3,
    };
    ConvNet::new(spec, Default::default()).unwrap()
}

fn tiny_resnet(skip: bool) -> ConvNet<B> {
    let spec = ConvSpec {
        arch: Arch::ResNet {
            blocks: vec![1, 1],
            widths: vec![3, 4],
            skip,
        },
        input: [2, 6, 6],
        num_classes: 3,
    };
    ConvNet::new(spec, Default::default()).unwrap()
}

fn tiny_vgg() -> ConvNet<B> {
    // 6x6 -> 3x3 -> 2x2 (the second pooling in ceil mode), so `fc.0` sees 4 x 2 x 2 = 16.
    let spec = ConvSpec {
        arch: Arch::Vgg {
            stages: vec![vec![3], vec![2, 4]],
            fc: true,
        },
        input: [2, 6, 6],
        num_classes: 3,
    };
    ConvNet::new(spec, Default::default()).unwrap()
}

pub(crate) fn random_images(n: usize, dim: usize, classes: u32, seed: u64) -> Dataset {
    let mut rng = stream(seed, "images");
    let features = (0..n * dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    let labels = (0..n).map(|i| i as u32 % classes).collect();
    Dataset::new(features, labels, dim, classes as usize).unwrap()
}

#[test]
fn the_small_cnn_has_pytorch_names_shapes_and_count() {
    let spec = ConvSpec {
        arch: Arch::small_cnn(),
        input: [1, 28, 28],
        num_classes: 10,
    };
    let layout = spec.layout().unwrap();
    let names: Vec<(&str, &[usize])> = layout
        .tensors()
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("conv1.weight", &[16, 1, 5, 5][..]),
            ("conv1.bias", &[16][..]),
            ("conv2.weight", &[32, 16, 5, 5][..]),
            ("conv2.bias", &[32][..]),
            ("fc1.weight", &[128, 1568][..]),
            ("fc1.bias", &[128][..]),
            ("fc2.weight", &[10, 128][..]),
            ("fc2.bias", &[10][..]),
        ]
    );
    // 416 + 12,832 + 200,832 + 1,290, counted by hand.
    assert_eq!(layout.len(), 215_370);
}

#[test]
fn resnet20_matches_the_hand_count_and_noshort_drops_the_shortcuts() {
    let spec = |skip| ConvSpec {
        arch: Arch::cifar_resnet(20, skip).unwrap(),
        input: [3, 32, 32],
        num_classes: 10,
    };
    let with = spec(true).layout().unwrap();
    // Stem 464, stages 14,016 + 51,648 + 205,696, linear 650 (1x1 shortcuts with BatchNorm).
    assert_eq!(with.num_trainable(), 272_474);
    assert!(with.get("layer2.0.shortcut.0.weight").is_some());
    assert_eq!(
        with.get("layer3.2.bn2.running_var").unwrap().role,
        Role::RunningStat
    );
    assert_eq!(with.get("linear.weight").unwrap().shape, vec![10, 64]);
    let without = spec(false).layout().unwrap();
    assert!(without
        .tensors()
        .iter()
        .all(|t| !t.name.contains("shortcut")));
    assert_eq!(
        with.num_trainable() - without.num_trainable(),
        512 + 64 + 2048 + 128
    );
    assert!(Arch::parse("resnet21").is_err());
    assert_eq!(
        Arch::parse("resnet56-noshort").unwrap(),
        Arch::cifar_resnet(56, false).unwrap()
    );
    assert_eq!(Arch::parse("resnet18").unwrap(), Arch::resnet18());
}

#[test]
fn vgg9_has_the_reference_names_shapes_and_count() {
    let spec = |input| ConvSpec {
        arch: Arch::parse("vgg9").unwrap(),
        input,
        num_classes: 10,
    };
    let layout = spec([3, 32, 32]).layout().unwrap();
    let names: Vec<(&str, &[usize])> = layout
        .tensors()
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice()))
        .collect();
    // `features` indices of loss-landscape's `cifar10/models/vgg.py`: conv, BatchNorm, ReLU
    // per convolution, and one index per max pooling (6, 13, 23).
    let mut expected: Vec<(String, Vec<usize>)> = Vec::new();
    let convs = [
        (0, 3, 64),
        (3, 64, 64),
        (7, 64, 128),
        (10, 128, 128),
        (14, 128, 256),
        (17, 256, 256),
        (20, 256, 256),
    ];
    for (i, input, out) in convs {
        expected.push((format!("features.{i}.weight"), vec![out, input, 3, 3]));
        expected.push((format!("features.{i}.bias"), vec![out]));
        for suffix in ["weight", "bias", "running_mean", "running_var"] {
            expected.push((format!("features.{}.{suffix}", i + 1), vec![out]));
        }
    }
    expected.push(("fc.0.weight".into(), vec![256, 4096]));
    expected.push(("fc.0.bias".into(), vec![256]));
    for suffix in ["weight", "bias", "running_mean", "running_var"] {
        expected.push((format!("fc.1.{suffix}"), vec![256]));
    }
    expected.push(("classifier.weight".into(), vec![10, 256]));
    expected.push(("classifier.bias".into(), vec![10]));
    let expected: Vec<(&str, &[usize])> = expected
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_slice()))
        .collect();
    assert_eq!(names, expected);
    // PyTorch's `sum(p.numel() for p in VGG9().parameters())`, by hand:
    //   convolutions (9 in*out + out): 1,792 + 36,928 + 73,856 + 147,584 + 295,168
    //     + 590,080 + 590,080 = 1,735,488
    //   BatchNorm2d (2 per channel): 2 * (64 + 64 + 128 + 128 + 256 + 256 + 256) = 2,304
    //   fc.0 (4,096 * 256 + 256) = 1,048,832, fc.1 (BatchNorm1d) 512, classifier 2,570
    //   total 2,789,706; the running statistics add 2,304 + 512 = 2,816 buffers.
    assert_eq!(layout.num_trainable(), 2_789_706);
    assert_eq!(layout.len(), 2_789_706 + 2_816);
    assert!(Arch::vgg9().has_batch_norm());
    // Fashion-MNIST: one input channel (576 instead of 1,728 first-layer weights) and, with
    // ceil-mode pooling 28 -> 14 -> 7 -> 4, the same 4,096 inputs to fc.0.
    let grey = spec([1, 28, 28]).layout().unwrap();
    assert_eq!(grey.num_trainable(), 2_789_706 - 1_152);
    assert_eq!(grey.get("fc.0.weight").unwrap().shape, vec![256, 4096]);
}

#[test]
fn vgg_rejects_images_too_small_for_its_poolings() {
    let spec = |side| ConvSpec {
        arch: Arch::vgg9(),
        input: [1, side, side],
        num_classes: 10,
    };
    // Three poolings: 5 -> 3 -> 2 -> 1 works, 4 -> 2 -> 1 leaves the third nothing to pool.
    assert!(spec(5).layout().is_ok());
    let err = spec(4).layout().unwrap_err().to_string();
    assert!(err.contains("at least 5x5"), "{err}");
    assert!(Arch::parse("vgg9-noshort").is_err());
    let empty = Arch::Vgg {
        stages: vec![vec![4], vec![]],
        fc: true,
    };
    assert!(empty.validate([1, 8, 8]).is_err());
}

#[test]
fn ceil_mode_pooling_keeps_the_partial_window() {
    // PyTorch's MaxPool2d(2, 2, ceil_mode=True) on 1..9 in a 3x3 grid gives [[5, 6], [8, 9]].
    type F = burn::backend::Flex;
    let x = burn::tensor::Tensor::<F, 1>::from_data(
        burn::tensor::TensorData::new((1..=9).map(|v| v as f32).collect::<Vec<_>>(), [9]),
        &Default::default(),
    )
    .reshape([1, 1, 3, 3]);
    let y = burn::tensor::module::max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], true);
    assert_eq!(y.dims(), [1, 1, 2, 2]);
    let values = y.into_data().convert::<f32>().into_vec::<f32>().unwrap();
    assert_eq!(values, vec![5.0, 6.0, 8.0, 9.0]);
}

/// Central differences of the batch loss along single coordinates against the gradient.
pub(crate) fn check_gradient(net: &dyn Network, data: &Dataset, reverse: &[bool], seed: u64) {
    let layout = net.layout().clone();
    let theta = init_params(&layout, &mut stream(seed, "init"));
    let n = data.len();
    let coef: Vec<f32> = (0..n).map(|i| (1.0 + i as f32) / (n * n) as f32).collect();
    let batch = Batch {
        data,
        coef: &coef,
        reverse,
    };
    let mut grad = vec![0f32; layout.len()];
    let loss = net.loss_grad(theta.values(), &batch, &mut grad);
    assert!(loss.is_finite() && loss > 0.0);
    let mut rng = stream(seed, "coords");
    let mut scratch = vec![0f32; layout.len()];
    for t in layout.tensors() {
        for _ in 0..2 {
            let i = t.offset + rng.gen_range(0..t.len());
            if t.role == Role::RunningStat {
                assert_eq!(grad[i], 0.0, "{}", t.name);
                continue;
            }
            let mut at = |delta: f32| {
                let mut p = theta.values().to_vec();
                p[i] += delta;
                net.loss_grad(&p, &batch, &mut scratch)
            };
            // Two step sizes: a ReLU kink crossed by the larger step spoils only that one.
            let fds: Vec<f64> = [1e-3f32, 2e-4]
                .iter()
                .map(|&h| (at(h) - at(-h)) / (2.0 * f64::from(h)))
                .collect();
            let g = f64::from(grad[i]);
            assert!(
                fds.iter()
                    .any(|fd| (g - fd).abs() <= 1e-3 + 2e-2 * fd.abs()),
                "{}[{}]: gradient {g}, finite differences {fds:?}",
                t.name,
                i - t.offset
            );
        }
    }
}

#[test]
fn cnn_gradient_matches_finite_differences_with_reverse_rows() {
    let net = tiny_cnn();
    let data = random_images(6, 64, 3, 1);
    check_gradient(&net, &data, &[false, true, false, true, false, false], 2);
}

#[test]
fn resnet_gradient_matches_finite_differences_in_batch_norm_mode() {
    for skip in [true, false] {
        let net = tiny_resnet(skip);
        let data = random_images(5, 72, 3, 3);
        check_gradient(&net, &data, &[false, false, true, false, false], 4);
    }
}

#[test]
fn vgg_gradient_matches_finite_differences_in_batch_norm_mode() {
    let net = tiny_vgg();
    let data = random_images(6, 72, 3, 12);
    check_gradient(&net, &data, &[false, true, false, false, false, false], 13);
}

#[test]
fn evaluate_agrees_with_the_training_loss_and_logits() {
    let net = tiny_cnn();
    let data = random_images(7, 64, 3, 5);
    let theta = init_params(net.layout(), &mut stream(6, "init"));
    let weights = MeanWeights::new(7);
    let mut grad = vec![0f32; net.layout().len()];
    let loss = net.loss_grad(theta.values(), &weights.batch(&data), &mut grad);
    let eval = net.evaluate(&[theta.values(), theta.values()], &data);
    assert_eq!(eval.len(), 2);
    assert!(
        (eval[0].loss - loss).abs() < 1e-5,
        "{} vs {loss}",
        eval[0].loss
    );
    assert_eq!(eval[0], eval[1]);
    let predicted = net.predict(theta.values(), data.features(), data.len());
    let correct = predicted
        .iter()
        .zip(data.labels())
        .filter(|(p, y)| p == y)
        .count();
    assert_eq!(eval[0].accuracy, correct as f64 / 7.0);
}

#[test]
fn recomputed_batch_norm_statistics_reproduce_batch_mode() {
    let net = tiny_resnet(true);
    let data = random_images(40, 72, 3, 7);
    let theta = init_params(net.layout(), &mut stream(8, "init"));
    let refreshed = net.recompute_bn(theta.values(), &data, 40);
    assert_ne!(refreshed, theta.values());
    let running = net.evaluate(&[&refreshed], &data)[0];
    let batch_net = tiny_resnet(true).with_eval_bn(BnMode::Batch);
    let batch = batch_net.evaluate(&[theta.values()], &data)[0];
    // Equal up to the unbiased variance's factor 1440/1439.
    assert!(
        (running.loss - batch.loss).abs() < 1e-3,
        "{running:?} vs {batch:?}"
    );
    // The stale initial statistics (mean 0, variance 1) give a different loss.
    let stale = net.evaluate(&[theta.values()], &data)[0];
    assert!((stale.loss - batch.loss).abs() > 1e-4);
}

#[test]
fn vgg_recomputed_statistics_reproduce_batch_mode_in_both_batch_norms() {
    let net = tiny_vgg();
    // Many images, so that BatchNorm1d's unbiased factor n / (n - 1) stays small.
    let data = random_images(400, 72, 3, 14);
    let theta = init_params(net.layout(), &mut stream(15, "init"));
    let refreshed = net.recompute_bn(theta.values(), &data, 400);
    for name in ["features.1.running_var", "fc.1.running_mean"] {
        let t = net.layout().get(name).unwrap();
        assert_ne!(refreshed[t.range()], theta.values()[t.range()], "{name}");
    }
    let running = net.evaluate(&[&refreshed], &data)[0];
    let batch = tiny_vgg()
        .with_eval_bn(BnMode::Batch)
        .evaluate(&[theta.values()], &data)[0];
    assert!(
        (running.loss - batch.loss).abs() < 2e-3,
        "{running:?} vs {batch:?}"
    );
    let stale = net.evaluate(&[theta.values()], &data)[0];
    assert!((stale.loss - batch.loss).abs() > 1e-3);
}

#[test]
fn parameters_round_trip_through_safetensors_by_name() {
    let net = tiny_resnet(true);
    let theta = init_params(net.layout(), &mut stream(9, "init"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let meta = HashMap::from([(
        CONV_SPEC_METADATA_KEY.to_string(),
        serde_json::to_string(net.spec()).unwrap(),
    )]);
    write_safetensors(&path, &theta, meta).unwrap();
    let file = read_safetensors(&path).unwrap();
    let (spec, back) = conv_from_tensors(&file, &path).unwrap();
    assert_eq!(&spec, net.spec());
    assert_eq!(back.values(), theta.values());
    let mut no_meta = file.clone();
    no_meta.metadata.clear();
    assert!(conv_from_tensors(&no_meta, &path)
        .unwrap_err()
        .to_string()
        .contains("genviz.conv"));
}

#[test]
fn gradient_descent_learns_a_separable_image_task() {
    // Class 1 images are bright in the top half, class 0 in the bottom half, plus noise.
    let net = tiny_cnn();
    let mut rng = stream(10, "task");
    let n = 40;
    let mut features = Vec::new();
    let labels: Vec<u32> = (0..n).map(|i| i % 2).collect();
    for &y in &labels {
        for p in 0..64 {
            let top = p < 32;
            let bright = if (y == 1) == top { 1.0 } else { 0.0 };
            features.push(bright + rng.gen_range(-0.3f32..0.3));
        }
    }
    let data = Dataset::new(features, labels, 64, 2).unwrap();
    let spec = ConvSpec {
        num_classes: 2,
        ..net.spec().clone()
    };
    let net = ConvNet::<B>::new(spec, Default::default()).unwrap();
    let mut theta = init_params(net.layout(), &mut stream(11, "init")).into_values();
    let weights = MeanWeights::new(n as usize);
    let mut grad = vec![0f32; theta.len()];
    let before = net.evaluate(&[&theta], &data)[0].loss;
    for _ in 0..30 {
        net.loss_grad(&theta, &weights.batch(&data), &mut grad);
        theta.iter_mut().zip(&grad).for_each(|(t, g)| *t -= 0.2 * g);
    }
    let after = net.evaluate(&[&theta], &data)[0];
    assert!(after.loss < 0.5 * before, "{before} -> {after:?}");
    assert_eq!(after.accuracy, 1.0);
    let _ = Arc::clone(net.layout());
}

#[test]
fn vgg13_is_the_papers_table_net() {
    // kuangliu's VGG('VGG13') on CIFAR-10: ten 3x3 convolutions with bias and BatchNorm, five
    // poolings to 512 x 1 x 1, Linear(512, 10). Trainable parameters, by hand:
    // convs 3*64*9+64 + 64*64*9+64 + 64*128*9+128 + 128*128*9+128 + 128*256*9+256
    //   + 256*256*9+256 + 256*512*9+512 + 512*512*9+512 + 2*(512*512*9+512)
    //   = 1,792 + 36,928 + 73,856 + 147,584 + 295,168 + 590,080 + 1,180,160 + 2,359,808
    //   + 4,719,616 = 9,404,992; BatchNorm weight and bias 2*(64*2+128*2+256*2+512*4) = 5,888;
    // classifier 512*10+10 = 5,130. Total 9,416,010 (PyTorch: sum(p.numel() for p in
    // VGG('VGG13').parameters())).
    let spec = ConvSpec {
        arch: Arch::parse("vgg13").unwrap(),
        input: [3, 32, 32],
        num_classes: 10,
    };
    let layout = spec.layout().unwrap();
    assert_eq!(layout.num_trainable(), 9_416_010);
    let names: Vec<&str> = layout.tensors().iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"features.0.weight"));
    assert!(names.contains(&"features.1.running_var"));
    // The last convolution: 10 convolutions x 3 entries + 4 poolings before it = index 31.
    assert!(names.contains(&"features.31.weight"));
    assert!(!names.iter().any(|n| n.starts_with("fc.")));
    let classifier = layout
        .tensors()
        .iter()
        .find(|t| t.name == "classifier.weight")
        .unwrap();
    assert_eq!(classifier.shape, vec![10, 512]);
}
