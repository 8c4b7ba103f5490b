use super::*;
use crate::direction::{difference, random_direction, BiasPolicy, Normalization};
use crate::grid::{Axis, Spacing};
use genviz_core::rng;
use genviz_data::{train_test_split, SwissRoll};
use genviz_mlp::{init_params, Activation, Head, Init, Mlp, MlpSpec};

#[path = "../../../genviz-mlp/src/reference.rs"]
mod reference;

struct Setup {
    net: Mlp,
    theta: Params,
    other: Params,
    train: Dataset,
    test: Dataset,
}

fn setup() -> Setup {
    let spec = MlpSpec::swiss_roll();
    let net = Mlp::new(spec.clone()).unwrap();
    let all = SwissRoll::default().generate(&mut rng::stream(1, "data"));
    let (train, test) = train_test_split(&all, 200, &mut rng::stream(1, "split")).unwrap();
    Setup {
        theta: init_params(&spec, Init::Pytorch, &mut rng::stream(1, "init")),
        other: init_params(&spec, Init::Pytorch, &mut rng::stream(2, "init")),
        net,
        train,
        test,
    }
}

fn plane(s: &Setup) -> Plane {
    let x = random_direction(
        &s.theta,
        Normalization::Filter,
        BiasPolicy::Ignore,
        &mut rng::stream(1, "x"),
    );
    let y = random_direction(
        &s.theta,
        Normalization::Filter,
        BiasPolicy::Ignore,
        &mut rng::stream(1, "y"),
    );
    Plane::new(s.theta.clone(), x, Some(y)).unwrap()
}

fn full(s: &Setup, p: &Plane, xs: &[f64], ys: &[f64]) -> Surface {
    let mut surf = Surface::new(xs.to_vec(), ys.to_vec(), 0).unwrap();
    surf.fill(&s.net, p, &s.train, &s.test, Shard::ALL, &mut |_, _| Ok(()))
        .unwrap();
    surf
}

fn axis(s: &str) -> Vec<f64> {
    s.parse::<Axis>().unwrap().coords(Spacing::Linear)
}

#[test]
fn grid_centre_is_the_model() {
    let s = setup();
    let p = plane(&s);
    let surf = full(&s, &p, &axis("-1:1:5"), &axis("-1:1:3"));
    let centre = 5 + 2; // iy = 1, ix = 2
    assert_eq!(surf.coords(centre), (0.0, 0.0));
    let e = s.net.evaluate(&[s.theta.values()], &s.train)[0];
    assert_eq!(surf.train_loss[centre], e.loss);
    assert_eq!(surf.train_acc[centre], e.accuracy);
    assert_eq!(
        surf.test_loss[centre],
        s.net.evaluate(&[s.theta.values()], &s.test)[0].loss
    );
}

#[test]
fn interpolation_endpoints_are_both_models() {
    let s = setup();
    let p = Plane::new(
        s.theta.clone(),
        difference(&s.other, &s.theta).unwrap(),
        None,
    )
    .unwrap();
    let surf = full(&s, &p, &axis("-0.5:1.5:9"), &[]);
    let at = |m: &Params| s.net.evaluate(&[m.values()], &s.train)[0].loss;
    assert_eq!(surf.train_loss[2], at(&s.theta));
    // theta + 1 * (other - theta) differs from `other` by rounding only.
    assert!((surf.train_loss[6] - at(&s.other)).abs() < 1e-5 * at(&s.other));
}

#[test]
fn resumed_and_sharded_runs_equal_a_single_run() {
    let s = setup();
    let p = plane(&s);
    let (xs, ys) = (axis("-1:1:9"), axis("-1:1:7"));
    let single = full(&s, &p, &xs, &ys);

    // Interrupted after the first batch, saved, reloaded and finished.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("surface.npz");
    let mut first = Surface::new(xs.clone(), ys.clone(), 0).unwrap();
    let mut calls = 0;
    let _ = first.fill(
        &s.net,
        &p,
        &s.train,
        &s.test,
        Shard { index: 1, count: 3 },
        &mut |surf, _| {
            calls += 1;
            surf.save(&path)?;
            Err(Error::invalid("killed"))
        },
    );
    assert_eq!(calls, 1);
    let mut resumed = Surface::load(&path).unwrap();
    assert!(resumed.filled() > 0 && resumed.filled() < resumed.len());
    resumed
        .fill(
            &s.net,
            &p,
            &s.train,
            &s.test,
            Shard::ALL,
            &mut |_, _| Ok(()),
        )
        .unwrap();
    assert_eq!(bits(&resumed), bits(&single));

    // Three shards, saved and merged.
    let parts: Vec<_> = (1..=3)
        .map(|k| {
            let mut part = Surface::new(xs.clone(), ys.clone(), 0).unwrap();
            part.fill(
                &s.net,
                &p,
                &s.train,
                &s.test,
                Shard { index: k, count: 3 },
                &mut |_, _| Ok(()),
            )
            .unwrap();
            let file = dir.path().join(format!("part{k}.npz"));
            part.save(&file).unwrap();
            (file.clone(), Surface::load(&file).unwrap())
        })
        .collect();
    let merged = Surface::merge(&parts).unwrap();
    assert_eq!(bits(&merged), bits(&single));
}

fn bits(s: &Surface) -> Vec<u64> {
    [&s.train_loss, &s.train_acc, &s.test_loss, &s.test_acc]
        .iter()
        .flat_map(|v| v.iter().map(|x| x.to_bits()))
        .collect()
}

#[test]
fn fast_path_agrees_with_a_straightforward_evaluation_everywhere() {
    let s = setup();
    let p = plane(&s);
    let surf = full(&s, &p, &axis("-1:1:7"), &axis("-1:1:7"));
    let mut theta = vec![0f32; s.theta.values().len()];
    for i in 0..surf.len() {
        let (a, b) = surf.coords(i);
        // Built independently of Plane::point, in f64.
        let y = p.y.as_ref().unwrap();
        for (k, t) in theta.iter_mut().enumerate() {
            *t = (f64::from(s.theta.values()[k])
                + a * f64::from(p.x.values()[k])
                + b * f64::from(y.values()[k])) as f32;
        }
        let n = s.train.len();
        let want = reference::reference_loss(
            s.net.spec(),
            &theta,
            &s.train,
            &vec![1.0 / n as f32; n],
            &vec![false; n],
        );
        let got = surf.train_loss[i];
        assert!(
            (got - want).abs() <= 1e-5 * want.abs().max(1e-3),
            "point {i} ({a}, {b}): {got} vs {want}"
        );
    }
}

#[test]
fn oversized_grids_and_mismatched_directions_fail_before_work() {
    let err = Surface::new(vec![0.0; 100_000], vec![0.0; 100_000], 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("too big"), "{err}");
    let s = setup();
    let small = Mlp::new(MlpSpec {
        hidden: vec![4],
        ..MlpSpec::swiss_roll()
    })
    .unwrap();
    let wrong = init_params(small.spec(), Init::Pytorch, &mut rng::stream(0, "init"));
    let err = Plane::new(s.theta.clone(), wrong, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x direction") && err.contains("layers.0.weight"),
        "{err}"
    );
}
