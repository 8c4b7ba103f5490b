//! Times forward+backward of the paper's swiss-roll net on 200 points.
use genviz_core::network::MeanWeights;
use genviz_core::{rng, Dataset, Network};
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use rand::Rng as _;
fn main() {
    rayon::ThreadPoolBuilder::new()
        .build()
        .unwrap()
        .install(run);
}

fn run() {
    let spec = MlpSpec::swiss_roll();
    let mlp = Mlp::new(spec.clone()).unwrap();
    let theta = init_params(&spec, Init::GlorotUniform, &mut rng::stream(0, "init")).into_values();
    let mut r = rng::stream(0, "d");
    let n = 200;
    let d = Dataset::new(
        (0..2 * n).map(|_| r.gen_range(-15.0..15.0)).collect(),
        (0..n).map(|i| (i % 2) as u32).collect(),
        2,
        2,
    )
    .unwrap();
    let weights = MeanWeights::new(n);
    let b = weights.batch(&d);
    let mut g = vec![0f32; theta.len()];
    for _ in 0..200 {
        mlp.loss_grad(&theta, &b, &mut g);
    }
    let t = std::time::Instant::now();
    let reps = 5000;
    for _ in 0..reps {
        mlp.loss_grad(&theta, &b, &mut g);
    }
    println!(
        "loss_grad: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
}
