//! Processes that share one grid: a single process, or the ranks of an MPI job.
//!
//! With the cargo feature `mpi`, `mpirun -n N genviz surface ...` starts N copies; rank `r`
//! evaluates shard `r+1` of `N` (saving its slice as it fills, so a killed job resumes), and
//! rank 0 gathers the slices and writes the one `surface.npz`, bit-identical to a
//! single-process run because every grid point is computed the same way wherever it runs.
//! Without the feature, genviz refuses to run under `mpirun -n N` with N > 1, rather than let
//! N copies compute the whole grid each.

use anyhow::{bail, Result};
use genviz_landscape::Surface;

/// Environment variables an MPI launcher sets for its ranks (Open MPI, MPICH/Hydra, PMIx).
const SIZE_VARS: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"];

/// The number of ranks the launcher says this process belongs to (1 when not launched by MPI).
fn launched_size() -> usize {
    SIZE_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
        .unwrap_or(1)
}

/// This process's place among the processes sharing a grid.
pub struct Ranks {
    #[cfg(feature = "mpi")]
    mpi: Option<(
        mpi::environment::Universe,
        mpi::topology::SimpleCommunicator,
    )>,
}

impl Ranks {
    /// Joins the MPI job when launched by `mpirun` (feature `mpi`), else a single process.
    pub fn start() -> Result<Self> {
        let size = launched_size();
        #[cfg(feature = "mpi")]
        {
            if size > 1 {
                let Some(universe) = mpi::initialize() else {
                    bail!("MPI was already initialised in this process");
                };
                let world = universe.world();
                return Ok(Ranks {
                    mpi: Some((universe, world)),
                });
            }
            Ok(Ranks { mpi: None })
        }
        #[cfg(not(feature = "mpi"))]
        {
            if size > 1 {
                bail!(
                    "launched as one of {size} MPI ranks, but this genviz was built without MPI; \
                     build it with `cargo build --release --features mpi -p genviz-cli`, or split \
                     the grid with --shard k/n and `genviz merge`"
                );
            }
            Ok(Ranks {})
        }
    }

    /// This process's rank, from 0.
    pub fn rank(&self) -> usize {
        #[cfg(feature = "mpi")]
        if let Some((_, world)) = &self.mpi {
            use mpi::traits::Communicator;
            return world.rank() as usize;
        }
        0
    }

    /// Number of processes.
    pub fn size(&self) -> usize {
        #[cfg(feature = "mpi")]
        if let Some((_, world)) = &self.mpi {
            use mpi::traits::Communicator;
            return world.size() as usize;
        }
        1
    }

    /// Rank 0 writes the shared outputs.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Joins every rank's slice of `surface` on rank 0 (which gets `Some`); other ranks get
    /// `None`. A single process gets its own surface back.
    pub fn gather(&self, surface: Surface) -> Result<Option<Surface>> {
        #[cfg(feature = "mpi")]
        if let Some((_, world)) = &self.mpi {
            use mpi::traits::{Communicator, Root};
            let n = surface.len();
            let mine: Vec<f64> = [
                &surface.train_loss,
                &surface.train_acc,
                &surface.test_loss,
                &surface.test_acc,
            ]
            .into_iter()
            .flat_map(|v| v.iter().copied())
            .collect();
            let root = world.process_at_rank(0);
            if world.rank() != 0 {
                root.gather_into(&mine[..]);
                return Ok(None);
            }
            let mut all = vec![0f64; mine.len() * world.size() as usize];
            root.gather_into_root(&mine[..], &mut all[..]);
            let parts = all
                .chunks(4 * n)
                .enumerate()
                .map(|(r, chunk)| {
                    let mut s = surface.clone();
                    s.train_loss = chunk[..n].to_vec();
                    s.train_acc = chunk[n..2 * n].to_vec();
                    s.test_loss = chunk[2 * n..3 * n].to_vec();
                    s.test_acc = chunk[3 * n..].to_vec();
                    (std::path::PathBuf::from(format!("MPI rank {r}")), s)
                })
                .collect::<Vec<_>>();
            return Ok(Some(Surface::merge(&parts)?));
        }
        Ok(Some(surface))
    }
}
