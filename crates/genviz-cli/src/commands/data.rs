//! `genviz data`: getting real image data sets.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use genviz_data::ImageSource;
use std::path::PathBuf;

/// The flags of `genviz data`.
#[derive(Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download mnist, fashion-mnist or cifar10 from its canonical address (needs `curl`;
    /// every file's MD5 is checked before it is kept). Default folder: data/<name>, where
    /// `genviz train --data <name>` looks first.
    Fetch {
        /// mnist, fashion-mnist or cifar10.
        name: String,
        /// Target folder.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs `genviz data`.
pub fn run(args: DataArgs) -> Result<()> {
    match args.command {
        DataCommand::Fetch { name, dir } => {
            let Some(source) = ImageSource::parse(&name) else {
                bail!("unknown data set `{name}`; expected mnist, fashion-mnist or cifar10");
            };
            let dir = dir.unwrap_or_else(|| PathBuf::from("data").join(source.name()));
            let report = genviz_data::images::fetch(source, &dir)?;
            for p in &report.present {
                println!("already present: {}", p.display());
            }
            for p in &report.downloaded {
                println!("downloaded: {}", p.display());
            }
            // Read it back, so a bad file shows now rather than at training time.
            let data = source.load(Some(&dir))?;
            println!(
                "{}: {} training and {} test images of {}x{}x{} in {}",
                source.name(),
                data.train.len(),
                data.test.len(),
                data.shape.channels,
                data.shape.height,
                data.shape.width,
                dir.display()
            );
            Ok(())
        }
    }
}
