//! `aos ingest`: walks files and folders, indexes every supported file into a
//! tenant's knowledge with a progress bar, and ends with a summary of what was
//! added, replaced, unchanged or skipped, and why. One bad file never stops
//! the rest of the batch.

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use knowledge::ingest::DocumentMeta;
use knowledge::parse::Format;
use knowledge::scope::Scope;
use std::path::{Path, PathBuf};

use crate::cli::IngestArgs;
use crate::domain::TenantId;
use crate::knowledge::{IngestStatus, KnowledgeService};
use crate::store::Db;
use crate::store::audit::Actor;

/// Files larger than this are skipped.
const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

pub async fn run(db: &Db, service: &KnowledgeService, args: IngestArgs) -> Result<()> {
    let scope = Scope::from_names(&args.personas).map_err(anyhow::Error::msg)?;
    let tenant = TenantId(args.tenant);
    let mut files = Vec::new();
    let mut skipped: Vec<(PathBuf, String)> = Vec::new();
    for path in &args.paths {
        collect(path, &mut files, &mut skipped);
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut created, mut replaced, mut unchanged, mut chunks) = (0, 0, 0, 0i64);
    for (path, format) in files {
        bar.set_message(path.display().to_string());
        let outcome = match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let uri = std::fs::canonicalize(&path)
                    .map(|p| format!("file://{}", p.display()))
                    .unwrap_or_else(|_| path.display().to_string());
                let meta = DocumentMeta {
                    title: None,
                    source: "cli".into(),
                    uri: Some(uri),
                    tags: args.tags.clone(),
                    scope,
                };
                service
                    .ingest(db, tenant, Actor::System, meta, format, bytes)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("cannot read: {e}")),
        };
        match outcome {
            Ok(outcome) => {
                match outcome.status {
                    IngestStatus::Created => created += 1,
                    IngestStatus::Replaced => replaced += 1,
                    IngestStatus::Unchanged => unchanged += 1,
                }
                if outcome.status != IngestStatus::Unchanged {
                    chunks += i64::from(outcome.document.chunk_count);
                }
            }
            Err(reason) => skipped.push((path, reason)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!(
        "ingested: {created} new, {replaced} replaced, {unchanged} unchanged ({chunks} chunks written); skipped: {}",
        skipped.len()
    );
    for (path, reason) in &skipped {
        eprintln!("  skipped {}: {reason}", path.display());
    }
    if created + replaced + unchanged == 0 && !skipped.is_empty() {
        bail!("nothing could be ingested");
    }
    Ok(())
}

fn collect(path: &Path, files: &mut Vec<(PathBuf, Format)>, skipped: &mut Vec<(PathBuf, String)>) {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            skipped.push((path.to_owned(), format!("cannot read: {e}")));
            return;
        }
    };
    if metadata.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                skipped.push((path.to_owned(), format!("cannot list: {e}")));
                return;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            collect(&entry.path(), files, skipped);
        }
        return;
    }
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension);
    match format {
        None => skipped.push((path.to_owned(), "unsupported file type".into())),
        Some(_) if metadata.len() > MAX_FILE_BYTES => skipped.push((
            path.to_owned(),
            format!("larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024),
        )),
        Some(format) => files.push((path.to_owned(), format)),
    }
}
