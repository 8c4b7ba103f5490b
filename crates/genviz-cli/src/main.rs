//! The `genviz` command: train networks, reproduce the paper's figures, evaluate and benchmark.

mod args;
mod commands;
mod progress;

use clap::{Parser, Subcommand};

/// genviz makes the generalization of neural networks visible: it trains classifiers (clean,
/// or poisoned into "bad minima" that fit the training set and fail on test data) and draws
/// what they learned.
///
/// Start with `genviz paper`, which reproduces the swiss-roll figures of Huang et al.,
/// "Understanding Generalization through Visualizations" (2019), into runs/.
#[derive(Parser)]
#[command(name = "genviz", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one network (flags, or a TOML experiment file) into a run folder.
    ///
    /// Without `--config`, the experiment is the paper's clean swiss-roll net (Adam, full batch,
    /// clipping at 8, the authors' learning-rate steps); each flag changes one thing. Examples:
    ///
    ///   genviz train --steps 20000
    ///
    ///   genviz train --poison gen-viz                    (the paper's bad minimum)
    ///
    ///   genviz train --data moons --hidden 32,32 --optimizer sgd --lr 0.1 --momentum 0.9
    ///
    ///   genviz train --data csv:points.csv --head softmax --batch-size 32
    ///
    ///   genviz train --config experiment.toml            (or a previous run's run.json)
    ///
    ///   genviz train --data fashion-mnist --model cnn --optimizer sgd --lr 0.05 --momentum 0.9
    ///     --batch-size 128 --steps 4000                  (a conv net on real images)
    ///
    ///   genviz train --data fashion-mnist --n-train 10000 --model cnn ... --poison reverse
    ///     --beta 0.5 --poison-count 64                   (64 held-out images a step, -log(1-p))
    ///
    /// The run folder holds run.json (full config, seed, timings, final accuracies),
    /// model.safetensors (PyTorch names: layers.0.weight [out, in], ...), metrics.csv,
    /// checkpoints/, trajectory.npz, data.npz and figures.
    #[command(verbatim_doc_comment)]
    Train(Box<commands::train::TrainArgs>),
    /// Run a run folder's job again from its run.json alone: resumes what was interrupted,
    /// and recomputes what is missing, into the same folder.
    Rerun(commands::rerun::RerunArgs),
    /// Rebuild the page (report.html) of a run folder, or index a folder of runs.
    ///
    /// Every command writes report.html into its run folder as it finishes: one offline file
    /// with the exact command, the figures, the numbers of run.json and, for landscapes, an
    /// interactive 3-D surface and the landscape explorer (2-D inputs) or the hover view
    /// (other inputs). This rebuilds it from the folder alone. Given a folder of runs, it
    /// writes index.html there: every run below it, linked, with a comparison table. Examples:
    ///
    ///   genviz report runs/surface-20250101-120000          (that run's report.html)
    ///
    ///   genviz report runs                                   (runs/index.html)
    #[command(verbatim_doc_comment)]
    Report(commands::report::ReportArgs),
    /// Evaluate a trained model (a run folder, a safetensors or an ONNX file) on data.
    Eval(commands::eval::EvalArgs),
    /// Write a genviz model as ONNX (opset 17, PyTorch's names, BatchNorm kept).
    Export(commands::export::ExportArgs),
    /// Reproduce the paper's figures: clean and poisoned swiss-roll nets, side by side.
    Paper(Box<commands::paper::PaperArgs>),
    /// Reproduce Fig 1, the "minefield": SGD iterates among nearby bad minima (t-SNE).
    ///
    /// Trains the good minefield net (SPEC 1.8; 500 epochs instead of the authors' 2,000),
    /// then from every 10th epoch's checkpoint a bad minimum (fits the training set and 134
    /// points with flipped labels; 100,000 full-batch steps of RMSprop at 0.002, divided by
    /// 10 at 70,000 and 85,000), and embeds the kernels of both with PCA (50) and t-SNE
    /// (perplexity 30). Example:
    ///
    ///   genviz minefield --out runs/minefield
    ///
    ///   genviz minefield --starts 20 --bad-steps 1000 --good-epochs 200     (quicker)
    ///
    /// Writes fig1_minefield.png, minefield.npz, run.json and good-model/.
    #[command(verbatim_doc_comment)]
    Minefield(commands::paper::MinefieldArgs),
    /// Reproduce Fig 8, the "sharp" problem: near points a hair outside the inner circle.
    ///
    /// Trains the authors' net (2 -> 9 x 100 ReLU -> 2, PyTorch init, 10,000 full-batch steps)
    /// three times: with the authors' Adam (lr 1e-3) on the thin-margin circles (gap 0.001),
    /// where it fits the near points with a ragged boundary; and with plain gradient descent
    /// (lr 0.1), the setting in which the paper's claim shows, on the same data (near points
    /// left misclassified) and with a wide gap (solved). Draws the three boundaries with the
    /// near points ringed. Examples:
    ///
    ///   genviz sharp --out runs/sharp
    ///
    ///   genviz sharp --steps 5000 --seed 1 --wide-gap 0.2
    ///
    ///   genviz sharp --optimizer adam --weight-decay 1e-3      (another setting that fails)
    ///
    /// Writes fig8_sharp.png, sharp.json, and authors/, sharp/ and wide/ (model.safetensors,
    /// data.npz, metrics.csv).
    #[command(verbatim_doc_comment)]
    Sharp(commands::paper::SharpArgs),
    /// Reproduce Fig 2: a neural net against a linear model on degree-2 polynomial features.
    ///
    /// On the same 2,000 Fashion-MNIST training images, trains the small CNN and a linear
    /// softmax classifier on the raw pixels plus every product of two pixels of the 14x14
    /// downsized image (20,090 standardised features); both fit the training set, and the
    /// figure shows how differently they do on the official test set. Examples:
    ///
    ///   genviz linear-vs-net --out runs/fig2
    ///
    ///   genviz linear-vs-net --n-train 500 --net-steps 200 --linear-steps 200      (quicker)
    ///
    /// Writes linear_vs_net.json, linear_vs_net.md, fig2_linear_vs_net.png and the run
    /// folders net/ and linear/; rerunning into the same --out resumes.
    #[command(verbatim_doc_comment)]
    LinearVsNet(commands::paper::LinearVsNetArgs),
    /// The paper's optimizer table (Table 1) at CPU scale: one net, eleven optimizers.
    ///
    /// Trains the same model on the same data from the same initialisation (and batch order)
    /// once per optimizer of the authors' optimizers/main.py, with its learning rate: SGD lr
    /// .01 momentum .9, SGD .05, Nesterov .01, Adam .01, Adadelta 5 (rho .5), Adagrad .025,
    /// Adamax .0005 (betas .9, .9), ASGD .1, RMSprop .0005 (alpha .72), AMSGrad .0005 (betas
    /// .9, .99) and LBFGS .9 (20 iterations a step, no line search); batch 128, the rate
    /// divided by 10 after 1/3 and 2/3 of the steps. Examples:
    ///
    ///   genviz optimizers --out runs/optimizers            (small CNN, 500 Fashion-MNIST, 150 epochs)
    ///
    ///   genviz optimizers --data swiss-roll --steps 4000 --out runs/optimizers-swissroll
    ///
    ///   genviz optimizers --only sgd,adam,lbfgs --steps 300
    ///
    /// Each optimizer trains into its own run folder (<out>/<name>/, as genviz train); a rerun
    /// into the same --out skips finished runs and resumes interrupted ones. Writes
    /// optimizers.md, optimizers.json (hyper-parameters, steps, gradient evaluations, final
    /// train/test accuracy and loss, seconds) and optimizers.png (train vs test accuracy).
    #[command(verbatim_doc_comment)]
    Optimizers(commands::paper::OptimizersArgs),
    /// Loss surface around a model along random or given directions (Li et al.).
    ///
    /// 1-D with --x only, 2-D with --x and --y. Examples:
    ///
    ///   genviz surface runs/train-swissroll-... --x -1:1:51 --y -1:1:51
    ///
    ///   genviz surface model.safetensors --data swiss-roll --x -1:1:101       (1-D)
    ///
    ///   genviz surface RUN --model2 OTHER --model3 THIRD --x -0.5:1.5:41 --y -0.5:1.5:41
    ///
    /// Writes surface.npz (xcoordinates, ycoordinates, train_loss, train_acc, test_loss,
    /// test_acc; -1 marks points not yet evaluated), directions.safetensors (x.<tensor>,
    /// y.<tensor>), figures, surface.vtp for ParaView, and run.json.
    #[command(verbatim_doc_comment)]
    Surface(Box<commands::landscape::SurfaceArgs>),
    /// Loss along the line between two models (0 is the first, 1 the second).
    Interpolate(commands::landscape::InterpolateArgs),
    /// Loss over the plane through three models (Garipov et al.).
    Plane(commands::landscape::PlaneArgs),
    /// PCA of a run's training path and the loss surface in that plane, path drawn on it.
    Trajectory(commands::landscape::TrajectoryArgs),
    /// Join the shards of a surface or of basin rays (`--shard k/n` runs) into one file.
    Merge(commands::landscape::MergeArgs),
    /// Basin radii along random rays from a minimum, and its log-volume with an interval.
    Basin(commands::curvature::BasinArgs),
    /// Curvature of a minimum: top eigenvalues, trace, spectral density, eigenvalue-ratio map.
    Hessian(commands::curvature::HessianArgs),
    /// A low-loss curve (Bezier or polychain) between two minima, against the straight line.
    Connect(Box<commands::curvature::ConnectArgs>),
    /// GIF animations: the decision boundary moving along a ray, or the training path.
    ///
    /// The authors' "wiggle" (SPEC 1.5): the parameters move along a symmetric ray theta + t d,
    /// t in [-span/2, span/2] with fifth-power spacing, and each frame shows the decision
    /// boundary at its t beside the loss, accuracy and curvature along the ray. pca-path draws
    /// the training path growing over the loss contours of its PCA plane. Examples:
    ///
    ///   genviz animate --model runs/paper/swissroll-poisoned --along random --out wiggle.gif
    ///
    ///   genviz animate --model RUN --along eigvec --span 0.2 --out eigvec.gif
    ///
    ///   genviz animate --model RUN --along pca-path --out path.gif
    ///
    /// Writes the GIF and a .json beside it with every number shown (losses along the ray,
    /// where the train loss crosses 1, ...).
    #[command(verbatim_doc_comment)]
    Animate(commands::animate::AnimateArgs),
    /// Generalization measures of trained models: sharpness, flatness, norms, basin, Hessian.
    ///
    /// Average- and worst-case sharpness (plain and adaptive; Andriushchenko et al. 2023),
    /// PAC-Bayes flatness, distance from initialisation, spectral product, path norm and
    /// Fisher-Rao norm (Jiang et al. 2019), the paper's basin radius and volume, the Hessian's
    /// top eigenvalue and trace, and the train/test performance with the generalization gap,
    /// for each model. Examples:
    ///
    ///   genviz measures runs/paper/swissroll-clean runs/paper/swissroll-poisoned
    ///
    ///   genviz measures RUN --measures sharpness --examples 256
    ///
    ///   genviz measures model.safetensors --data swiss-roll --init init.safetensors
    ///
    /// Writes measures.md (the table), measures.json, one <model>.measures.json per model (every
    /// value with its interval and cost; what a rerun resumes from) and run.json.
    #[command(verbatim_doc_comment)]
    Measures(commands::measures::MeasuresArgs),
    /// Train a grid of models, measure each, and ask which measures rank them by their gap.
    ///
    /// Axes (lr, batch_size, width, depth, weight_decay, beta, seed, steps) vary a base
    /// experiment; every setting trains into its own run folder and is measured; Kendall's
    /// tau and the granulated Kendall coefficient (per axis and overall) of each measure
    /// against the generalization gap go into sweep.md, sweep.json, one scatter plot per
    /// measure and report.html. Examples:
    ///
    ///   genviz sweep --out runs/sweep          (built in: 72 swiss-roll nets, about 3 min on 2 cores)
    ///
    ///   genviz sweep my-sweep.toml --out runs/my-sweep
    ///
    /// A sweep file:
    ///
    ///   preset = "swiss-roll"      # or fashion-mnist, or a [base] experiment table
    ///   steps = 5000
    ///   [[axes]]
    ///   name = "beta"
    ///   values = [0.0, 0.5]
    ///   [[axes]]
    ///   name = "seed"
    ///   values = [1, 2, 3]
    ///
    /// A rerun into the same --out reuses finished runs and measures.
    #[command(verbatim_doc_comment)]
    Sweep(commands::measures::SweepArgs),
    /// Measure speed; prints one JSON object.
    Bench(commands::bench::BenchArgs),
    /// Real image data: `genviz data fetch mnist|fashion-mnist|cifar10 [--dir DIR]`.
    Data(commands::data::DataArgs),
}

impl Command {
    /// The subcommand's name.
    fn name(&self) -> &'static str {
        match self {
            Command::Train(_) => "train",
            Command::Rerun(_) => "rerun",
            Command::Report(_) => "report",
            Command::Eval(_) => "eval",
            Command::Export(_) => "export",
            Command::Paper(_) => "paper",
            Command::Minefield(_) => "minefield",
            Command::Sharp(_) => "sharp",
            Command::LinearVsNet(_) => "linear-vs-net",
            Command::Optimizers(_) => "optimizers",
            Command::Surface(_) => "surface",
            Command::Interpolate(_) => "interpolate",
            Command::Plane(_) => "plane",
            Command::Trajectory(_) => "trajectory",
            Command::Merge(_) => "merge",
            Command::Basin(_) => "basin",
            Command::Hessian(_) => "hessian",
            Command::Connect(_) => "connect",
            Command::Animate(_) => "animate",
            Command::Measures(_) => "measures",
            Command::Sweep(_) => "sweep",
            Command::Bench(_) => "bench",
            Command::Data(_) => "data",
        }
    }

    /// Whether the command's work splits over MPI ranks (grid-like jobs); the others refuse
    /// to run on more than one.
    fn splits_over_ranks(&self) -> bool {
        matches!(
            self,
            Command::Surface(_)
                | Command::Interpolate(_)
                | Command::Plane(_)
                | Command::Trajectory(_)
                | Command::Basin(_)
                | Command::Hessian(_)
        )
    }

    fn run(self) -> anyhow::Result<()> {
        let p = progress::Terminal::new();
        match self {
            Command::Train(args) => commands::train::run(*args, &p),
            Command::Rerun(args) => commands::rerun::run(args, &p),
            Command::Report(args) => commands::report::run(args),
            Command::Eval(args) => commands::eval::run(args),
            Command::Export(args) => commands::export::run(args),
            Command::Paper(args) => commands::paper::paper(*args, &p),
            Command::Minefield(args) => commands::paper::minefield(args, &p),
            Command::Sharp(args) => commands::paper::sharp(args, &p),
            Command::LinearVsNet(args) => commands::paper::linear_vs_net(args, &p),
            Command::Optimizers(args) => commands::paper::optimizers(args, &p),
            Command::Surface(args) => commands::landscape::surface(*args, &p),
            Command::Interpolate(args) => commands::landscape::interpolate(args, &p),
            Command::Plane(args) => commands::landscape::plane(args, &p),
            Command::Trajectory(args) => commands::landscape::trajectory(args, &p),
            Command::Merge(args) => commands::landscape::merge(args),
            Command::Basin(args) => commands::curvature::basin(args, &p),
            Command::Hessian(args) => commands::curvature::hessian(args, &p),
            Command::Connect(args) => commands::curvature::connect(*args, &p),
            Command::Animate(args) => commands::animate::run(args),
            Command::Measures(args) => commands::measures::measures(args, &p),
            Command::Sweep(args) => commands::measures::sweep(args, &p),
            Command::Bench(args) => commands::bench::run(args),
            Command::Data(args) => commands::data::run(args),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    genviz_experiments::record::set_invocation(
        std::iter::once("genviz".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
    );
    // Everything runs inside the thread pool (RAYON_NUM_THREADS threads, default one per
    // core): parallel loops then split work with the other workers instead of parking the
    // main thread and waking it per call, which costs more than a small training step.
    let result = (if cli.command.splits_over_ranks() {
        Ok(())
    } else {
        genviz_experiments::ranks::single_process(cli.command.name())
    })
    .and_then(|()| {
        rayon::ThreadPoolBuilder::new()
            .build()
            .map_err(anyhow::Error::from)
    })
    .and_then(|pool| pool.install(|| cli.command.run()));
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
