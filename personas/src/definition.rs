//! Persona definitions: one TOML file per persona (`definitions/cto.toml`, …)
//! holding the prompt, tool allow-list, retrieval scopes, fusion weights,
//! glossary and exemplar utterances. The four built-in files are compiled into
//! the binary; operators may load a directory instead. Every file is validated
//! at load, and errors name the file and the field.

use knowledge::scope::Scope;
use knowledge::search::FusionWeights;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::types::{Exemplar, Intent, Persona};

/// Tools a persona may be allowed to call (the `tools` crate's registry names).
pub const TOOL_NAMES: [&str; 16] = [
    "search_knowledge",
    "search_assets",
    "get_asset",
    "list_shadow_it",
    "run_discovery",
    "list_connectors",
    "connector_health",
    "schema_drift_report",
    "trigger_sync",
    "list_pending_mappings",
    "explain_mapping",
    "approve_mapping",
    "reject_mapping",
    "run_agent",
    "agent_status",
    "agent_result",
];

const BUILTIN: [(&str, &str); 4] = [
    ("cto.toml", include_str!("../definitions/cto.toml")),
    ("cro.toml", include_str!("../definitions/cro.toml")),
    ("coo.toml", include_str!("../definitions/coo.toml")),
    ("cfo.toml", include_str!("../definitions/cfo.toml")),
];

/// Why a set of definitions was refused.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// The directory or a file in it could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has the wrong shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file name, e.g. `cfo.toml`.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field has a value the classifier or gateway cannot use.
    #[error("{file}: {field}: {message}")]
    Invalid {
        /// The file name, e.g. `cfo.toml` (or `definitions` for the whole set).
        file: String,
        /// The field path, e.g. `exemplars.agent_run[3]`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

/// One persona, as the gateway uses it.
#[derive(Debug, Clone)]
pub struct PersonaDefinition {
    /// Which persona this is.
    pub persona: Persona,
    /// Human title, e.g. "Chief Financial Officer".
    pub title: String,
    /// Topics this executive cares about (also persona evidence for the classifier).
    pub cares_about: Vec<String>,
    /// System prompt for the LLM.
    pub system_prompt: String,
    /// How answers should read (length, tone, format).
    pub answer_style: String,
    /// Tools this persona may call, by registry name.
    pub tools: Vec<String>,
    /// Personas whose documents this persona's retrieval sees (shared documents always).
    pub retrieval_scopes: Vec<Persona>,
    /// Weights of vector and lexical rankings in hybrid search.
    pub fusion: FusionWeights,
    /// Words that mark a request as this persona's domain: systems, objects, jargon.
    pub vocabulary: Vec<String>,
    /// Domain terms and what they mean here.
    pub glossary: BTreeMap<String, String>,
    /// The key figures this executive tracks.
    pub kpis: Vec<String>,
    /// The tool to run first for an intent, when the persona prefers one.
    pub first_tool: BTreeMap<Intent, String>,
    /// Labelled utterances, in file order.
    pub exemplars: Vec<Exemplar>,
}

impl PersonaDefinition {
    /// The retrieval filter for this persona's searches.
    pub fn retrieval_scope(&self) -> Scope {
        let names: Vec<&str> = self.retrieval_scopes.iter().map(|p| p.as_str()).collect();
        Scope::from_names(&names).unwrap_or(Scope::ALL)
    }

    /// Whether the persona may call `tool`.
    pub fn allows_tool(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == tool)
    }
}

/// The four persona definitions, validated as a whole.
#[derive(Debug, Clone)]
pub struct PersonaSet {
    definitions: Vec<PersonaDefinition>,
}

impl PersonaSet {
    /// The definitions compiled into the binary.
    pub fn builtin() -> Result<PersonaSet, DefinitionError> {
        PersonaSet::from_sources(&BUILTIN)
    }

    /// Loads every `*.toml` file in `dir` (one per persona).
    pub fn load_dir(dir: &Path) -> Result<PersonaSet, DefinitionError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DefinitionError::Io { path, source }
        };
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                sources.push((name.unwrap_or_default(), text));
            }
        }
        sources.sort();
        let borrowed: Vec<(&str, &str)> = sources
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        PersonaSet::from_sources(&borrowed)
    }

    /// Parses and validates `(file name, TOML text)` pairs: every persona exactly
    /// once, and every intent taught by at least one exemplar.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<PersonaSet, DefinitionError> {
        let mut definitions: Vec<PersonaDefinition> = Vec::new();
        for (file, text) in sources {
            let definition = parse_file(file, text)?;
            if definitions.iter().any(|d| d.persona == definition.persona) {
                return Err(invalid(
                    file,
                    "name",
                    format!("duplicate persona `{}`", definition.persona),
                ));
            }
            definitions.push(definition);
        }
        for persona in Persona::ALL {
            if !definitions.iter().any(|d| d.persona == persona) {
                let message = format!("no file defines persona `{persona}`");
                return Err(invalid("definitions", "name", message));
            }
        }
        for intent in Intent::ALL {
            let taught = definitions
                .iter()
                .flat_map(|d| &d.exemplars)
                .any(|e| e.intent == intent);
            if !taught {
                let field = format!("exemplars.{intent}");
                return Err(invalid("definitions", &field, "no persona has an exemplar"));
            }
        }
        definitions.sort_by_key(|d| d.persona);
        Ok(PersonaSet { definitions })
    }

    /// The definition of `persona`.
    pub fn get(&self, persona: Persona) -> &PersonaDefinition {
        // `from_sources` guarantees one definition per persona, sorted.
        &self.definitions[persona.index()]
    }

    /// All definitions, in [`Persona::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &PersonaDefinition> {
        self.definitions.iter()
    }

    /// Every exemplar of every persona.
    pub fn exemplars(&self) -> impl Iterator<Item = &Exemplar> {
        self.definitions.iter().flat_map(|d| &d.exemplars)
    }
}

/// The file as written; checked and turned into a [`PersonaDefinition`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    name: String,
    title: String,
    cares_about: Vec<String>,
    system_prompt: String,
    answer_style: String,
    tools: Vec<String>,
    retrieval_scopes: Vec<String>,
    fusion: FusionWeights,
    #[serde(default)]
    vocabulary: Vec<String>,
    #[serde(default)]
    glossary: BTreeMap<String, String>,
    #[serde(default)]
    kpis: Vec<String>,
    #[serde(default)]
    first_tool: BTreeMap<String, String>,
    exemplars: BTreeMap<String, Vec<String>>,
}

fn parse_file(file: &str, text: &str) -> Result<PersonaDefinition, DefinitionError> {
    let raw: RawDefinition = toml::from_str(text).map_err(|e| DefinitionError::Parse {
        file: file.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let persona: Persona = raw
        .name
        .parse()
        .map_err(|e: crate::types::UnknownName| invalid(file, "name", e.to_string()))?;
    let stem = file.strip_suffix(".toml").unwrap_or(file);
    if stem != persona.as_str() {
        let message = format!("persona `{persona}` must live in {persona}.toml");
        return Err(invalid(file, "name", message));
    }
    for (field, value) in [
        ("title", &raw.title),
        ("system_prompt", &raw.system_prompt),
        ("answer_style", &raw.answer_style),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(file, field, "must not be empty"));
        }
    }
    non_empty_items(file, "cares_about", &raw.cares_about)?;
    non_empty_items(file, "kpis", &raw.kpis)?;
    non_empty_items(file, "vocabulary", &raw.vocabulary)?;
    if let Some(term) = raw.glossary.keys().find(|t| t.trim().is_empty()) {
        return Err(invalid(file, &format!("glossary.\"{term}\""), "empty term"));
    }
    for (i, tool) in raw.tools.iter().enumerate() {
        if !TOOL_NAMES.contains(&tool.as_str()) {
            let field = format!("tools[{i}]");
            return Err(invalid(file, &field, format!("unknown tool `{tool}`")));
        }
    }
    let retrieval_scopes = raw
        .retrieval_scopes
        .iter()
        .enumerate()
        .map(|(i, name)| {
            name.parse::<Persona>()
                .map_err(|e| invalid(file, &format!("retrieval_scopes[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let weights = [raw.fusion.vector, raw.fusion.lexical];
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
        let message = "weights must be non-negative and not both zero";
        return Err(invalid(file, "fusion", message));
    }
    let mut first_tool = BTreeMap::new();
    for (name, tool) in &raw.first_tool {
        let field = format!("first_tool.{name}");
        let intent: Intent = name
            .parse()
            .map_err(|e: crate::types::UnknownName| invalid(file, &field, e.to_string()))?;
        if !raw.tools.contains(tool) {
            let message = format!("`{tool}` is not in this persona's tools");
            return Err(invalid(file, &field, message));
        }
        first_tool.insert(intent, tool.clone());
    }
    let mut exemplars = Vec::new();
    for (name, texts) in &raw.exemplars {
        let intent: Intent = name.parse().map_err(|e: crate::types::UnknownName| {
            invalid(file, &format!("exemplars.{name}"), e.to_string())
        })?;
        for (i, text) in texts.iter().enumerate() {
            if text.trim().is_empty() {
                let field = format!("exemplars.{name}[{i}]");
                return Err(invalid(file, &field, "empty utterance"));
            }
            exemplars.push(Exemplar {
                persona,
                intent,
                text: text.trim().to_owned(),
            });
        }
    }
    if !exemplars.iter().any(|e| e.intent.is_domain()) {
        let message = "at least one business exemplar is needed to recognise the persona";
        return Err(invalid(file, "exemplars", message));
    }
    Ok(PersonaDefinition {
        persona,
        title: raw.title,
        cares_about: raw.cares_about,
        system_prompt: raw.system_prompt,
        answer_style: raw.answer_style,
        tools: raw.tools,
        retrieval_scopes,
        fusion: raw.fusion,
        vocabulary: raw.vocabulary,
        glossary: raw.glossary,
        kpis: raw.kpis,
        first_tool,
        exemplars,
    })
}

fn non_empty_items(file: &str, field: &str, items: &[String]) -> Result<(), DefinitionError> {
    match items.iter().position(|s| s.trim().is_empty()) {
        Some(i) => Err(invalid(file, &format!("{field}[{i}]"), "must not be empty")),
        None => Ok(()),
    }
}

fn invalid(file: &str, field: &str, message: impl Into<String>) -> DefinitionError {
    DefinitionError::Invalid {
        file: file.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    }
}
