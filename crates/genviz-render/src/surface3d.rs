//! Shaded 3-D loss surfaces (Fig. 3c/d of Huang et al. 2019, Fig. 1 of Li et al. 2018),
//! rasterised here: Gouraud-shaded triangles with a z-buffer, coloured by height and lit with
//! a Lambertian term from the surface normal.

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::colormap::{Scale, COOLWARM};
use crate::landscape::{draw_colorbar, draw_title, some_panels, validate_grid, BAR_W, TITLE_H};
use crate::output::{write_png, Area, DrawResult};
use crate::style::font;
use crate::SurfaceGrid;

/// Size of one panel, in pixels.
const PANEL_W: u32 = 640;
const PANEL_H: u32 = 580;
/// Supersampling factor per axis (anti-aliasing).
const SS: usize = 2;
/// Viewing angles, in degrees.
const ELEVATION: f64 = 30.0;
const AZIMUTH: f64 = 45.0;
/// Height of the box relative to its half-width (matplotlib's 4:4:3 box).
const BOX_H: f64 = 1.5;
/// Light: ambient part and diffuse part.
const AMBIENT: f64 = 0.38;
const DIFFUSE: f64 = 0.62;

pub(crate) fn draw(path: &Path, panels: &[(SurfaceGrid, f64)]) -> Result<()> {
    some_panels(path, "surface", panels)?;
    for (i, (g, zmax)) in panels.iter().enumerate() {
        validate_grid(path, i, g)?;
        if !zmax.is_finite() {
            return Err(Error::invalid(format!(
                "{}: panel {i} ({:?}): zmax must be finite, got {zmax}",
                path.display(),
                g.title
            )));
        }
    }
    let n = panels.len() as u32;
    let range = shared_range(panels);
    write_png(path, (PANEL_W * n, PANEL_H), |root| {
        root.fill(&WHITE)?;
        for (area, (g, zmax)) in root.split_evenly((1, panels.len())).iter().zip(panels) {
            panel(area, g, *zmax, range)?;
        }
        Ok(())
    })
}

/// The camera: orthographic, looking from `ELEVATION` above the horizon at `AZIMUTH`.
struct Camera {
    /// Screen right, screen up and towards-the-viewer directions, in world coordinates.
    right: [f64; 3],
    up: [f64; 3],
    toward: [f64; 3],
}

impl Camera {
    fn new() -> Self {
        let (el, az) = (ELEVATION.to_radians(), AZIMUTH.to_radians());
        Camera {
            right: [-az.sin(), az.cos(), 0.0],
            up: [-el.sin() * az.cos(), -el.sin() * az.sin(), el.cos()],
            toward: [el.cos() * az.cos(), el.cos() * az.sin(), el.sin()],
        }
    }

    /// (screen x, screen y upwards, depth towards the viewer).
    fn project(&self, p: [f64; 3]) -> [f64; 3] {
        [dot(self.right, p), dot(self.up, p), dot(self.toward, p)]
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn normalize(a: [f64; 3]) -> [f64; 3] {
    let n = dot(a, a).sqrt();
    if n > 0.0 {
        a.map(|c| c / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

/// An RGB raster with a depth buffer, `SS` times the panel's resolution.
struct Raster {
    w: usize,
    h: usize,
    rgb: Vec<[f32; 3]>,
    depth: Vec<f32>,
}

/// A projected vertex: pixel position, depth, colour.
#[derive(Clone, Copy)]
struct Vert {
    x: f64,
    y: f64,
    z: f64,
    c: [f64; 3],
}

impl Raster {
    fn new(w: usize, h: usize) -> Self {
        Raster {
            w,
            h,
            rgb: vec![[255.0; 3]; w * h],
            depth: vec![f32::NEG_INFINITY; w * h],
        }
    }

    /// Fills a triangle, interpolating depth and colour, where it is nearer than what is
    /// there (`strict`: only strictly nearer, so earlier surfaces win ties).
    fn triangle(&mut self, v: [Vert; 3], strict: bool) {
        let area = (v[1].x - v[0].x) * (v[2].y - v[0].y) - (v[2].x - v[0].x) * (v[1].y - v[0].y);
        if area.abs() < 1e-12 {
            return;
        }
        // The pixel rows and columns the triangle's bounding box covers.
        let span = |coord: fn(&Vert) -> f64| {
            let lo = v.iter().map(coord).fold(f64::INFINITY, f64::min);
            let hi = v.iter().map(coord).fold(f64::NEG_INFINITY, f64::max);
            (lo.floor().max(0.0) as usize, hi.ceil())
        };
        let ((min_x, max_x), (min_y, max_y)) = (span(|p| p.x), span(|p| p.y));
        if max_x < 0.0 || max_y < 0.0 {
            return;
        }
        let max_x = (max_x as usize).min(self.w.saturating_sub(1));
        let max_y = (max_y as usize).min(self.h.saturating_sub(1));
        for py in min_y..=max_y {
            let y = py as f64 + 0.5;
            for px in min_x..=max_x {
                let x = px as f64 + 0.5;
                // Barycentric weights; a tiny tolerance closes hairline cracks between cells.
                let w0 = ((v[1].x - x) * (v[2].y - y) - (v[2].x - x) * (v[1].y - y)) / area;
                let w1 = ((v[2].x - x) * (v[0].y - y) - (v[0].x - x) * (v[2].y - y)) / area;
                let w2 = 1.0 - w0 - w1;
                const EPS: f64 = -1e-6;
                if w0 < EPS || w1 < EPS || w2 < EPS {
                    continue;
                }
                let z = (w0 * v[0].z + w1 * v[1].z + w2 * v[2].z) as f32;
                let k = py * self.w + px;
                let nearer = if strict {
                    z > self.depth[k] + 1e-4
                } else {
                    z >= self.depth[k]
                };
                if nearer {
                    self.depth[k] = z;
                    self.rgb[k] = [0, 1, 2]
                        .map(|c| (w0 * v[0].c[c] + w1 * v[1].c[c] + w2 * v[2].c[c]) as f32);
                }
            }
        }
    }
}

/// The heights every panel's box and colour bar span, so that side-by-side landscapes compare
/// at a glance: from the lowest value of any panel to the highest one below its `zmax` (a
/// flat surface gets a box of height 1). `None` when no panel has a finite value.
fn shared_range(panels: &[(SurfaceGrid, f64)]) -> Option<(f64, f64)> {
    let clipped = || {
        panels.iter().flat_map(|(g, zmax)| {
            g.values
                .iter()
                .filter(|v| v.is_finite())
                .map(move |v| v.min(*zmax))
        })
    };
    let lo = clipped().fold(f64::INFINITY, f64::min);
    let hi = clipped().fold(f64::NEG_INFINITY, f64::max);
    lo.is_finite()
        .then_some((lo, if hi > lo { hi } else { lo + 1.0 }))
}

/// One panel: title, the rendered surface, a colour bar spanning `range`
/// ([`shared_range`]).
fn panel(area: &Area, g: &SurfaceGrid, zmax: f64, range: Option<(f64, f64)>) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (title_area, rest) = area.split_vertically(TITLE_H);
    draw_title(&title_area, &g.title)?;
    let (view, bar_area) = rest.split_horizontally(w - BAR_W);
    let (vw, vh) = view.dim_in_pixel();
    let _ = h;

    let has_data = g.values.iter().any(|v| v.is_finite());
    let Some((zmin, ztop)) = range.filter(|_| has_data) else {
        let style = font(18.0)
            .color(&RGBColor(120, 120, 120))
            .pos(Pos::new(HPos::Center, VPos::Center));
        view.draw_text("no data", &style, (vw as i32 / 2, vh as i32 / 2))?;
        return Ok(());
    };
    let scale = Scale {
        lo: zmin,
        hi: ztop,
        log: false,
    };

    let (nx, ny) = (g.xs.len(), g.ys.len());
    let (x0, x1) = (g.xs[0], g.xs[nx - 1]);
    let (y0, y1) = (g.ys[0], g.ys[ny - 1]);
    // World coordinates: x, y in [-1, 1], height in [0, BOX_H].
    let wx: Vec<f64> =
        g.xs.iter()
            .map(|x| 2.0 * (x - x0) / (x1 - x0) - 1.0)
            .collect();
    let wy: Vec<f64> =
        g.ys.iter()
            .map(|y| 2.0 * (y - y0) / (y1 - y0) - 1.0)
            .collect();
    let wz: Vec<f64> = g
        .values
        .iter()
        .map(|&v| {
            if v.is_finite() {
                BOX_H * scale.t(v.min(zmax))
            } else {
                f64::NAN
            }
        })
        .collect();
    let at = |ix: usize, iy: usize| wz[iy * nx + ix];

    let cam = Camera::new();
    // Light from the viewer's upper left.
    let light = normalize([
        cam.toward[0] * 0.6 + cam.up[0] * 0.9 - cam.right[0] * 0.5,
        cam.toward[1] * 0.6 + cam.up[1] * 0.9 - cam.right[1] * 0.5,
        cam.toward[2] * 0.6 + cam.up[2] * 0.9 - cam.right[2] * 0.5,
    ]);

    // Fit the box's corners into the view, leaving room for the axis labels.
    let mut corners = Vec::new();
    for &cx in &[-1.0, 1.0] {
        for &cy in &[-1.0, 1.0] {
            for &cz in &[0.0, BOX_H] {
                corners.push(cam.project([cx, cy, cz]));
            }
        }
    }
    let (sx0, sx1) = min_max(corners.iter().map(|c| c[0]));
    let (sy0, sy1) = min_max(corners.iter().map(|c| c[1]));
    let margin = 34.0;
    let (rw, rh) = (vw as usize * SS, vh as usize * SS);
    let s = ((vw as f64 - 2.0 * margin) / (sx1 - sx0))
        .min((vh as f64 - 2.0 * margin) / (sy1 - sy0))
        * SS as f64;
    let ox = rw as f64 / 2.0 - s * (sx0 + sx1) / 2.0;
    let oy = rh as f64 / 2.0 + s * (sy0 + sy1) / 2.0;
    let to_px = |p: [f64; 3]| -> (f64, f64, f64) {
        let q = cam.project(p);
        (ox + s * q[0], oy - s * q[1], q[2])
    };

    let mut raster = Raster::new(rw, rh);
    // Vertex normals from central differences of the world heights.
    let normal = |ix: usize, iy: usize| -> [f64; 3] {
        let slope = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
            (Some((za, ca)), Some((zb, cb))) if za.is_finite() && zb.is_finite() => {
                (zb - za) / (cb - ca)
            }
            _ => 0.0,
        };
        let c = (at(ix, iy), 0.0);
        let h = |ok: bool, z: f64, c: f64| {
            if ok && z.is_finite() {
                Some((z, c))
            } else {
                None
            }
        };
        let l = h(
            ix > 0,
            if ix > 0 { at(ix - 1, iy) } else { 0.0 },
            if ix > 0 { wx[ix - 1] } else { 0.0 },
        );
        let r = h(
            ix + 1 < nx,
            if ix + 1 < nx { at(ix + 1, iy) } else { 0.0 },
            if ix + 1 < nx { wx[ix + 1] } else { 0.0 },
        );
        let d = h(
            iy > 0,
            if iy > 0 { at(ix, iy - 1) } else { 0.0 },
            if iy > 0 { wy[iy - 1] } else { 0.0 },
        );
        let u = h(
            iy + 1 < ny,
            if iy + 1 < ny { at(ix, iy + 1) } else { 0.0 },
            if iy + 1 < ny { wy[iy + 1] } else { 0.0 },
        );
        // Central differences inside the grid, one-sided at its edges and beside gaps.
        let derivative = |before, here, after| match (before, after) {
            (Some(_), Some(_)) => slope(before, after),
            (None, Some(_)) => slope(here, after),
            _ => slope(before, here),
        };
        let dzdx = derivative(l, Some((c.0, wx[ix])), r);
        let dzdy = derivative(d, Some((c.0, wy[iy])), u);
        normalize([-dzdx, -dzdy, 1.0])
    };
    let vert = |ix: usize, iy: usize| -> Vert {
        let z = at(ix, iy);
        let (px, py, depth) = to_px([wx[ix], wy[iy], z]);
        let base = COOLWARM.at(z / BOX_H);
        let lambert = dot(normal(ix, iy), light).max(0.0);
        let shade = AMBIENT + DIFFUSE * lambert;
        Vert {
            x: px,
            y: py,
            z: depth,
            c: base.map(|c| (c * shade).min(255.0)),
        }
    };
    let verts: Vec<Option<Vert>> = (0..ny)
        .flat_map(|iy| (0..nx).map(move |ix| (ix, iy)))
        .map(|(ix, iy)| at(ix, iy).is_finite().then(|| vert(ix, iy)))
        .collect();
    for iy in 0..ny - 1 {
        for ix in 0..nx - 1 {
            let q = [
                verts[iy * nx + ix],
                verts[iy * nx + ix + 1],
                verts[(iy + 1) * nx + ix + 1],
                verts[(iy + 1) * nx + ix],
            ];
            if let [Some(a), Some(b), Some(c), Some(d)] = q {
                raster.triangle([a, b, c], false);
                raster.triangle([a, c, d], false);
            }
        }
    }

    // The box: a floor and the two back walls, faint, behind the surface.
    let floor_c = [236.0, 236.0, 236.0];
    let wall_c = [246.0, 246.0, 246.0];
    let plane = |raster: &mut Raster, p: [[f64; 3]; 4], c: [f64; 3]| {
        let v = p.map(|p| {
            let (x, y, z) = to_px(p);
            Vert { x, y, z, c }
        });
        raster.triangle([v[0], v[1], v[2]], true);
        raster.triangle([v[0], v[2], v[3]], true);
    };
    let (bx, by) = back_corner(&cam);
    let below = -0.002;
    plane(
        &mut raster,
        [
            [-1.0, -1.0, below],
            [1.0, -1.0, below],
            [1.0, 1.0, below],
            [-1.0, 1.0, below],
        ],
        floor_c,
    );
    plane(
        &mut raster,
        [
            [bx, -1.0, 0.0],
            [bx, 1.0, 0.0],
            [bx, 1.0, BOX_H],
            [bx, -1.0, BOX_H],
        ],
        wall_c,
    );
    plane(
        &mut raster,
        [
            [-1.0, by, 0.0],
            [1.0, by, 0.0],
            [1.0, by, BOX_H],
            [-1.0, by, BOX_H],
        ],
        wall_c,
    );

    // Downsample and copy into the panel.
    for py in 0..vh as usize {
        for px in 0..vw as usize {
            let mut acc = [0.0f32; 3];
            for sy in 0..SS {
                for sx in 0..SS {
                    let p = raster.rgb[(py * SS + sy) * rw + px * SS + sx];
                    for c in 0..3 {
                        acc[c] += p[c];
                    }
                }
            }
            let n = (SS * SS) as f32;
            let [r, gg, b] = acc.map(|v| (v / n).round().clamp(0.0, 255.0) as u8);
            if [r, gg, b] != [255, 255, 255] {
                view.draw_pixel((px as i32, py as i32), &RGBColor(r, gg, b))?;
            }
        }
    }

    // Box edges of the back walls and floor, and the axis names at the front floor edges.
    let edge = RGBColor(170, 170, 170);
    let line = |a: [f64; 3], b: [f64; 3]| {
        let (ax, ay, _) = to_px(a);
        let (bx, by, _) = to_px(b);
        let k = SS as f64;
        PathElement::new(
            vec![
                ((ax / k).round() as i32, (ay / k).round() as i32),
                ((bx / k).round() as i32, (by / k).round() as i32),
            ],
            edge,
        )
    };
    view.draw(&line([bx, by, 0.0], [bx, by, BOX_H]))?;
    view.draw(&line([bx, by, 0.0], [-bx, by, 0.0]))?;
    view.draw(&line([bx, by, 0.0], [bx, -by, 0.0]))?;
    let label = |p: [f64; 3], text: &str| -> DrawResult {
        let (x, y, _) = to_px(p);
        let k = SS as f64;
        let style = font(16.0).pos(Pos::new(HPos::Center, VPos::Center));
        view.draw_text(
            text,
            &style,
            ((x / k).round() as i32, (y / k).round() as i32),
        )?;
        Ok(())
    };
    // The front floor edges run along x at y = -by and along y at x = -bx.
    label([0.0, -by * 1.22, 0.0], "x")?;
    label([-bx * 1.22, 0.0, 0.0], "y")?;

    let rows = view.get_pixel_range().1;
    let bar_rows = rows.start + 40..rows.end - 40;
    draw_colorbar(&bar_area, bar_rows, scale, COOLWARM, &g.value_label, &[])
}

/// The floor corner farthest from the viewer: its x and y (each -1 or 1).
fn back_corner(cam: &Camera) -> (f64, f64) {
    let mut best = (0.0, 0.0, f64::INFINITY);
    for &x in &[-1.0, 1.0] {
        for &y in &[-1.0, 1.0] {
            let d = cam.project([x, y, 0.0])[2];
            if d < best.2 {
                best = (x, y, d);
            }
        }
    }
    (best.0, best.1)
}

fn min_max(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(values: [f64; 4]) -> SurfaceGrid {
        SurfaceGrid {
            xs: vec![0.0, 1.0],
            ys: vec![0.0, 1.0],
            values: values.to_vec(),
            title: String::new(),
            value_label: "loss".into(),
        }
    }

    #[test]
    fn side_by_side_panels_share_one_height_scale() {
        let deep = (grid([0.5, 2.0, 3.0, f64::NAN]), 10.0);
        let shallow = (grid([4.0, 6.0, 30.0, 5.0]), 10.0);
        assert_eq!(shared_range(&[deep.clone(), shallow]), Some((0.5, 10.0)));
        assert_eq!(shared_range(&[deep]), Some((0.5, 3.0)));
        assert_eq!(shared_range(&[(grid([2.0; 4]), 10.0)]), Some((2.0, 3.0)));
        assert_eq!(shared_range(&[(grid([f64::NAN; 4]), 10.0)]), None);
    }
}
