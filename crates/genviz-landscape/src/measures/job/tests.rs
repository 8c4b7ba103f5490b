use super::*;
use crate::measures::testnets::small_mlp;
use crate::measures::Counting;

fn specs() -> Vec<MeasureSpec> {
    vec![
        MeasureSpec::Performance,
        MeasureSpec::AverageSharpness(AverageSharpnessConfig::default()),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            m: 40,
            ..Default::default()
        }),
        MeasureSpec::PacBayesFlatness(PacBayesConfig::default()),
        MeasureSpec::SpectralProduct,
    ]
}

#[test]
fn a_killed_job_resumes_computing_only_what_is_missing() {
    let (net, theta, data) = small_mlp();
    let test = data.clone();
    let inputs = Inputs {
        net: &net,
        theta: &theta,
        init: None,
        train: &data,
        test: Some(&test),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("measures.json");

    // The whole job in one go, for reference.
    let mut whole = MeasureJob::new(specs(), &inputs).unwrap();
    whole.run(&inputs, &mut |_, _| Ok(())).unwrap();
    assert!(whole.is_complete());

    // A run killed after its third measure: the file holds three.
    let mut job = MeasureJob::open(specs(), &inputs, &path).unwrap();
    let killed = job.run(&inputs, &mut |job, i| {
        job.save(&path)?;
        if i == 2 {
            Err(Error::invalid("killed"))
        } else {
            Ok(())
        }
    });
    assert!(killed.is_err());
    let saved = MeasureJob::open(specs(), &inputs, &path).unwrap();
    assert_eq!(saved.missing(), vec![3, 4]);

    // The rerun computes entries 3 and 4 only, and gives the same table.
    let mut resumed = saved;
    let spy = Counting::new(&net);
    let watched = Inputs {
        net: &spy,
        ..inputs
    };
    resumed.run_saving(&watched, &path).unwrap();
    let expected: u64 = resumed.entries[3..]
        .iter()
        .map(|e| {
            let c = e.outcome.as_ref().unwrap().cost;
            c.evaluations + c.gradients
        })
        .sum();
    assert_eq!(spy.cost().evaluations + spy.cost().gradients, expected);
    assert!(expected > 0);
    let names = |j: &MeasureJob| j.measures().into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(names(&resumed), names(&whole));
    let reread: MeasureJob = read_json(&path).unwrap();
    assert_eq!(names(&reread), names(&whole));
    assert!(reread.is_complete());

    // A changed configuration is recomputed; the others are kept.
    let mut changed = specs();
    changed[1] = MeasureSpec::AverageSharpness(AverageSharpnessConfig {
        rho: 0.2,
        ..Default::default()
    });
    let job = MeasureJob::open(changed, &inputs, &path).unwrap();
    assert_eq!(job.missing(), vec![1]);

    // Another model's file is refused.
    let mut other = theta.clone();
    other.values_mut()[0] += 1.0;
    let other_inputs = Inputs {
        theta: &other,
        ..inputs
    };
    let err = MeasureJob::open(specs(), &other_inputs, &path).unwrap_err();
    assert!(err.to_string().contains("another model"), "{err}");
    let mut wrong = MeasureJob::new(specs(), &inputs).unwrap();
    assert!(wrong.run(&other_inputs, &mut |_, _| Ok(())).is_err());
}

#[test]
fn specifications_read_from_json_and_are_checked() {
    let spec: MeasureSpec =
        serde_json::from_str(r#"{"kind": "worst_sharpness", "rho": 0.002, "adaptive": true}"#)
            .unwrap();
    assert_eq!(
        spec.names(),
        vec!["worst_sharpness_linf_adaptive_rho_0.002_m_128".to_string()]
    );
    let spec: MeasureSpec = serde_json::from_str(r#"{"kind": "path_norm"}"#).unwrap();
    assert_eq!(spec, MeasureSpec::PathNorm);
    assert!(serde_json::from_str::<MeasureSpec>(r#"{"kind": "sharpness"}"#).is_err());
    assert!(serde_json::from_str::<MeasureSpec>(r#"{"kind": "basin", "raays": 3}"#).is_err());
    // Every default measure survives a round trip.
    let text = serde_json::to_string(&default_measures()).unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<MeasureSpec>>(&text).unwrap(),
        default_measures()
    );

    let (net, theta, data) = small_mlp();
    let inputs = Inputs {
        net: &net,
        theta: &theta,
        init: None,
        train: &data,
        test: None,
    };
    let twice = vec![MeasureSpec::PathNorm, MeasureSpec::PathNorm];
    assert!(MeasureJob::new(twice, &inputs)
        .unwrap_err()
        .to_string()
        .contains("twice"));
    assert!(MeasureJob::new(vec![MeasureSpec::DistanceFromInit], &inputs).is_err());
    assert!(MeasureJob::new(vec![MeasureSpec::Performance], &inputs).is_err());
    let bad = MeasureSpec::WorstSharpness(WorstSharpnessConfig {
        m: 0,
        ..Default::default()
    });
    assert!(MeasureJob::new(vec![bad], &inputs).is_err());
}

#[test]
fn the_default_table_runs_on_a_small_mlp_with_unique_names() {
    let (net, theta, data) = small_mlp();
    let init = {
        let mut p = theta.clone();
        p.values_mut().iter_mut().for_each(|v| *v *= 0.5);
        p
    };
    let inputs = Inputs {
        net: &net,
        theta: &theta,
        init: Some(&init),
        train: &data,
        test: Some(&data),
    };
    let mut specs = default_measures();
    // A smaller basin keeps the test fast; everything else as shipped.
    for s in &mut specs {
        if let MeasureSpec::Basin(c) = s {
            c.rays = 10;
        }
    }
    let mut job = MeasureJob::new(specs, &inputs).unwrap();
    job.run(&inputs, &mut |_, _| Ok(())).unwrap();
    let names: Vec<String> = job.measures().iter().map(|m| m.name.clone()).collect();
    let expected: Vec<String> = job.entries.iter().flat_map(|e| e.spec.names()).collect();
    assert_eq!(names, expected);
    assert!(
        job.measures().iter().all(|m| m.value.is_finite()),
        "{:?}",
        job.measures()
    );
    assert_eq!(
        job.value("train_loss"),
        Some(net.evaluate(&[theta.values()], &data)[0].loss)
    );
}
