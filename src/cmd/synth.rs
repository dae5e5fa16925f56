//! `refmatch synth`: writes a generated vendor-invoice set (reference, documents, truth
//! and config) into a directory. The generator is `crate::synth`; this file only opens
//! the files and reports what was written.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::cli::SynthArgs;
use crate::error::{Error, Result};
use crate::synth::{self, Sink, SynthOptions, SynthSinks};

pub fn run(args: &SynthArgs) -> Result<()> {
    let options = SynthOptions {
        reference_rows: args.reference_rows,
        documents: args.documents,
        seed: args.seed,
        profile: args.profile,
    };
    let summary = write_set(&options, &args.out)?;
    eprintln!(
        "refmatch synth: {} reference rows ({} vendors), {} documents ({} with a true row, \
         {} near misses, {} unknown vendors), profile {}, seed {}, written to {}",
        summary.reference_rows,
        summary.vendors,
        summary.documents,
        summary.with_row,
        summary.near_misses,
        summary.unknown_vendors,
        options.profile.name(),
        options.seed,
        args.out.display()
    );
    Ok(())
}

/// Writes `reference.csv`, `documents.csv`, `truth.csv` and `config.json` into `dir`.
pub(crate) fn write_set(options: &SynthOptions, dir: &Path) -> Result<synth::SynthSummary> {
    // Checked before the directory or any file is created.
    options.validate()?;
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(
            "synth",
            "--out",
            format!("{} exists and is not a directory", dir.display()),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let reference_path = dir.join("reference.csv");
    let documents_path = dir.join("documents.csv");
    let truth_path = dir.join("truth.csv");
    let mut reference = create(&reference_path)?;
    let mut documents = create(&documents_path)?;
    let mut truth = create(&truth_path)?;
    let summary = synth::generate(
        options,
        &mut SynthSinks {
            reference: Sink {
                path: &reference_path,
                writer: &mut reference,
            },
            documents: Sink {
                path: &documents_path,
                writer: &mut documents,
            },
            truth: Sink {
                path: &truth_path,
                writer: &mut truth,
            },
        },
    )?;
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, synth::CONFIG_JSON).map_err(|e| Error::io(&config_path, e))?;
    Ok(summary)
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    File::create(path)
        .map(|file| BufWriter::with_capacity(1 << 16, file))
        .map_err(|e| Error::io(path, e))
}
