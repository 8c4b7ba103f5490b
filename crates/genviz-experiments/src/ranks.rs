//! Processes that share one job: a single process, or the ranks of an MPI job.
//!
//! Every grid-like job (a surface's points, a basin's rays, a Hessian's ratio map) is a plan
//! of independent items. A `shard k/n` runs slice k of them in one process, and a launcher of
//! any kind (a shell loop, a Slurm array) runs the others; `genviz merge` joins the files. With
//! the cargo feature `mpi`, `mpirun -n N genviz ...` does the same in one command: rank `r`
//! runs shard `r+1` of `N` (saving its slice as it fills, so a killed job resumes) and rank 0
//! gathers the slices and writes the one result, bit-identical to a single-process run
//! because every item is computed the same way wherever it runs. Jobs that are not grids
//! refuse to run on more than one rank ([`single_process`]), rather than let N copies do the
//! whole work each and race on its files.

use anyhow::{bail, Result};
use genviz_landscape::{Shard, Surface};

/// Environment variables an MPI launcher sets for its ranks (Open MPI, MPICH/Hydra, PMIx).
const SIZE_VARS: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"];

/// The number of ranks the launcher says this process belongs to (1 when not launched by MPI).
pub fn launched_size() -> usize {
    SIZE_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
        .unwrap_or(1)
}

/// Refuses to run `command` as one of several MPI ranks: only grid-like jobs split their work
/// over ranks.
pub fn single_process(command: &str) -> Result<()> {
    let size = launched_size();
    if size > 1 {
        bail!(
            "`genviz {command}` runs in one process, but it was launched as one of {size} MPI \
             ranks; under mpirun use surface, interpolate, plane, trajectory, basin or hessian \
             (their points, rays and ratio maps split over ranks)"
        );
    }
    Ok(())
}

/// This process's place among the processes sharing a job.
pub struct Ranks {
    #[cfg(feature = "mpi")]
    mpi: Option<(
        mpi::environment::Universe,
        mpi::topology::SimpleCommunicator,
    )>,
}

impl Ranks {
    /// Joins the MPI job when launched by `mpirun` (feature `mpi`), else a single process.
    ///
    /// # Errors
    /// When launched as several ranks by a genviz built without MPI, or when MPI was already
    /// started in this process.
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
                     the work with --shard k/n and `genviz merge`"
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

    /// The slice of the job this process runs: its rank's under MPI, else `requested` (all
    /// when `None`).
    ///
    /// # Errors
    /// When both MPI and a shard split the job.
    pub fn shard(&self, requested: Option<Shard>) -> Result<Shard> {
        if self.size() > 1 {
            if requested.is_some_and(|s| s != Shard::ALL) {
                bail!("a shard and mpirun both split the work; use one of them");
            }
            return Ok(Shard {
                index: self.rank() + 1,
                count: self.size(),
            });
        }
        Ok(requested.unwrap_or(Shard::ALL))
    }

    /// Every rank's `mine` (each the same length) on rank 0, in rank order; `None` on the
    /// other ranks. A single process gets its own back.
    pub fn gather(&self, mine: Vec<f64>) -> Option<Vec<Vec<f64>>> {
        #[cfg(feature = "mpi")]
        if let Some((_, world)) = &self.mpi {
            use mpi::traits::{Communicator, Root};
            let root = world.process_at_rank(0);
            if world.rank() != 0 {
                root.gather_into(&mine[..]);
                return None;
            }
            let mut all = vec![0f64; mine.len() * world.size() as usize];
            root.gather_into_root(&mine[..], &mut all[..]);
            return Some(all.chunks(mine.len().max(1)).map(<[f64]>::to_vec).collect());
        }
        Some(vec![mine])
    }

    /// Joins every rank's slice of `surface` on rank 0 (which gets `Some`); other ranks get
    /// `None`. A single process gets its own surface back.
    pub fn gather_surface(&self, surface: Surface) -> Result<Option<Surface>> {
        if self.size() == 1 {
            return Ok(Some(surface));
        }
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
        let Some(all) = self.gather(mine) else {
            return Ok(None);
        };
        let parts = all
            .iter()
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
        Ok(Some(Surface::merge(&parts)?))
    }
}
