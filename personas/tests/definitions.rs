//! Persona definition files: the built-in ones load, broken ones are refused
//! with the file and field named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use personas::{DefinitionError, Intent, Persona, PersonaSet};
use std::path::Path;

const BUILTIN: [(&str, &str); 4] = [
    ("cto.toml", include_str!("../definitions/cto.toml")),
    ("cro.toml", include_str!("../definitions/cro.toml")),
    ("coo.toml", include_str!("../definitions/coo.toml")),
    ("cfo.toml", include_str!("../definitions/cfo.toml")),
];

fn builtin_sources() -> Vec<(&'static str, String)> {
    BUILTIN.iter().map(|(n, t)| (*n, (*t).to_owned())).collect()
}

/// The built-in set with `file`'s text edited by `edit`; the error message.
fn refused(file: &str, edit: impl Fn(&str) -> String) -> String {
    let sources: Vec<(&str, String)> = builtin_sources()
        .into_iter()
        .map(|(n, t)| if n == file { (n, edit(&t)) } else { (n, t) })
        .collect();
    let borrowed: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (*n, t.as_str())).collect();
    match PersonaSet::from_sources(&borrowed) {
        Ok(_) => panic!("edited {file} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_builtin_persona_loads_with_enough_exemplars() {
    let set = PersonaSet::builtin().unwrap_or_else(|e| panic!("{e}"));
    for persona in Persona::ALL {
        let d = set.get(persona);
        assert_eq!(d.persona, persona);
        assert!(d.exemplars.len() >= 15, "{persona}: {}", d.exemplars.len());
        let intents: std::collections::BTreeSet<Intent> =
            d.exemplars.iter().map(|e| e.intent).collect();
        assert_eq!(
            intents.len(),
            Intent::ALL.len(),
            "{persona} covers every intent"
        );
        assert!(d.allows_tool("search_knowledge"));
        assert!(d.retrieval_scopes.contains(&persona));
        assert!(!d.system_prompt.trim().is_empty() && !d.vocabulary.is_empty());
    }
    let cfo = set.get(Persona::Cfo);
    assert_eq!(cfo.retrieval_scope().names(), vec!["cfo"]);
    assert_eq!(
        cfo.first_tool.get(&Intent::AgentRun).map(String::as_str),
        Some("run_agent")
    );
}

#[test]
fn broken_files_are_refused_naming_file_and_field() {
    let empty = refused("cfo.toml", |t| {
        t.replacen(
            "\"Detect any spend anomalies in the last 30 days\"",
            "\"  \"",
            1,
        )
    });
    assert_eq!(empty, "cfo.toml: exemplars.agent_run[3]: empty utterance");

    let tool = refused("cro.toml", |t| {
        t.replacen("\"search_knowledge\"", "\"send_email\"", 1)
    });
    assert_eq!(tool, "cro.toml: tools[0]: unknown tool `send_email`");

    let intent = refused("coo.toml", |t| {
        t.replacen("\nagent_run = [", "\nsmall_talk = [", 1)
    });
    assert!(
        intent.starts_with("coo.toml: exemplars.small_talk: unknown intent `small_talk`"),
        "{intent}"
    );

    let scope = refused("cto.toml", |t| {
        t.replacen(
            "retrieval_scopes = [\"cto\"]",
            "retrieval_scopes = [\"ceo\"]",
            1,
        )
    });
    assert!(
        scope.starts_with("cto.toml: retrieval_scopes[0]: unknown persona `ceo`"),
        "{scope}"
    );

    let first = refused("cro.toml", |t| {
        t.replacen(
            "agent_run = \"run_agent\"",
            "agent_run = \"run_discovery\"",
            1,
        )
    });
    assert!(
        first.starts_with("cro.toml: first_tool.agent_run:"),
        "{first}"
    );

    let syntax = refused("cfo.toml", |t| t.replacen("name = \"cfo\"", "name = ", 1));
    assert!(syntax.starts_with("cfo.toml: "), "{syntax}");

    let unknown_field = refused("cfo.toml", |t| format!("colour = \"blue\"\n{t}"));
    assert!(unknown_field.contains("colour"), "{unknown_field}");
}

#[test]
fn duplicate_and_missing_personas_are_refused() {
    let sources = builtin_sources();
    let mut borrowed: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (*n, t.as_str())).collect();
    borrowed.push(borrowed[3]);
    let err = PersonaSet::from_sources(&borrowed)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cfo.toml: name: duplicate persona `cfo`")
    );

    let renamed = sources[3].1.replacen("name = \"cfo\"", "name = \"coo\"", 1);
    let err = PersonaSet::from_sources(&[
        (sources[0].0, sources[0].1.as_str()),
        ("cfo.toml", &renamed),
    ])
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cfo.toml: name: persona `coo` must live in coo.toml")
    );

    borrowed.truncate(2);
    let err = PersonaSet::from_sources(&borrowed)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("definitions: name: no file defines persona `coo`")
    );
}

#[test]
fn a_directory_loads_and_names_its_bad_file() {
    let dir = std::env::temp_dir().join(format!("personas-defs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for (name, text) in BUILTIN {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(dir.join("README.md"), "not a definition").unwrap_or_else(|e| panic!("{e}"));
    let set = PersonaSet::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.iter().count(), 4);

    let broken = BUILTIN[0]
        .1
        .replacen("fusion = { vector = 1.0", "fusion = { vector = -1.0", 1);
    std::fs::write(dir.join("cto.toml"), broken).unwrap_or_else(|e| panic!("{e}"));
    let err = PersonaSet::load_dir(&dir).err().map(|e| e.to_string());
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        err.as_deref(),
        Some("cto.toml: fusion: weights must be non-negative and not both zero")
    );
    let missing = PersonaSet::load_dir(Path::new("/nonexistent/personas"));
    assert!(matches!(missing, Err(DefinitionError::Io { .. })));
}
