use super::*;
use crate::many::train_many;
use crate::poison::PoisonWeight;
use genviz_data::{train_test_split, SwissRoll};
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn swiss_roll(seed: u64) -> (Dataset, Dataset) {
    let all = SwissRoll::default().generate(&mut rng::stream(seed, "data"));
    train_test_split(&all, 200, &mut rng::stream(seed, "split")).unwrap()
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        steps,
        optimizer: OptimizerConfig::adam(),
        schedule: LrSchedule::constant(0.01),
        batch_size: None,
        clip_norm: Some(8.0),
        weight_decay: 0.0,
        log_every: 100,
        checkpoint_every: 100,
        poison: None,
    }
}

fn request<'a>(
    net: &'a Mlp,
    train: &'a Dataset,
    test: &'a Dataset,
    config: &'a TrainConfig,
) -> TrainRequest<'a> {
    let init = init_params(net.spec(), Init::GlorotUniform, &mut rng::stream(1, "init"));
    TrainRequest {
        network: net,
        init,
        train,
        test,
        config,
        poison: None,
        seed: 1,
        out_dir: None,
        metadata: HashMap::new(),
    }
}

#[test]
fn clean_training_fits_the_swiss_roll_and_writes_a_run() {
    let (train_set, test_set) = swiss_roll(1237);
    let net = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let cfg = config(300);
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(&net, &train_set, &test_set, &cfg);
    req.out_dir = Some(dir.path());
    let mut logged = 0;
    let out = train(req, &mut |_| logged += 1).unwrap();
    assert_eq!(logged, 3);
    let first = &out.history[0];
    assert!(
        out.final_metrics.train_loss < first.train_loss,
        "{:?}",
        out.history
    );
    assert!(out.final_metrics.train_acc > 0.7, "{:?}", out.final_metrics);
    for step in [0, 100, 200, 300] {
        assert!(dir
            .path()
            .join(format!("checkpoints/step_{step:08}.safetensors"))
            .exists());
    }
    let mut npz = genviz_core::io::Npz::open(&dir.path().join("trajectory.npz")).unwrap();
    let (params, shape) = npz.f32("params").unwrap();
    assert_eq!(shape, vec![4, 3614]);
    assert_eq!(&params[3 * 3614..], out.params.values());
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
}

#[test]
fn same_seed_gives_identical_weights_with_one_and_two_threads() {
    let (train_set, test_set) = swiss_roll(7);
    let net = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let mut cfg = config(200);
    cfg.poison = Some(PoisonConfig::gen_viz_swiss_roll());
    let run = |threads| {
        genviz_core::threads::with_threads(threads, || {
            let mut req = request(&net, &train_set, &test_set, &cfg);
            req.poison = Some(PoisonPool::Fresh(Box::new(|n, rng| {
                let pairs = SwissRoll {
                    points_per_class: n.div_ceil(2),
                    ..SwissRoll::default()
                };
                let d = genviz_data::shuffle(&pairs.generate(rng), rng);
                d.select(&(0..n).collect::<Vec<_>>())
            })));
            train(req, &mut |_| {}).unwrap().params
        })
        .unwrap()
    };
    let one = run(1);
    let two = run(2);
    assert!(one
        .values()
        .iter()
        .zip(two.values())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn reverse_and_flipped_poison_agree_for_two_classes_and_beta_zero_is_clean() {
    let (train_set, test_set) = swiss_roll(3);
    let (poison_set, _) = swiss_roll(4);
    let net = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let run = |poison: Option<PoisonConfig>| {
        let mut cfg = config(50);
        cfg.poison = poison.clone();
        let mut req = request(&net, &train_set, &test_set, &cfg);
        req.poison = poison.map(|_| PoisonPool::Fixed(poison_set.clone()));
        train(req, &mut |_| {}).unwrap().params
    };
    let fixed = |form, beta| PoisonConfig {
        form,
        weight: PoisonWeight::Beta { beta, count: None },
        fresh: false,
    };
    let flipped = run(Some(fixed(PoisonForm::Flipped, 0.5)));
    let reverse = run(Some(fixed(PoisonForm::Reverse, 0.5)));
    assert_eq!(flipped, reverse);
    let clean = run(None);
    assert_ne!(clean, flipped);
    let zero = run(Some(fixed(PoisonForm::Flipped, 0.0)));
    let diff: f32 = zero
        .values()
        .iter()
        .zip(clean.values())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        diff < 1e-5,
        "beta = 0 should train like the clean objective, max difference {diff}"
    );
}

/// A network that turns non-finite after a number of gradient calls.
struct Exploding {
    inner: Mlp,
    calls: AtomicUsize,
    fail_at: usize,
}

impl Network for Exploding {
    fn layout(&self) -> &Arc<genviz_core::Layout> {
        self.inner.layout()
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        self.inner.evaluate(thetas, data)
    }
    /// As the MLP: so the crash and resume tests run their steps on a pool worker too.
    fn steps_on_pool(&self) -> bool {
        self.inner.steps_on_pool()
    }
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let l = self.inner.loss_grad(theta, batch, grad);
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            f64::NAN
        } else {
            l
        }
    }
    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.inner.logits(theta, inputs, n)
    }
}

#[test]
fn non_finite_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint() {
    let (train_set, test_set) = swiss_roll(5);
    let inner = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let net = Exploding {
        inner: inner.clone(),
        calls: AtomicUsize::new(0),
        fail_at: 150,
    };
    let cfg = config(300);
    let dir = tempfile::tempdir().unwrap();
    let init = init_params(
        inner.spec(),
        Init::GlorotUniform,
        &mut rng::stream(1, "init"),
    );
    let req = TrainRequest {
        network: &net,
        init,
        train: &train_set,
        test: &test_set,
        config: &cfg,
        poison: None,
        seed: 1,
        out_dir: Some(dir.path()),
        metadata: HashMap::new(),
    };
    let err = train(req, &mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains("step 150")
            && err.contains("NaN")
            && err.contains("step_00000100.safetensors"),
        "{err}"
    );
    let ckpt = genviz_core::io::read_safetensors(
        &dir.path().join("checkpoints/step_00000100.safetensors"),
    )
    .unwrap();
    assert!(ckpt
        .tensors
        .iter()
        .all(|t| t.values.iter().all(|v| v.is_finite())));
    assert!(!dir
        .path()
        .join("checkpoints/step_00000200.safetensors")
        .exists());
    assert!(
        std::fs::read_to_string(dir.path().join("metrics.csv"))
            .unwrap()
            .lines()
            .count()
            == 2
    );
}

#[test]
fn minibatches_cover_every_example_each_epoch() {
    let data = Dataset::new(
        (0..20).map(|v| v as f32).collect(),
        (0..10).map(|i| i % 2).collect(),
        2,
        2,
    )
    .unwrap();
    let mut plan = BatchPlan::new(10, Some(5), 3);
    let mut seen: Vec<f32> = Vec::new();
    for _ in 0..2 {
        seen.extend(plan.next(&data).features().iter().step_by(2));
    }
    seen.sort_by(f32::total_cmp);
    assert_eq!(seen, (0..10).map(|v| 2.0 * v as f32).collect::<Vec<_>>());
}

/// Every optimizer's state survives a crash: a run that stops with a non-finite loss after
/// its step-4 checkpoint and is rerun with a healthy network ends with the same bits as a run
/// never interrupted (L-BFGS included, whose history lives in the state file).
#[test]
fn every_optimizer_resumes_bit_for_bit_after_a_crash() {
    let (train_set, test_set) = swiss_roll(7);
    let inner = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    for (optimizer, lr) in [
        (OptimizerConfig::amsgrad(), 0.01),
        (OptimizerConfig::adagrad(), 0.025),
        (OptimizerConfig::adadelta(0.5), 5.0),
        (OptimizerConfig::adamax(0.9, 0.9), 0.01),
        (OptimizerConfig::asgd(), 0.1),
        (OptimizerConfig::lbfgs(), 0.1),
    ] {
        let cfg = TrainConfig {
            optimizer: optimizer.clone(),
            schedule: LrSchedule::constant(lr),
            batch_size: Some(50),
            clip_norm: None,
            log_every: 2,
            checkpoint_every: 4,
            ..config(8)
        };
        let straight = train(request(&inner, &train_set, &test_set, &cfg), &mut |_| {}).unwrap();
        let per_step = straight.gradient_evaluations / 8;
        assert!(
            straight.final_metrics.train_loss < straight.history[0].train_loss * 1.5,
            "{optimizer:?}: {:?}",
            straight.history
        );
        let dir = tempfile::tempdir().unwrap();
        let crashing = Exploding {
            inner: inner.clone(),
            calls: AtomicUsize::new(0),
            // First-order: one call a step, so the crash is in step 6; L-BFGS: many a step.
            fail_at: (5 * per_step.max(1) + 1) as usize,
        };
        let mut req = request(&inner, &train_set, &test_set, &cfg);
        req.network = &crashing;
        req.out_dir = Some(dir.path());
        assert!(train(req, &mut |_| {}).is_err(), "{optimizer:?}");
        let mut req = request(&inner, &train_set, &test_set, &cfg);
        req.out_dir = Some(dir.path());
        let resumed = train(req, &mut |_| {}).unwrap();
        assert_eq!(
            resumed.params.values(),
            straight.params.values(),
            "{optimizer:?}"
        );
        assert_eq!(resumed.history, straight.history, "{optimizer:?}");
        assert_eq!(
            resumed.gradient_evaluations, straight.gradient_evaluations,
            "{optimizer:?}"
        );
    }
}

#[test]
fn lbfgs_takes_several_evaluations_a_step_and_lowers_the_loss() {
    let (train_set, test_set) = swiss_roll(3);
    let net = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let cfg = TrainConfig {
        optimizer: OptimizerConfig::lbfgs(),
        schedule: LrSchedule::constant(0.9),
        clip_norm: None,
        log_every: 10,
        ..config(20)
    };
    let out = train(request(&net, &train_set, &test_set, &cfg), &mut |_| {}).unwrap();
    assert!(
        out.gradient_evaluations > 20,
        "{}",
        out.gradient_evaluations
    );
    assert!(out.gradient_evaluations <= 20 * 20);
    let first = &out.history[0];
    assert!(
        out.final_metrics.train_loss < first.train_loss,
        "{:?}",
        out.history
    );
    let bad = TrainConfig {
        clip_norm: Some(8.0),
        ..cfg.clone()
    };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("clip_norm") && e.contains("lbfgs"), "{e}");
    let bad = TrainConfig {
        weight_decay: 1e-4,
        ..cfg
    };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("weight_decay is 0.0001, expected 0"), "{e}");
}

/// An MLP whose output bias stands for values a net estimates from data rather than trains
/// (BatchNorm's running statistics): it is set to the mean label of the data asked about.
struct Estimating {
    inner: Mlp,
    batches: std::sync::Mutex<Vec<usize>>,
}

impl Network for Estimating {
    fn layout(&self) -> &Arc<genviz_core::Layout> {
        self.inner.layout()
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        self.inner.evaluate(thetas, data)
    }
    fn estimate_statistics(&self, theta: &[f32], data: &Dataset, batch: usize) -> Option<Vec<f32>> {
        self.batches.lock().unwrap().push(batch);
        let mean = data.labels().iter().map(|&l| l as f32).sum::<f32>() / data.len() as f32;
        let mut out = theta.to_vec();
        *out.last_mut().unwrap() = mean;
        Some(out)
    }
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        self.inner.loss_grad(theta, batch, grad)
    }
    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.inner.logits(theta, inputs, n)
    }
}

#[test]
fn estimated_statistics_are_what_is_logged_and_saved_but_never_trained() {
    let (train_set, test_set) = swiss_roll(8);
    let mlp = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let net = Estimating {
        inner: mlp.clone(),
        batches: Default::default(),
    };
    let mut cfg = config(200);
    cfg.batch_size = Some(50);
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(&mlp, &train_set, &test_set, &cfg);
    req.network = &net;
    req.out_dir = Some(dir.path());
    let out = train(req, &mut |_| {}).unwrap();
    let plain = train(request(&mlp, &train_set, &test_set, &cfg), &mut |_| {}).unwrap();

    let mean = train_set.labels().iter().map(|&l| l as f32).sum::<f32>() / train_set.len() as f32;
    let n = plain.params.values().len();
    // Training never reads the estimated value: every trained one is the plain run's.
    assert_eq!(out.params.values()[..n - 1], plain.params.values()[..n - 1]);
    assert_ne!(plain.params.values()[n - 1], mean);
    assert_eq!(out.params.values()[n - 1], mean);
    // Each checkpoint (steps 0, 100, 200) and each logged row (100, 200) is the net with the
    // estimate in place.
    let mut npz = genviz_core::io::Npz::open(&dir.path().join("trajectory.npz")).unwrap();
    let (trajectory, _) = npz.f32("params").unwrap();
    let checkpoints: Vec<&[f32]> = trajectory.chunks(n).collect();
    assert_eq!(checkpoints.len(), 3);
    assert!(checkpoints.iter().all(|theta| theta[n - 1] == mean));
    assert_eq!(out.history.len(), 2);
    for (row, theta) in out.history.iter().zip(&checkpoints[1..]) {
        let eval = mlp.evaluate(&[theta], &train_set)[0];
        assert_eq!((row.train_loss, row.train_acc), (eval.loss, eval.accuracy));
    }
    let eval = mlp.evaluate(&[out.params.values()], &test_set)[0];
    assert_eq!(out.final_metrics.test_loss, eval.loss);
    // Estimated in batches of the training batch size: at the start, steps 100 and 200, the end.
    assert_eq!(*net.batches.lock().unwrap(), vec![50; 4]);
}

/// Fresh swiss-roll poison points, as `genviz paper` draws them.
fn fresh_swiss_roll_poison() -> PoisonPool {
    PoisonPool::Fresh(Box::new(|n, rng| {
        let pairs = SwissRoll {
            points_per_class: n.div_ceil(2),
            ..SwissRoll::default()
        };
        let d = genviz_data::shuffle(&pairs.generate(rng), rng);
        d.select(&(0..n).collect::<Vec<_>>())
    }))
}

/// Every file a run leaves in `dir`, decoded: each checkpoint's and the resume state's
/// tensors, the trajectory and `metrics.csv` (safetensors metadata is a hash map, whose
/// order in the file is not fixed, so files are compared by content rather than bytes).
fn run_files(dir: &Path) -> Vec<(String, Vec<Vec<u32>>, String)> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let file = genviz_core::io::read_safetensors(&dir.join("checkpoints").join(&name)).unwrap();
        let mut meta: Vec<_> = file.metadata.into_iter().collect();
        meta.sort();
        let tensors = file
            .tensors
            .iter()
            .map(|t| t.values.iter().map(|v| v.to_bits()).collect())
            .collect();
        out.push((name, tensors, format!("{meta:?}")));
    }
    let mut npz = genviz_core::io::Npz::open(&dir.join("trajectory.npz")).unwrap();
    let (params, _) = npz.f32("params").unwrap();
    let (steps, _) = npz.i64("steps").unwrap();
    out.push((
        "trajectory.npz".into(),
        vec![params.iter().map(|v| v.to_bits()).collect()],
        format!("{steps:?}"),
    ));
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    out.push(("metrics.csv".into(), Vec::new(), csv));
    out
}

fn same_bits(a: &Params, b: &Params) -> bool {
    a.values().len() == b.values().len()
        && a.values()
            .iter()
            .zip(b.values())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Four different runs (clean, fresh flipped poison, a fixed reverse-poison set, minibatches
/// with RMSprop; different seeds, schedules and lengths; two writing checkpoints), trained
/// together on two threads, each give what `train` gives them alone: parameters, history,
/// evaluations and every file they write.
#[test]
fn train_many_gives_each_network_what_train_gives_it_alone() {
    let (train_set, test_set) = swiss_roll(11);
    let (fixed_poison, _) = swiss_roll(12);
    let net = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let clean = config(120);
    let mut fresh = config(90);
    fresh.poison = Some(PoisonConfig::gen_viz_swiss_roll());
    fresh.log_every = 30;
    fresh.checkpoint_every = 40;
    let mut fixed = config(70);
    fixed.poison = Some(PoisonConfig {
        form: PoisonForm::Reverse,
        weight: PoisonWeight::Beta {
            beta: 0.3,
            count: Some(60),
        },
        fresh: false,
    });
    fixed.schedule = LrSchedule {
        lr: 0.02,
        milestones: vec![20, 50],
        gamma: 0.5,
    };
    let minibatch = TrainConfig {
        optimizer: OptimizerConfig::rmsprop(0.9),
        batch_size: Some(64),
        ..config(60)
    };
    let configs = [&clean, &fresh, &fixed, &minibatch];
    let make = |k: usize, dir: Option<&'static Path>| {
        let cfg = configs[k];
        let mut req = request(&net, &train_set, &test_set, cfg);
        req.seed = 100 + k as u64;
        req.init = init_params(
            net.spec(),
            Init::GlorotUniform,
            &mut rng::stream(req.seed, "init"),
        );
        req.poison = match k {
            1 => Some(fresh_swiss_roll_poison()),
            2 => Some(PoisonPool::Fixed(fixed_poison.clone())),
            _ => None,
        };
        req.out_dir = dir;
        req
    };
    let leak = |d: &tempfile::TempDir| -> &'static Path {
        Box::leak(d.path().to_path_buf().into_boxed_path())
    };
    let alone_dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let many_dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let dir_of = |dirs: &[tempfile::TempDir; 2], k: usize| match k {
        0 => Some(leak(&dirs[0])),
        1 => Some(leak(&dirs[1])),
        _ => None,
    };
    let alone: Vec<TrainOutcome> = (0..4)
        .map(|k| train(make(k, dir_of(&alone_dirs, k)), &mut |_| {}).unwrap())
        .collect();
    let logged = std::sync::Mutex::new(vec![0usize; 4]);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let many = pool.install(|| {
        train_many(
            (0..4).map(|k| make(k, dir_of(&many_dirs, k))).collect(),
            &|i, _| logged.lock().unwrap()[i] += 1,
        )
    });
    assert_eq!(many.len(), 4);
    for (k, (a, m)) in alone.iter().zip(many).enumerate() {
        let m = m.unwrap();
        assert!(same_bits(&a.params, &m.params), "network {k}");
        assert_eq!(a.history, m.history, "network {k}");
        assert_eq!(a.final_metrics, m.final_metrics, "network {k}");
        assert_eq!(a.gradient_evaluations, m.gradient_evaluations);
        assert_eq!(logged.lock().unwrap()[k], a.history.len());
    }
    for k in 0..2 {
        assert_eq!(
            run_files(alone_dirs[k].path()),
            run_files(many_dirs[k].path()),
            "network {k}"
        );
    }
}

/// Networks trained together resume after a crash as `train`'s runs do: two of three runs
/// stop with a non-finite loss after their step-40 checkpoint (the third finishes, and its
/// error-free result is not held up by the others'); rerunning all three with healthy
/// networks resumes the two and ends every run with the bits of an uninterrupted one.
#[test]
fn train_many_resumes_each_network_after_a_crash() {
    let (train_set, test_set) = swiss_roll(13);
    let inner = Mlp::new(MlpSpec::swiss_roll()).unwrap();
    let mut cfg = config(80);
    cfg.checkpoint_every = 40;
    cfg.log_every = 20;
    cfg.poison = Some(PoisonConfig::gen_viz_swiss_roll());
    let crashing: Vec<Exploding> = (0..3)
        .map(|_| Exploding {
            inner: inner.clone(),
            calls: AtomicUsize::new(0),
            fail_at: 55,
        })
        .collect();
    let make = |k: usize, network: &'static dyn Network, dir: Option<&'static Path>| {
        let mut req = request(&inner, &train_set, &test_set, &cfg);
        req.network = network;
        req.seed = 200 + k as u64;
        req.init = init_params(
            inner.spec(),
            Init::GlorotUniform,
            &mut rng::stream(req.seed, "init"),
        );
        req.poison = Some(fresh_swiss_roll_poison());
        req.out_dir = dir;
        req
    };
    let healthy: &'static Mlp = Box::leak(Box::new(inner.clone()));
    let crashing: &'static [Exploding] = Box::leak(crashing.into_boxed_slice());
    let straight: Vec<TrainOutcome> = (0..3)
        .map(|k| train(make(k, healthy, None), &mut |_| {}).unwrap())
        .collect();
    let dirs: Vec<&'static Path> = (0..3)
        .map(|_| {
            let d = tempfile::tempdir().unwrap().keep();
            &*Box::leak(d.into_boxed_path())
        })
        .collect();
    let first = train_many(
        (0..3)
            .map(|k| {
                let network: &'static dyn Network = if k == 2 { healthy } else { &crashing[k] };
                make(k, network, Some(dirs[k]))
            })
            .collect(),
        &|_, _| {},
    );
    assert!(first[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("step 55"));
    assert!(first[1].is_err());
    assert!(same_bits(
        &first[2].as_ref().unwrap().params,
        &straight[2].params
    ));
    let resumed = train_many(
        (0..3).map(|k| make(k, healthy, Some(dirs[k]))).collect(),
        &|_, _| {},
    );
    for (k, (r, s)) in resumed.into_iter().zip(&straight).enumerate() {
        let r = r.unwrap();
        assert!(same_bits(&r.params, &s.params), "network {k}");
        assert_eq!(r.history, s.history, "network {k}");
    }
    for d in dirs {
        std::fs::remove_dir_all(d).unwrap();
    }
}
