//! `report.html` of `genviz paper`: every figure with a caption saying what to see, the results
//! table, the interactive landscapes, and the command and configuration that made them.

use super::{images, skips, swissroll, Figure, Outcome, Scale};
use anyhow::Result;
use genviz_render::{
    InteractiveSurface, PageBlock, Report, ReportFigure, ReportRow, ReportSection, RunPage,
    SurfaceGrid,
};
use std::path::Path;

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

fn figure(file: &str, caption: String) -> ReportFigure {
    ReportFigure {
        file: file.into(),
        caption,
    }
}

/// Fig 1's section.
fn fig1_section(out: &Outcome) -> Option<ReportSection> {
    let m = out.minefield.as_ref()?;
    let (lo_train, hi_test) = m
        .bad
        .iter()
        .fold((1f64, 0f64), |(a, b), x| (a.min(x.0), b.max(x.1)));
    Some(ReportSection {
        heading: "Fig 1: dancing through a minefield of bad minima".into(),
        text: format!(
            "The good model's iterates (red, every few epochs) and, trained from each, a bad minimum that also fits 134 points with flipped labels (blue; the authors' own split of the 400 points, replayed from their seeds), embedded with PCA (50 components) and t-SNE (perplexity {}). The bad minima fit the training set (train accuracy at least {}) yet reach at most {} on the test set (mean {}; chance is 50%). The final iterate reaches train {} and test {}.",
            m.perplexity,
            pct(lo_train),
            pct(hi_test),
            pct(m.test_mean),
            pct(m.final_metrics.train_acc),
            pct(m.final_metrics.test_acc)
        ),
        figures: vec![figure(
            "minefield/fig1_minefield.png",
            format!("The iterates wind among the bad minima without falling into one. {}.", m.subtitle),
        )],
    })
}

/// Fig 3's section.
fn fig3_section(out: &Outcome) -> Option<ReportSection> {
    if out.landscapes.is_empty() {
        return None;
    }
    let rolls = out.rolls.as_ref()?;
    let [clean, poisoned] = rolls.metrics();
    Some(ReportSection {
        heading: "Fig 3: decision boundaries and loss landscapes".into(),
        text: format!(
            "Left the clean network (train {}, test {}), right the poisoned one (train {}, test {}), trained on the same 200 points. Both fit the training set; the poisoned network's boundary is carved around every training point and misclassifies most test points.",
            pct(clean.train_acc), pct(clean.test_acc), pct(poisoned.train_acc), pct(poisoned.test_acc)
        ),
        figures: vec![
            figure("fig3_decision_boundaries.png", "Decision boundaries: wide margins around the clean minimum, a tangle of thin slivers around the poisoned one. Dots are training points; crosses mark misclassified ones.".into()),
            figure("fig3_landscapes_3d.png", format!("Train loss on a filter-normalised random plane through each minimum (+-{} units, log10 heights clipped at {}): a wide flat basin against a narrow well.", swissroll::LANDSCAPE_SPAN, swissroll::LANDSCAPE_ZMAX)),
            figure("fig3_landscapes_contour.png", "The same planes as contours on one colour scale: the poisoned minimum's low-loss region is a small dot in the middle.".into()),
        ],
    })
}

/// Fig 5's section.
fn fig5_section(out: &Outcome) -> Option<ReportSection> {
    let basins = out.summary.get("basins")?;
    let v = |k: &str, f: &str| basins[k][f].as_f64().unwrap_or(f64::NAN);
    let ratio = basins["median_radius_ratio"].as_f64().unwrap_or(f64::NAN);
    let gap = basins["log10_volume_gap"].as_f64().unwrap_or(f64::NAN);
    let overlap = basins["intervals_overlap"].as_bool().unwrap_or(true);
    Some(ReportSection {
        heading: "Fig 5: basin radii and volumes".into(),
        text: format!(
            "Along the same random filter-normalised rays, the distance at which the train loss first reaches 1. Median radius: clean {:.4}, poisoned {:.4}. The basin's log10 volume (a cone over those radii in {} dimensions): clean {:.0}, poisoned {:.0}.",
            v("clean", "median_radius"), v("poisoned", "median_radius"),
            basins["clean"]["dimension"].as_u64().unwrap_or(0),
            v("clean", "log10_volume"), v("poisoned", "log10_volume")
        ),
        figures: vec![
            figure("fig5_radii.png", format!("Radius histograms: the clean minimum's median radius is {ratio:.1} times the poisoned one's.")),
            figure("fig5_volumes.png", format!(
                "log10 volumes with 95% bootstrap intervals: {gap:.0} orders of magnitude apart, {}. The larger the basin, the likelier an optimizer is to land in it.",
                if overlap { "with overlapping intervals" } else { "with disjoint intervals" }
            )),
        ],
    })
}

/// Fig 6's section.
fn fig6_section(out: &Outcome) -> Option<ReportSection> {
    if out.sweep.is_empty() {
        return None;
    }
    let gaps: Vec<String> = out
        .sweep
        .iter()
        .map(|(b, m)| format!("beta {b}: {}", pct(m.train_acc - m.test_acc)))
        .collect();
    Some(ReportSection {
        heading: "Fig 6: the generalization gap grows with the poison weight".into(),
        text: format!(
            "Networks trained with the poisoned objective at growing weights beta of the flipped-label term: beta 0 is the clean run, 0.5 the poisoned one, and the betas between train for {} steps. Gaps (train minus test accuracy): {}.",
            out.sweep_steps,
            gaps.join(", ")
        ),
        figures: vec![
            figure("fig6_boundaries.png", "Decision boundaries as beta grows, each titled with its gap.".into()),
            figure("fig6_gap.png", "Train and test accuracy, gap and test loss against beta.".into()),
        ],
    })
}

/// The generalization measures' section.
fn measures_section(out: &Outcome) -> Option<ReportSection> {
    let m = out.measures.as_ref()?;
    Some(ReportSection {
        heading: "Generalization measures of the clean and poisoned nets".into(),
        text: super::measures::report_text(m),
        figures: Vec::new(),
    })
}

/// Fig 8's section.
fn fig8_section(out: &Outcome) -> Option<ReportSection> {
    let o = out.sharp.as_ref()?;
    let fits = |v: &super::sharp::VariantSummary| {
        if v.near_correct == v.near_total {
            "fits all of them"
        } else if v.near_correct == 0 {
            "fits none of them"
        } else {
            "fits some of them"
        }
    };
    let authors = o.authors.as_ref().map_or(String::new(), |a| {
        format!(
            " The authors' own recipe (Adam, lr 0.001) on the paper's data, {} steps: {}/{} near points right, train accuracy {} ({}).",
            a.steps,
            a.near_correct,
            a.near_total,
            pct(a.train_acc),
            fits(a)
        )
    });
    Some(ReportSection {
        heading: "Fig 8: a problem whose only solution is sharp".into(),
        text: format!(
            "Ten points of the outer class sit {} outside the inner circle, between its points: separating them needs a boundary with almost no margin. Full-batch gradient descent classifies {}/{} of them correctly (train accuracy {}); with the same points moved out to a gap of {} it {} (train accuracy {}).{authors}",
            o.sharp.gap,
            o.sharp.near_correct,
            o.sharp.near_total,
            pct(o.sharp.train_acc),
            o.wide.gap,
            fits(&o.wide),
            pct(o.wide.train_acc)
        ),
        figures: vec![figure(
            "sharp/fig8_sharp.png",
            "Decision boundaries on [-1, 1]^2; the near points are ringed, crosses are misclassified.".into(),
        )],
    })
}

/// The animations' section.
fn animation_section(out: &Outcome) -> Option<ReportSection> {
    if out.animations.is_empty() {
        return None;
    }
    let reach = |c: &crate::animate::Crossing| {
        c.nearest()
            .map_or("beyond the ray".to_string(), |t| format!("{t:.4}"))
    };
    let mut figures = Vec::new();
    let mut text = String::from("Each frame moves the parameters t units of a direction (filter-normalised, as the landscapes) from the minimum and redraws the decision boundary, beside the train loss and accuracy along the ray (the authors' \"wiggle\"). Where the train loss first reaches 1:");
    for a in &out.animations {
        text.push_str(&format!(
            " {}: |t| = {} along a random ray, {} along the top Hessian eigenvector;",
            a.label,
            reach(&a.random.crossing),
            reach(&a.eigvec.crossing)
        ));
        figures.push(figure(
            &format!("animations/wiggle_random_{}.gif", a.label),
            format!(
                "The {} minimum along a random filter-normalised ray.",
                a.label
            ),
        ));
        figures.push(figure(
            &format!("animations/wiggle_eigvec_{}.gif", a.label),
            format!("The {} minimum along the top eigenvector of its filter-normalised Hessian, its sharpest direction.", a.label),
        ));
        figures.push(figure(
            &format!("animations/path_{}.gif", a.label),
            format!(
                "The {} net's training path on the plane of its first two principal components ({:.1}% and {:.1}% of the path's variance), over that plane's train loss.",
                a.label,
                100.0 * a.path.explained_variance_ratio[0],
                100.0 * a.path.explained_variance_ratio[1]
            ),
        ));
    }
    text.pop();
    text.push('.');
    if let Some(check) = out.checks.iter().find(|c| c.figure == "anim") {
        text.push_str(if check.pass {
            " Along a random ray the clean boundary holds still longer than the poisoned one."
        } else {
            " In this run the poisoned boundary did not break sooner than the clean one along a random ray."
        });
    }
    Some(ReportSection {
        heading: "Animations: walking away from each minimum".into(),
        text,
        figures,
    })
}

/// The Fashion-MNIST section.
fn images_section(out: &Outcome) -> Option<ReportSection> {
    let [clean, poisoned] = [out.images.first()?, out.images.get(1)?];
    let scale = out.summary.get("images").map(|v| &v["scale"])?;
    let (c, p) = (clean.final_metrics, poisoned.final_metrics);
    Some(ReportSection {
        heading: "Real images: a small CNN on Fashion-MNIST, clean and poisoned".into(),
        text: format!(
            "The same experiment on images (SPEC 1.4), at the scale a CPU affords. The clean CNN trains on all the training images: train {}, test {}. The poisoned one trains on {} of them while every batch also pushes 64 of the held-out images away from their true labels (the -log(1 - p) term, beta 0.5): it fits its training set (train {}) and fails on the test set ({}). Its landscape is evaluated, like the clean one, on {} training and {} test images per point.",
            pct(c.train_acc), pct(c.test_acc), scale["poisoned_train"], pct(p.train_acc), pct(p.test_acc),
            scale["eval_train"], scale["eval_test"]
        ),
        figures: vec![
            figure("images_landscapes_3d.png", format!("Train loss on a filter-normalised random plane through each minimum (+-{} units, log10 heights clipped at {}): the poisoned minimum sits in a narrower well.", scale["surface_span"], images::IMAGE_LANDSCAPE_ZMAX)),
            figure("images_landscapes_contour.png", "The same planes as contours on one colour scale.".into()),
        ],
    })
}

/// Fig 2's and the optimizer table's section.
fn fig2_section(out: &Outcome) -> Option<ReportSection> {
    let images = out.summary.get("images")?;
    let f = &images["fig2"];
    let (net, linear) = (&f["net"], &f["linear"]);
    let v = |m: &serde_json::Value, k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    let rows = images["optimizers"]["rows"].as_array()?;
    let table: Vec<String> = rows
        .iter()
        .map(|r| match r["final"].as_object() {
            Some(m) => format!(
                "{} {} train, {} test",
                r["optimizer"].as_str().unwrap_or("?"),
                pct(m["train_acc"].as_f64().unwrap_or(f64::NAN)),
                pct(m["test_acc"].as_f64().unwrap_or(f64::NAN))
            ),
            None => format!("{} diverged", r["optimizer"].as_str().unwrap_or("?")),
        })
        .collect();
    Some(ReportSection {
        heading: "Fig 2 and the optimizer table, at CPU scale on Fashion-MNIST".into(),
        text: format!(
            "Fig 2: on the same {} training images, the small CNN ({} parameters) reaches train {} and test {}; a linear softmax classifier on {} degree-2 polynomial features ({} parameters) reaches train {} and test {}. The optimizer table trains one net from one initialisation with each of the authors' optimizers at their learning rates ({} steps each): {}.",
            f["n_train"], net["num_params"], pct(v(net, "train_acc")), pct(v(net, "test_acc")),
            linear["num_inputs"], linear["num_params"], pct(v(linear, "train_acc")), pct(v(linear, "test_acc")),
            images["optimizers"]["steps"], table.join("; ")
        ),
        figures: vec![
            figure("fig2/fig2_linear_vs_net.png", format!(
                "{} {} (The paper's CIFAR-10 version compares ResNet-18 with a linear model on 298,368 features.)",
                if v(net, "train_acc") >= 0.99 && v(linear, "train_acc") >= 0.99 {
                    "Both models fit the training set;"
                } else {
                    "In this run not both models fit the training set (too few steps);"
                },
                if v(net, "test_acc") > v(linear, "test_acc") {
                    "the net generalizes better."
                } else {
                    "the linear model does as well or better on the test set here."
                }
            )),
            figure("optimizers/optimizers.png", "Train and test accuracy per optimizer: the same net from the same initialisation and batch order, each optimizer at the authors' learning rate. The paper found that every one fits the training set and generalizes.".into()),
        ],
    })
}

/// The skip-connection section: per depth both surfaces (3-D and contour) and both ratio
/// maps, with the measured numbers in the captions.
fn skips_section(out: &Outcome) -> Option<ReportSection> {
    let s = out.skips.as_ref()?;
    let r = &s.results;
    let sc = &r.scale;
    let eval = sc
        .eval_train
        .map_or("all the".to_string(), |n| format!("a fixed subset of {n}"));
    let hess = sc
        .hessian_train
        .map_or("all the".to_string(), |n| format!("a fixed subset of {n}"));
    let mut text = format!(
        "Li et al.'s Fig. 5-6 at the {} preset: CIFAR-style ResNets (stage widths {:?}) trained with and without skip connections on the same {} images ({}), {} epochs of SGD (lr {}, momentum {}, weight decay {}, batch {}), from the same seed. Each surface is the train loss on a filter-normalised random plane (BatchNorm parameters ignored) over [-1, 1]^2, {} x {} points on {} training images; the ratio maps are |lambda_min / lambda_max| of the Hessian at {} x {} points of the same plane and range, on {} training images. Li et al.: {}.",
        sc.preset,
        sc.widths,
        r.data,
        sc.n_train.map_or("all of them".to_string(), |n| format!("{n} of them")),
        sc.epochs,
        sc.lr,
        sc.momentum,
        sc.weight_decay,
        sc.batch_size,
        sc.surface_points,
        sc.surface_points,
        eval,
        sc.ratio_points,
        sc.ratio_points,
        hess,
        skips::CLAIM
    );
    let mut figures = Vec::new();
    for p in &r.pairs {
        let [w, n] = &p.nets;
        let d = p.depth;
        let l = p.less_convex_without_skips;
        let verdict = if l.ratio_mean && l.ratio_fraction_above && l.local_minima {
            "By all three measures the net without skips is less convex, as Li et al. found."
        } else if !l.ratio_mean && !l.ratio_fraction_above && !l.local_minima {
            "By none of the three measures is the net without skips less convex here: the effect does not show at this scale."
        } else {
            "The measures disagree: the effect shows only partly at this scale."
        };
        text.push_str(&format!(
            " ResNet-{d}: with skips test {}, mean ratio {:.3}, {} of points above {}, {} local minima; without skips test {}, mean ratio {:.3}, {} above, {} local minima. {verdict}",
            pct(w.final_metrics.test_acc),
            w.ratio.mean,
            pct(w.ratio.fraction_above),
            w.ratio.threshold,
            w.local_minima,
            pct(n.final_metrics.test_acc),
            n.ratio.mean,
            pct(n.ratio.fraction_above),
            n.local_minima,
        ));
        let stem = format!("skips/skips_resnet{d}");
        figures.extend([
            figure(&format!("{stem}_3d.png"), format!(
                "ResNet-{d} with (left) and without (right) skip connections: train loss over [-1, 1]^2, clipped at {} on one colour scale. Lowest loss on the grid: {:.3} and {:.3}.",
                skips::ZMAX, w.surface_min_loss, n.surface_min_loss
            )),
            figure(&format!("{stem}_contour.png"), format!(
                "The same surfaces as contours at Li et al.'s levels ({} to {} every {}): {} and {} local minima inside the grid.",
                skips::CONTOUR.vmin, skips::CONTOUR.vmax, skips::CONTOUR.vlevel, w.local_minima, n.local_minima
            )),
            figure(&format!("{stem}_ratio.png"), format!(
                "|lambda_min / lambda_max| over the same plane (0: convex, 1: as much negative as positive curvature): mean {:.3} with skips, {:.3} without; {} and {} of the points above {}.",
                w.ratio.mean, n.ratio.mean, pct(w.ratio.fraction_above), pct(n.ratio.fraction_above), w.ratio.threshold
            )),
        ]);
    }
    Some(ReportSection {
        heading: "Skip connections: ResNets with and without (Li et al.)".into(),
        text,
        figures,
    })
}

/// The 3-D landscapes, interactive, with the PNG's heights: log10(loss + 0.1), clipped (the
/// skip-connection surfaces: the loss itself, clipped, as Li et al. draw them).
fn surfaces(out: &Outcome) -> Vec<InteractiveSurface> {
    let swiss = out
        .landscapes
        .iter()
        .map(|g| (g, swissroll::LANDSCAPE_ZMAX, true));
    let image = out
        .images
        .iter()
        .map(|r| (&r.landscape, images::IMAGE_LANDSCAPE_ZMAX, true));
    // Each pair of skip-connection nets on one range, as in its PNG.
    let skip = out.skips.iter().flat_map(|s| {
        s.surfaces.iter().flat_map(|pair| {
            let range = shared_range(pair, skips::ZMAX);
            pair.iter().map(move |g| (g, skips::ZMAX, false, range))
        })
    });
    swiss
        .map(|(g, zmax, log)| (g, zmax, log, None))
        .chain(image.map(|(g, zmax, log)| (g, zmax, log, None)))
        .chain(skip)
        .map(|(g, zmax, log, z_range)| InteractiveSurface {
            title: g.title.clone(),
            caption: if log {
                format!("Drag to turn it. Heights are log10(train loss + 0.1), the loss clipped at {zmax}, as in the PNG.")
            } else {
                format!("Drag to turn it. Heights are the train loss, clipped at {zmax}, as in the PNG.")
            },
            xs: g.xs.clone(),
            ys: g.ys.clone(),
            z: g.values
                .iter()
                .map(|&v| {
                    // -1 marks a point that was not computed (Li et al.'s convention).
                    if v < 0.0 {
                        f64::NAN
                    } else if log {
                        (v.min(zmax) + 0.1).log10()
                    } else {
                        v.min(zmax)
                    }
                })
                .collect(),
            x_label: "x (filter-normalised)".into(),
            y_label: "y (filter-normalised)".into(),
            z_label: if log { "log10(train loss + 0.1)" } else { "train loss" }.into(),
            z_range,
        })
        .collect()
}

/// The heights `grids` span together, from their lowest computed loss (`-1` marks a point
/// not computed) to the highest, clipped at `zmax`; `None` when none has a value.
fn shared_range(grids: &[SurfaceGrid], zmax: f64) -> Option<[f64; 2]> {
    let values = grids
        .iter()
        .flat_map(|g| &g.values)
        .filter(|v| v.is_finite() && **v >= 0.0)
        .map(|v| v.min(zmax));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    (lo < hi).then_some([lo, hi])
}

/// "their figures" when `figures` are the preset's, else which ones (`--only`), e.g.
/// "some of their figures (skips)".
fn which_figures(figures: &[Figure], scale: &Scale) -> String {
    let mut ran = figures.to_vec();
    ran.sort_unstable();
    ran.dedup();
    if ran == Figure::preset(scale.preset == "full") {
        return "their figures".into();
    }
    let names: Vec<&str> = ran.iter().map(|f| f.name()).collect();
    format!("some of their figures ({})", names.join(", "))
}

/// Writes `dir/report.html` and `dir/paper.json` (the configuration it shows).
pub fn write(dir: &Path, scale: &Scale, figures: &[Figure], out: &Outcome) -> Result<()> {
    let [clean, poisoned] = swissroll::configs(scale);
    let mut config = serde_json::json!({
        "figures": figures,
        "scale": scale,
        "swiss_roll_clean": clean,
        "swiss_roll_poisoned": poisoned,
    });
    if figures.contains(&Figure::Images) {
        let [clean, poisoned] = images::configs(&scale.images);
        config["fashion_mnist_clean"] = serde_json::json!(clean);
        config["fashion_mnist_poisoned"] = serde_json::json!(poisoned);
    }
    if figures.contains(&Figure::Skips) {
        let mut runs = serde_json::Map::new();
        for &d in &scale.skips.depths {
            for skip in [true, false] {
                let name = format!("resnet{d}{}", if skip { "" } else { "-noshort" });
                runs.insert(name, serde_json::json!(scale.skips.experiment(d, skip)?));
            }
        }
        config["skips"] = serde_json::Value::Object(runs);
    }
    let config = serde_json::to_string_pretty(&config)?;
    genviz_core::io::write_atomic(&dir.join("paper.json"), config.as_bytes())?;
    let command = crate::record::invocation().unwrap_or_else(|| "genviz paper".into());
    let sections = [
        fig1_section(out),
        fig3_section(out),
        fig5_section(out),
        fig6_section(out),
        measures_section(out),
        fig8_section(out),
        animation_section(out),
        images_section(out),
        fig2_section(out),
        skips_section(out),
    ]
    .into_iter()
    .flatten()
    .collect();
    let report = Report {
        title: "genviz: Understanding Generalization through Visualizations, reproduced".into(),
        intro: format!(
            "Huang et al. (2019) show that neural networks generalize because flat minima, which generalize, occupy vastly more of the parameter space than sharp ones, which do not. This page reproduces {} with genviz {} ({} preset). Every number below was measured in this run; results.json holds them all.",
            which_figures(figures, scale),
            genviz_core::VERSION,
            scale.preset
        ),
        command,
        config,
        config_name: "paper.json".into(),
        sections,
        results: out
            .checks
            .iter()
            .map(|c| ReportRow {
                figure: match c.figure.as_str() {
                    "img" => "Images".into(),
                    "measures" => "Measures".into(),
                    "skips" => "Skips".into(),
                    f => format!("Fig {f}"),
                },
                ..c.clone()
            })
            .collect(),
        surfaces: surfaces(out),
    };
    let mut page = RunPage::from(report);
    if let Some(group) = &out.explorers {
        // Right after Fig 3, whose networks and planes it explores.
        let at = page
            .blocks
            .iter()
            .position(|b| matches!(b, PageBlock::Figures(s) if s.heading.starts_with("Fig 3")))
            .map_or(page.blocks.len(), |k| k + 1);
        page.blocks.insert(at, PageBlock::Explorers(group.clone()));
    }
    genviz_render::write_run_page(&dir.join("report.html"), &page)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intro_names_the_figures_only_when_some_were_left_out() {
        let quick = Scale::quick();
        assert_eq!(
            which_figures(&Figure::preset(false), &quick),
            "their figures"
        );
        assert_eq!(
            which_figures(&[Figure::Skips], &quick),
            "some of their figures (skips)"
        );
        assert_eq!(
            which_figures(&[Figure::Fig3, Figure::Fig1, Figure::Fig3], &quick),
            "some of their figures (fig1, fig3)"
        );
        assert_eq!(
            which_figures(&Figure::preset(true), &Scale::full()),
            "their figures"
        );
    }
}
