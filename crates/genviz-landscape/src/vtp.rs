//! ParaView export of a 2-D surface as VTK XML PolyData (Li et al.'s `h52vtp.py`).

use crate::surface::Surface;
use genviz_core::{io::write_atomic, Error, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Options of the export.
#[derive(Clone, Copy, Debug)]
pub struct VtpOptions {
    /// Clip heights above this value (Li's `--zmax`; `None` keeps all).
    pub zmax: Option<f64>,
    /// Use `log(z + 0.1)` as the height (Li's `--log`).
    pub log: bool,
}

/// Writes `values` (one of the surface's arrays, `[ny, nx]`) as a `.vtp` of quads with the
/// height also stored as the point scalar `loss`, ready for ParaView.
pub fn write_vtp(
    path: &Path,
    surface: &Surface,
    values: &[f64],
    options: VtpOptions,
) -> Result<()> {
    let (nx, ny) = (surface.xs.len(), surface.ys.len());
    if ny == 0 {
        return Err(Error::invalid(format!(
            "{}: a ParaView surface needs a 2-D grid",
            path.display()
        )));
    }
    if values.len() != nx * ny {
        return Err(Error::invalid(format!(
            "{}: {} values for a {nx} x {ny} grid",
            path.display(),
            values.len()
        )));
    }
    let z: Vec<f64> = values
        .iter()
        .map(|&v| {
            let v = options.zmax.map_or(v, |m| v.min(m));
            if options.log {
                (v + 0.1).ln()
            } else {
                v
            }
        })
        .collect();
    let mut s = String::new();
    let cells = (nx.saturating_sub(1)) * (ny - 1);
    let _ = writeln!(s, r#"<?xml version="1.0"?>"#);
    let _ = writeln!(
        s,
        r#"<VTKFile type="PolyData" version="0.1" byte_order="LittleEndian">"#
    );
    let _ = writeln!(s, "<PolyData>");
    let _ = writeln!(
        s,
        r#"<Piece NumberOfPoints="{}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="{cells}">"#,
        nx * ny
    );
    let _ = writeln!(
        s,
        r#"<PointData Scalars="loss"><DataArray type="Float32" Name="loss" format="ascii">"#
    );
    for v in &z {
        let _ = write!(s, "{v} ");
    }
    let _ = writeln!(s, "\n</DataArray></PointData>");
    let _ = writeln!(
        s,
        r#"<Points><DataArray type="Float32" NumberOfComponents="3" format="ascii">"#
    );
    for iy in 0..ny {
        for ix in 0..nx {
            let _ = write!(
                s,
                "{} {} {} ",
                surface.xs[ix],
                surface.ys[iy],
                z[iy * nx + ix]
            );
        }
    }
    let _ = writeln!(s, "\n</DataArray></Points>");
    let _ = writeln!(
        s,
        r#"<Polys><DataArray type="Int64" Name="connectivity" format="ascii">"#
    );
    for iy in 0..ny - 1 {
        for ix in 0..nx - 1 {
            let p = iy * nx + ix;
            let _ = write!(s, "{} {} {} {} ", p, p + 1, p + nx + 1, p + nx);
        }
    }
    let _ = writeln!(s, "\n</DataArray>");
    let _ = writeln!(
        s,
        r#"<DataArray type="Int64" Name="offsets" format="ascii">"#
    );
    for c in 1..=cells {
        let _ = write!(s, "{} ", 4 * c);
    }
    let _ = writeln!(s, "\n</DataArray></Polys>");
    let _ = writeln!(s, "</Piece>\n</PolyData>\n</VTKFile>");
    write_atomic(path, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_quads_with_clipped_log_heights() {
        let mut surf = Surface::new(vec![0.0, 1.0, 2.0], vec![0.0, 1.0], 0).unwrap();
        surf.train_loss = vec![0.0, 1.0, 100.0, 0.5, 2.0, 3.0];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.vtp");
        write_vtp(
            &path,
            &surf,
            &surf.train_loss,
            VtpOptions {
                zmax: Some(10.0),
                log: true,
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#"NumberOfPoints="6""#) && text.contains(r#"NumberOfPolys="2""#));
        assert!(text.contains("0 1 4 3 ") && text.contains(&format!("{}", (10.1f64).ln())));
        let one_d = Surface::new(vec![0.0, 1.0], vec![], 0).unwrap();
        assert!(write_vtp(
            &path,
            &one_d,
            &one_d.train_loss,
            VtpOptions {
                zmax: None,
                log: false
            }
        )
        .is_err());
    }
}
