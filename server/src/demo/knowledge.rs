//! The demo knowledge base: every document listed in `demo/knowledge/manifest.toml`,
//! with the personas it is for and its tags.

use anyhow::{Context, Result, bail};
use knowledge::ingest::DocumentMeta;
use knowledge::parse::Format;
use knowledge::scope::Scope;
use serde::Deserialize;

use super::DEMO_DIR;
use crate::domain::TenantId;
use crate::knowledge::KnowledgeService;
use crate::store::Db;
use crate::store::audit::Actor;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    document: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    file: String,
    personas: Vec<String>,
    tags: Vec<String>,
}

/// Indexes every listed document; unchanged ones are skipped by their content hash.
pub async fn seed(db: &Db, knowledge: &KnowledgeService, tenant: TenantId) -> Result<()> {
    let manifest = DEMO_DIR
        .get_file("knowledge/manifest.toml")
        .and_then(|f| f.contents_utf8())
        .context("demo/knowledge/manifest.toml is missing")?;
    let manifest: Manifest =
        toml::from_str(manifest).context("demo/knowledge/manifest.toml is invalid")?;
    for entry in manifest.document {
        let path = format!("knowledge/{}", entry.file);
        let Some(file) = DEMO_DIR.get_file(&path) else {
            bail!("demo/{path} is listed in the manifest but missing");
        };
        let format = std::path::Path::new(&entry.file)
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
            .with_context(|| format!("demo/{path} has an unsupported format"))?;
        let meta = DocumentMeta {
            title: None,
            source: "demo".into(),
            uri: Some(format!("demo://{path}")),
            tags: entry.tags,
            scope: Scope::from_names(&entry.personas).map_err(anyhow::Error::msg)?,
        };
        knowledge
            .ingest(
                db,
                tenant,
                Actor::System,
                meta,
                format,
                file.contents().to_vec(),
            )
            .await
            .with_context(|| format!("cannot index demo/{path}"))?;
    }
    Ok(())
}
