//! `aos classify` and the classifier evaluations: classify requests read from
//! stdin as JSONL, score the few-shot engine on CLINC150, and score the
//! executive classifier on a labelled set. Printing only; the work is in
//! `personas`.

use anyhow::{Context, Result};
use knowledge::embed::Embedder;
use personas::eval::{clinc, labelled};
use personas::{Classifier, ClassifyInput, Persona, PreviousTurn, TenantExemplars};
use serde::Deserialize;
use std::path::Path;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// One request line in JSONL form; plain-text lines are taken as `text` alone.
#[derive(Deserialize)]
struct RequestLine {
    text: String,
    #[serde(default)]
    persona_hint: Option<Persona>,
    #[serde(default)]
    previous: Option<PreviousTurn>,
}

/// Reads requests from stdin, one per line (plain text, or JSON
/// `{"text", "persona_hint"?, "previous"?}`), and writes one JSON result per
/// line to stdout. `persona_hint` applies to lines that give none. A bad line
/// gets `{"line", "error"}` and the rest still run.
pub async fn classify_stdin(classifier: &Classifier, persona_hint: Option<Persona>) -> Result<()> {
    let stdin = BufReader::new(tokio::io::stdin());
    let mut stdout = tokio::io::stdout();
    classify_lines(classifier, persona_hint, stdin, &mut stdout).await
}

/// [`classify_stdin`] over any reader and writer.
pub async fn classify_lines<R, W>(
    classifier: &Classifier,
    persona_hint: Option<Persona>,
    reader: R,
    writer: &mut W,
) -> Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let none = TenantExemplars::default();
    let mut lines = reader.lines();
    let mut number = 0usize;
    while let Some(line) = lines.next_line().await.context("reading requests")? {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let request = if line.trim_start().starts_with('{') {
            serde_json::from_str::<RequestLine>(&line).map_err(|e| e.to_string())
        } else {
            Ok(RequestLine {
                text: line,
                persona_hint: None,
                previous: None,
            })
        };
        let output = match request {
            Ok(request) => {
                let input = ClassifyInput {
                    text: &request.text,
                    persona_hint: request.persona_hint.or(persona_hint),
                    previous: request.previous,
                    embedding: None,
                };
                match classifier.classify(input, &none).await {
                    Ok(result) => {
                        serde_json::json!({ "text": request.text, "classification": result })
                    }
                    Err(e) => serde_json::json!({ "line": number, "error": e.to_string() }),
                }
            }
            Err(e) => serde_json::json!({ "line": number, "error": format!("invalid JSON: {e}") }),
        };
        let mut bytes = serde_json::to_vec(&output)?;
        bytes.push(b'\n');
        writer.write_all(&bytes).await.context("writing results")?;
    }
    writer.flush().await.context("writing results")?;
    Ok(())
}

/// Scores the few-shot engine on CLINC150 as `options` say and prints
/// accuracy, out-of-scope recall and precision, and latency.
pub async fn eval_intents(
    embedder: &dyn Embedder,
    clinc_path: &Path,
    options: &clinc::EvalOptions,
) -> Result<()> {
    let data = clinc::ClincData::load(clinc_path)?;
    let shots = options.shots;
    println!(
        "CLINC150: {} train, {} val, {} oos_train, {} oos_val; {shots} shots per intent",
        data.train.len(),
        data.val.len(),
        data.oos_train.len(),
        data.oos_val.len()
    );
    let r = clinc::evaluate(embedder, &data, options)
        .await
        .with_context(|| match options.adapt {
            Some(_) => "the CLINC150 evaluation failed (--no-adapt scores the encoder as shipped)",
            None => "the CLINC150 evaluation failed",
        })?;
    let c = r.config;
    match &r.adaptation {
        Some(a) => println!(
            "encoder fine-tuned on the {} exemplars: {} epochs, learning rate {}, scale {}, \
             batches of {} ({:.0} s)",
            r.intents * shots,
            a.epochs,
            a.learning_rate,
            a.scale,
            a.batch_size,
            r.adaptation_seconds
        ),
        None => println!("encoder as shipped (not fine-tuned)"),
    }
    println!(
        "tuned on {} held-out in-scope + {} out-of-scope: neighbour weight {}, lexical weight {}, \
         {} neighbours, temperature {:.4}, reject below {:.3} (rejects {:.0}% of held-out \
         out-of-scope; held-out accuracy {:.1}%)",
        r.heldout.0,
        r.heldout.1,
        c.neighbour_weight,
        c.lexical_weight,
        c.neighbours,
        c.temperature,
        c.reject_below,
        r.target_oos_recall * 100.0,
        r.heldout_accuracy * 100.0
    );
    println!(
        "val accuracy ({} intents):      {:.2}%",
        r.intents,
        r.accuracy * 100.0
    );
    println!(
        "val accuracy with rejection:   {:.2}%",
        r.accuracy_with_rejection * 100.0
    );
    println!(
        "oos_val recall:                {:.2}%",
        r.oos_recall * 100.0
    );
    println!(
        "oos precision (val + oos_val): {:.2}%",
        r.oos_precision * 100.0
    );
    for p in &r.tradeoff {
        println!(
            "  other threshold {:.3} ({}): accuracy with rejection {:.2}%, oos recall {:.2}%, oos precision {:.2}%",
            p.reject_below,
            p.chosen_by,
            p.accuracy_with_rejection * 100.0,
            p.oos_recall * 100.0,
            p.oos_precision * 100.0
        );
    }
    println!("calibration error (ECE):       {:.3}", r.calibration_error);
    println!(
        "latency per query incl. embedding: p50 {:.1} ms, p99 {:.1} ms",
        r.latency.p50_ms, r.latency.p99_ms
    );
    println!(
        "  of which scoring (no embedding): p50 {:.2} ms, p99 {:.2} ms",
        r.scoring_latency.p50_ms, r.scoring_latency.p99_ms
    );
    Ok(())
}

/// Scores the executive classifier on a labelled JSONL file and prints persona
/// and intent accuracy, the most frequent confusions, the misses and latency.
pub async fn eval_personas(classifier: &Classifier, file: &Path) -> Result<()> {
    let requests = labelled::load(file)?;
    let r = labelled::evaluate(classifier, &requests).await?;
    println!("{} requests from {}", r.requests, file.display());
    println!(
        "persona accuracy: {:.1}% ({} scored)",
        r.persona_accuracy * 100.0,
        r.persona_scored
    );
    println!("intent accuracy:  {:.1}%", r.intent_accuracy * 100.0);
    println!(
        "calibration: mean intent confidence {:.3}, ECE intent {:.3}, persona {:.3}",
        r.mean_intent_confidence, r.intent_calibration_error, r.persona_calibration_error
    );
    for (intent, (right, total)) in &r.per_intent {
        println!("  {intent:<17} {right}/{total}");
    }
    if !r.confusions.is_empty() {
        println!("confusions (expected -> got):");
        for (what, count) in &r.confusions {
            println!("  {count:>3}  {what}");
        }
        println!("misses:");
        for miss in &r.misses {
            println!("  line {}: {:?}: {}", miss.line, miss.text, miss.what);
        }
    }
    println!(
        "latency per request incl. embedding: p50 {:.1} ms, p99 {:.1} ms",
        r.latency.p50_ms, r.latency.p99_ms
    );
    Ok(())
}
