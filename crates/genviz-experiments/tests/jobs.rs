//! The experiments as a library: each job runs from its typed configuration without the
//! command line, writes one record, and reruns from that record alone.

mod support;

use genviz_experiments::basin::{self, BasinConfig};
use genviz_experiments::landscape::{self, Directions, GridSettings, PlotStyle, SurfaceConfig};
use genviz_experiments::model::DataSource;
use genviz_experiments::paper::{self, Figure, PaperConfig, Scale};
use genviz_experiments::progress::Recorder;
use genviz_experiments::{presets, train, Job, RunRecord, Silent};
use genviz_landscape::basin::{RadiusMode, RayConfig};
use genviz_landscape::{Axis, BiasPolicy, Normalization, Shard};
use std::path::Path;

/// The paper's clean swiss-roll recipe, `steps` long.
fn short_run(dir: &Path, steps: u64) -> train::TrainedRun {
    let mut config = presets::swiss_roll_clean(steps);
    config.train.log_every = steps / 4;
    config.train.checkpoint_every = steps / 4;
    train::run(&config, dir, &Silent).unwrap()
}

#[test]
fn a_training_run_records_itself_and_reruns_from_the_record_to_the_same_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let recorder = Recorder::default();
    let mut config = presets::swiss_roll_clean(300);
    config.train.checkpoint_every = 100;
    let run = train::run(&config, &a, &recorder).unwrap();
    assert_eq!(
        recorder.events(),
        [
            "stage swissroll clean 300 steps".to_string(),
            format!(
                "finish swissroll clean: train {:.1}%  test {:.1}%",
                100.0 * run.final_metrics.train_acc,
                100.0 * run.final_metrics.test_acc
            )
        ]
    );

    let record = RunRecord::read(&a).unwrap();
    assert_eq!(record, run.record);
    assert_eq!(record.job, Job::Train(config.clone()));
    assert_eq!(record.seed, Some(presets::SWISS_ROLL_SEED));
    let results: train::TrainResults = record.results().unwrap();
    assert_eq!(results.final_metrics, run.final_metrics);
    assert_eq!(results.num_params, 3614);
    assert_eq!(record.data.as_ref().unwrap().train, 200);

    // The record alone makes the run again, in another folder, bit for bit.
    let b = tmp.path().join("b");
    let again = record.job.run(&b, &Silent).unwrap();
    assert_eq!(again.job, record.job);
    for file in [
        "model.safetensors",
        "metrics.csv",
        "trajectory.npz",
        "data.npz",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn every_job_configuration_reads_back_from_its_record() {
    let model = std::path::PathBuf::from("/runs/clean");
    let data = DataSource::own(1237);
    let jobs = vec![
        Job::Train(presets::swiss_roll_poisoned(1000)),
        Job::Train(presets::fashion_mnist_poisoned(10)),
        Job::Surface(SurfaceConfig {
            model: model.clone(),
            x: "-1:1:11".parse().unwrap(),
            y: Some("-0.5:0.5:5".parse().unwrap()),
            spacing: genviz_landscape::Spacing::Pow5,
            directions: Directions {
                model2: Some("/runs/other".into()),
                orthogonal: true,
                ..Directions::random(3)
            },
            grid: GridSettings {
                data: DataSource {
                    data: Some("moons".into()),
                    seed: 2,
                    eval_train: Some(10),
                    eval_test: None,
                    // Every ONNX choice away from its default, so the round trip covers them.
                    model: genviz_experiments::model::ModelOptions {
                        device: genviz_experiments::Device::Cpu,
                        params: Some("^layers\\.".into()),
                        head: Some(genviz_experiments::model::Head::Sigmoid),
                        bn: genviz_experiments::model::BnMode::Recompute,
                    },
                },
                shard: Some(Shard { index: 2, count: 3 }),
                save_every: 0.5,
                plot: PlotStyle::log_decades(),
            },
        }),
        Job::Basin(BasinConfig {
            model: model.clone(),
            rays: RayConfig {
                rays: 10,
                threshold: 1.0,
                mode: RadiusMode::GenViz {
                    span: 1.0,
                    samples: 100,
                },
                seed: 4,
                norm: Normalization::None,
                bias: BiasPolicy::Ignore,
            },
            data: data.clone(),
            shard: None,
        }),
        Job::Hessian(genviz_experiments::hessian::HessianConfig {
            model: model.clone(),
            top_k: 2,
            lanczos: 10,
            runs: 1,
            filter_normalised: true,
            ratio_map: 3,
            ratio_extent: 0.5,
            seed: 0,
            data,
        }),
        Job::Minefield(paper::minefield::MinefieldSettings::quick()),
        Job::Sharp(paper::sharp::SharpPlan::paper(100, 0)),
        Job::LinearVsNet(paper::linear_vs_net::LinearVsNetConfig::defaults(
            genviz_data::ImageSource::FashionMnist,
        )),
        Job::Optimizers(paper::optimizers::OptimizersConfig::new(&Default::default()).unwrap()),
        Job::Paper(PaperConfig::quick()),
    ];
    for job in jobs {
        let record = RunRecord::new(job.clone(), Some(7), &serde_json::json!({"x": 1.5})).unwrap();
        let text = serde_json::to_string_pretty(&record).unwrap();
        let back: RunRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record, "{}", job.command());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["command"], job.command());
        assert!(value["config"].is_object(), "{text}");
    }
}

#[test]
fn a_record_that_is_not_one_is_refused_with_its_file_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("run.json"),
        r#"{"command": "dance", "config": {}, "version": "0", "seed": 1, "threads": 2,
            "timings": {}, "results": {}}"#,
    )
    .unwrap();
    let err = format!("{:#}", RunRecord::read(tmp.path()).unwrap_err());
    assert!(
        err.contains("run.json") && err.contains("not a genviz run record"),
        "{err}"
    );
    assert!(err.contains("dance"), "{err}");
}

#[test]
fn a_surface_resumes_only_its_own_grid_and_shards_join_to_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    short_run(&run, 400);
    let surface = |shard: Option<Shard>, seed: u64| SurfaceConfig {
        model: run.clone(),
        x: "-0.5:0.5:7".parse().unwrap(),
        y: Some("-0.5:0.5:5".parse().unwrap()),
        spacing: Default::default(),
        directions: Directions::random(seed),
        grid: GridSettings {
            shard,
            save_every: 0.0,
            ..GridSettings::on(DataSource::own(1237))
        },
    };
    let whole = landscape::surface(&surface(None, 0), &tmp.path().join("whole"), &Silent).unwrap();
    let whole = whole.surface.unwrap();
    assert_eq!(whole.filled(), 35);

    let sharded = tmp.path().join("sharded");
    let mut files = Vec::new();
    for index in 1..=2 {
        let part = landscape::surface(
            &surface(Some(Shard { index, count: 2 }), 0),
            &sharded,
            &Silent,
        )
        .unwrap();
        files.push(part.file);
    }
    let joined = landscape::merge_surfaces(&files, &tmp.path().join("joined.npz")).unwrap();
    assert_eq!(joined.train_loss, whole.train_loss);
    assert_eq!(joined.test_acc, whole.test_acc);

    // Other directions into the same folder are refused, not mixed in.
    let err = landscape::surface(&surface(None, 1), &tmp.path().join("whole"), &Silent)
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("another"), "{err:#}");
}

#[test]
fn basin_shards_join_to_the_whole_and_a_rerun_casts_nothing_new() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    short_run(&run, 400);
    let config = |shard| BasinConfig {
        model: run.clone(),
        rays: RayConfig::filter_normalised(6, 0),
        data: DataSource::own(1237),
        shard,
    };
    let whole = basin::run(&config(None), &tmp.path().join("whole"), &Silent).unwrap();
    let result = whole.result.unwrap();
    assert_eq!(result.basin.radii.len(), 12);
    let summary: Option<basin::BasinSummary> = whole.record.results().unwrap();
    assert_eq!(summary.unwrap(), result.summary());

    let mut files = Vec::new();
    for index in 1..=3 {
        let part = basin::run(
            &config(Some(Shard { index, count: 3 })),
            &tmp.path().join("shards"),
            &Silent,
        )
        .unwrap();
        assert!(part.result.is_none());
        files.push(part.file);
    }
    let joined = basin::merge_rays(&files, &tmp.path().join("joined.npz")).unwrap();
    assert_eq!(joined, result);
    assert_eq!(
        std::fs::read(tmp.path().join("joined.npz")).unwrap(),
        std::fs::read(tmp.path().join("whole/basin.npz")).unwrap()
    );
}

#[test]
fn a_small_reproduction_checks_fig3_and_fig5_and_every_record_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("paper");
    let config = support::small_paper(vec![Figure::Fig5, Figure::Fig3]);
    let recorder = Recorder::default();
    let done = paper::reproduce(&config, &dir, &recorder).unwrap();
    let figures: Vec<&str> = done
        .results
        .checks
        .iter()
        .map(|c| c.figure.as_str())
        .collect();
    assert_eq!(figures, ["3a", "3a", "3b", "3b", "5", "5"]);
    assert_eq!(
        done.results.failed,
        done.results.checks.iter().filter(|c| !c.pass).count()
    );
    for f in &done.results.figures {
        assert!(dir.join(f).exists(), "{f}");
    }
    let events = recorder.events();
    for stage in [
        "stage swiss roll clean 600 steps",
        "stage swiss roll poisoned 600 steps",
        "stage surface 25 points",
        "stage basin 6 rays",
    ] {
        assert!(events.iter().any(|e| e == stage), "{stage} in {events:?}");
    }
    assert!(
        !events.iter().any(|e| e.starts_with("failed")),
        "{events:?}"
    );

    // Every run.json in the folder is a record: the paper's own, each training's, each
    // landscape's.
    let mut records: Vec<&str> = genviz_experiments::pages::run_folders(&dir)
        .unwrap()
        .iter()
        .map(|r| {
            RunRecord::read_file(&dir.join(r).join("run.json"))
                .unwrap()
                .job
                .command()
        })
        .collect();
    records.sort_unstable();
    assert_eq!(
        records,
        // Fig 3's landscapes, and the eigenvector planes of the report's explorer.
        ["paper", "surface", "surface", "surface", "surface", "train", "train"],
        "the records under {}",
        dir.display()
    );
    let record = RunRecord::read(&dir).unwrap();
    let results: paper::PaperResults = record.results().unwrap();
    assert_eq!(results.checks, done.results.checks);
    let axis = Axis {
        min: -paper::swissroll::LANDSCAPE_SPAN,
        max: paper::swissroll::LANDSCAPE_SPAN,
        num: 5,
    };
    match RunRecord::read(&dir.join("swissroll-clean/landscape"))
        .unwrap()
        .job
    {
        Job::Surface(s) => assert_eq!((s.x, s.y), (axis, Some(axis))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_that_cannot_run_are_refused_before_any_file_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let mut plan = paper::sharp::SharpPlan::paper(10, 0);
    plan.gap = 0.9;
    let err = format!(
        "{:#}",
        paper::sharp::run(&plan, &out, &Silent).err().unwrap()
    );
    assert!(err.contains("gap 0.9"), "{err}");
    let mut settings = paper::minefield::MinefieldSettings::quick();
    settings.starts = 1;
    assert!(paper::minefield::run(&settings, &out, &Silent).is_err());
    let empty = PaperConfig {
        figures: Vec::new(),
        scale: Scale::quick(),
    };
    assert!(paper::reproduce(&empty, &out, &Silent).is_err());
    assert!(!out.exists());
}

#[test]
fn the_skip_connection_figure_trains_draws_and_measures_both_nets() {
    use genviz_experiments::paper::skips::SkipsScale;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fashion-mnist");
    genviz_data::images::write_banded_fashion_mnist(&data, 120, 40).unwrap();
    let mut s = SkipsScale::cpu();
    (s.depths, s.widths, s.data_dir) = (vec![8], vec![2, 2, 4], Some(data));
    (s.n_train, s.epochs, s.milestones, s.batch_size) = (Some(64), 2, vec![1], 32);
    (s.surface_points, s.ratio_points) = (5, 3);
    (s.eval_train, s.eval_test, s.hessian_train) = (Some(32), 16, Some(16));
    let mut scale = Scale::quick();
    scale.skips = s;
    let config = PaperConfig {
        figures: vec![Figure::Skips],
        scale,
    };
    let dir = tmp.path().join("paper");
    let run = paper::reproduce(&config, &dir, &Silent).unwrap();
    assert_eq!(run.results.checks.len(), 3);
    assert!(run.results.checks.iter().all(|c| c.figure == "skips"));
    for f in &run.results.figures {
        let img = image::open(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(img.width() > 600, "{f}: two panels side by side");
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let skips = &results["skips"];
    assert!(skips["claim"].as_str().unwrap().contains("Li et al."));
    assert_eq!(skips["data"], "fashion-mnist");
    let nets = skips["pairs"][0]["nets"].as_array().unwrap();
    assert_eq!(nets[0]["name"], "resnet8");
    assert_eq!(nets[1]["name"], "resnet8-noshort");
    for n in nets {
        for key in ["mean", "fraction_above"] {
            assert!(n["ratio"][key].as_f64().unwrap().is_finite(), "{key}");
        }
        assert_eq!(n["ratio"]["points"], 9);
        assert!(n["local_minima"].as_u64().is_some());
        assert!(n["final"]["test_acc"].as_f64().unwrap().is_finite());
    }
    for key in ["ratio_mean", "ratio_fraction_above", "local_minima"] {
        assert!(skips["pairs"][0]["less_convex_without_skips"][key].is_boolean());
    }
    let mut npz = genviz_core::io::Npz::open(&dir.join("skips/skips_resnet8.npz")).unwrap();
    for name in ["train_loss_skip", "train_loss_noshort"] {
        let (v, shape) = npz.f64(name).unwrap();
        assert_eq!(shape, [5, 5]);
        assert!(v.iter().all(|x| x.is_finite()), "{name}");
    }
    let (r, shape) = npz.f64("eig_ratio_noshort").unwrap();
    assert_eq!(shape, [3, 3]);
    assert!(r.iter().all(|x| x.is_finite()));
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(report.contains("Skip connections: ResNets with and without"));
    // Every run folder's record parses, and a rerun reuses everything to the same numbers.
    for (net, n) in ["resnet8", "resnet8-noshort"].iter().zip(nets) {
        RunRecord::read(&dir.join("skips").join(net)).unwrap();
        // The last logged row is the saved net, BatchNorm statistics estimated as for it.
        let csv = std::fs::read_to_string(dir.join("skips").join(net).join("metrics.csv")).unwrap();
        let last: Vec<f64> = csv
            .lines()
            .last()
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(
            last[8],
            n["final"]["test_acc"].as_f64().unwrap(),
            "{net}: {csv}"
        );
        RunRecord::read(&dir.join("skips").join(net).join("hessian")).unwrap();
    }
    let before = std::fs::read_to_string(dir.join("skips/results.json")).unwrap();
    paper::reproduce(&config, &dir, &Silent).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("skips/results.json")).unwrap(),
        before
    );
}
