//! The figures of `aos bench gateway`, printed as Markdown tables so they can
//! go into the README as they are.

use super::GatewayArgs;
use super::overhead::{ADDED_P99_LIMIT_MS, Measured, RatePoint, highest_passing};
use super::pipeline::PipelineReport;
use super::stats::Summary;
use super::ws::{IdleReport, StreamingReport};

/// Benchmark 1's results.
#[derive(Default)]
pub struct Overhead {
    pub error: Option<String>,
    /// How the gateway classified the benchmark prompt.
    pub intent: Option<String>,
    pub tool_calls: usize,
    pub retrieved: bool,
    /// (concurrency, column, latencies).
    pub loads: Vec<(usize, String, Measured)>,
    /// (column, latencies) at the full concurrency with the mock's chunks
    /// spaced like a real model's.
    pub paced: Vec<(String, Measured)>,
    /// Column → its points of the open-loop sweep.
    pub sweep: Vec<(String, Vec<RatePoint>)>,
}

impl Overhead {
    pub fn failed(error: String) -> Overhead {
        Overhead {
            error: Some(error),
            ..Overhead::default()
        }
    }

    fn at(&self, concurrency: usize, column: &str) -> Option<&Measured> {
        self.loads
            .iter()
            .find(|(c, name, _)| *c == concurrency && name == column)
            .map(|(_, _, m)| m)
    }
}

/// Benchmark 3's results.
#[derive(Default)]
pub struct Density {
    pub idle: Option<Result<IdleReport, String>>,
    pub streaming: Option<Result<StreamingReport, String>>,
    pub notes: Vec<String>,
    /// Client connections the server held before the WebSocket benchmarks.
    pub connections_before: Option<usize>,
    /// Right after the clients closed theirs.
    pub connections_after: Option<usize>,
    /// Once back at `connections_before` (or after 30 s), and when.
    pub connections_settled: Option<(usize, f64)>,
}

impl Density {
    pub fn failed(error: String) -> Density {
        Density {
            idle: Some(Err(error)),
            ..Density::default()
        }
    }
}

pub struct Report {
    chunks: usize,
    concurrency: usize,
    paced_gap_ms: u64,
    session_chunks: usize,
    session_gap_ms: u64,
    pub litellm_note: Option<String>,
    pub upstream_requests: u64,
    pub overhead: Option<Overhead>,
    pub ws: Option<Density>,
    pub pipeline: Option<Result<PipelineReport, String>>,
}

const COLUMNS: [&str; 3] = ["direct", "aos", "LiteLLM"];

/// The rows of one load: each column's latencies, what it adds to the
/// direct column's, and its throughput.
fn print_load<'a>(load: &str, at: &dyn Fn(&str) -> Option<&'a Measured>) {
    let Some(base) = at("direct") else {
        return;
    };
    let cells = |f: &dyn Fn(&Measured) -> String, with_direct: bool| -> String {
        COLUMNS
            .iter()
            .map(|c| match at(c) {
                Some(_) if *c == "direct" && !with_direct => String::new(),
                Some(m) => f(m),
                None => "—".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!(
        "| {load} | last byte p50 / p99 | {} |",
        cells(&|m| pair(&m.ttlb, |s| s.p99), true)
    );
    println!(
        "| {load} | first token p50 / p99 | {} |",
        cells(&|m| pair(&m.ttft, |s| s.p99), true)
    );
    println!(
        "| {load} | **added**, last byte p50 / p99 | {} |",
        cells(&|m| added(&m.ttlb, &base.ttlb), false)
    );
    println!(
        "| {load} | **added**, first token p50 / p99 | {} |",
        cells(&|m| added(&m.ttft, &base.ttft), false)
    );
    println!(
        "| {load} | completed/s (errors) | {} |",
        cells(&|m| format!("{:.0} ({})", m.rate(), m.errors), true)
    );
}

fn pair(s: &Summary, hi: fn(&Summary) -> f64) -> String {
    format!("{:.2} / {:.2} ms", s.p50, hi(s))
}

fn added(s: &Summary, base: &Summary) -> String {
    format!("{:+.2} / {:+.2} ms", s.p50 - base.p50, s.p99 - base.p99)
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

impl Report {
    pub fn new(args: &GatewayArgs) -> Report {
        Report {
            chunks: args.chunks,
            concurrency: args.concurrency,
            paced_gap_ms: args.paced_gap_ms,
            session_chunks: args.session_chunks,
            session_gap_ms: args.session_gap_ms,
            litellm_note: None,
            upstream_requests: 0,
            overhead: None,
            ws: None,
            pipeline: None,
        }
    }

    pub fn print(&self) {
        println!();
        println!("== aos bench gateway ==");
        if let Some(overhead) = &self.overhead {
            self.print_overhead(overhead);
        }
        if let Some(density) = &self.ws {
            self.print_density(density);
        }
        if let Some(pipeline) = &self.pipeline {
            print_pipeline(pipeline);
        }
        println!();
        println!(
            "(the mock upstream answered {} chat completion requests)",
            self.upstream_requests
        );
    }

    fn print_overhead(&self, o: &Overhead) {
        println!();
        println!(
            "### Pass-through overhead on /v1/chat/completions ({} streamed chunks from the mock; \
             aos: model aos-cfo, retrieval and routing off; added = column minus direct at the same load)",
            self.chunks
        );
        if let Some(error) = &o.error {
            println!("failed: {error}");
            return;
        }
        if let Some(note) = &self.litellm_note {
            println!("LiteLLM {note}");
        }
        println!();
        println!("| load | measure | direct | aos | LiteLLM |");
        println!("| --- | --- | --- | --- | --- |");
        for concurrency in [1, self.concurrency] {
            let load = if concurrency == 1 {
                "1 stream".to_owned()
            } else {
                format!("{concurrency} streams")
            };
            print_load(&load, &|column| o.at(concurrency, column));
        }
        if !o.paced.is_empty() {
            let load = format!(
                "{} streams, chunks {} ms apart",
                self.concurrency, self.paced_gap_ms
            );
            print_load(&load, &|column| {
                o.paced
                    .iter()
                    .find(|(name, _)| name == column)
                    .map(|(_, m)| m)
            });
        }
        let highest: Vec<String> = COLUMNS[1..]
            .iter()
            .map(|c| match o.sweep.iter().find(|(name, _)| name == c) {
                None => "—".to_owned(),
                Some((_, points)) => {
                    let best = points
                        .iter()
                        .filter(|p| p.errors == 0)
                        .min_by(|a, b| a.added_p99_ms.total_cmp(&b.added_p99_ms));
                    match (highest_passing(points), best) {
                        (Some(rate), _) => format!("{rate:.0}/s"),
                        (None, Some(p)) => format!(
                            "none (lowest added p99: {:+.1} ms at {:.0}/s)",
                            p.added_p99_ms, p.rate
                        ),
                        (None, None) => "none".to_owned(),
                    }
                }
            })
            .collect();
        println!(
            "| open loop | highest rate with added p99 < {ADDED_P99_LIMIT_MS} ms | | {} |",
            highest.join(" | ")
        );
        for (concurrency, column, m) in &o.loads {
            if m.errors > 0 {
                println!(
                    "{column} at {concurrency}: {} of {} failed, e.g. {}",
                    m.errors,
                    m.requests,
                    m.first_error.as_deref().unwrap_or("?")
                );
            }
        }
        self.print_breakdown(o);
        print_sweep(o);
    }

    fn print_breakdown(&self, o: &Overhead) {
        let (Some(gw), Some(base)) = (o.at(1, "aos"), o.at(1, "direct")) else {
            return;
        };
        let stage =
            |f: fn(&super::sse::StageTimings) -> f64| Summary::of(gw.timings.iter().map(f)).p50;
        println!();
        println!(
            "Where the gateway's time goes (1 stream, medians; the prompt was classified as {}, \
             {} tool call(s), retrieval {}):",
            o.intent.as_deref().unwrap_or("?"),
            o.tool_calls,
            if o.retrieved { "ran" } else { "off" }
        );
        println!(
            "- first byte (auth, rate limits, conversation and message rows, idempotency, message.start): {:.2} ms",
            gw.ttfb.p50
        );
        println!(
            "- server timings_ms: classify {:.0} ms, tools {:.0} ms, first_token {:.0} ms (pipeline start to first token, LLM included), total {:.0} ms",
            stage(|t| t.classify),
            stage(|t| t.tools),
            stage(|t| t.first_token),
            stage(|t| t.total)
        );
        println!(
            "- client: first token {:.2} ms, last byte {:.2} ms (direct: {:.2} / {:.2} ms)",
            gw.ttft.p50, gw.ttlb.p50, base.ttft.p50, base.ttlb.p50
        );
    }

    fn print_density(&self, d: &Density) {
        println!();
        println!("### WebSocket density");
        for note in &d.notes {
            println!("note: {note}");
        }
        println!();
        println!("| measure | figure |");
        println!("| --- | --- |");
        match &d.idle {
            Some(Ok(idle)) => {
                println!(
                    "| memory per idle connection | **{}** ({} of {} connections open, {} failed; server RSS {:.0} → {:.0} MiB; {}/{} answered a ping; opened in {:.1} s) |",
                    kib(idle.bytes_per_connection()),
                    idle.opened,
                    idle.requested,
                    idle.failed,
                    idle.rss_before_kib as f64 / 1024.0,
                    idle.rss_after_kib as f64 / 1024.0,
                    idle.alive.0,
                    idle.alive.1,
                    idle.connect_secs
                );
                if let Some(e) = &idle.first_error {
                    println!("| first connection error | {e} |");
                }
            }
            Some(Err(e)) => println!("| memory per idle connection | failed: {e} |"),
            None => {}
        }
        match &d.streaming {
            Some(Ok(s)) => {
                println!(
                    "| streaming sessions ({} chunks {} ms apart) | **{}/{} completed**; {} lost, {} out of order, {} wrong texts, {} errors; {} events |",
                    self.session_chunks,
                    self.session_gap_ms,
                    s.completed,
                    s.sessions,
                    s.gaps,
                    s.out_of_order,
                    s.text_mismatches,
                    s.errors,
                    s.events
                );
                println!(
                    "| sessions streaming at the same moment (peak) | {} |",
                    s.peak_streaming
                );
                println!(
                    "| session first token p50 / p99; whole session p50 / p99 | {:.0} / {:.0} ms; {:.0} / {:.0} ms (all done in {:.1} s) |",
                    s.ttft.p50, s.ttft.p99, s.duration.p50, s.duration.p99, s.wall_secs
                );
                println!(
                    "| server RSS peak during the sessions | {:.0} MiB |",
                    s.rss_peak_kib as f64 / 1024.0
                );
                if let Some(e) = &s.first_error {
                    println!("| first error | {e} |");
                }
            }
            Some(Err(e)) => println!("| streaming sessions | failed: {e} |"),
            None => {}
        }
        if let (Some(before), Some(after), Some((settled, secs))) = (
            d.connections_before,
            d.connections_after,
            d.connections_settled,
        ) {
            println!(
                "| client connections the server holds: before, as the clients closed, {secs:.0} s later | {before}, {after}, {settled} |"
            );
        }
    }
}

fn print_sweep(o: &Overhead) {
    let Some((_, direct)) = o.sweep.first() else {
        return;
    };
    println!();
    println!("Open-loop sweep (time to last byte p99; added in brackets):");
    println!();
    let names: Vec<&str> = o.sweep.iter().map(|(n, _)| n.as_str()).collect();
    println!("| rate | {} |", names.join(" | "));
    println!("|{}", " --- |".repeat(names.len() + 1));
    for (i, base) in direct.iter().enumerate() {
        let cells: Vec<String> = o
            .sweep
            .iter()
            .map(|(name, points)| match points.get(i) {
                Some(p) if name == "direct" => format!("{:.2} ms", p.p99_ms),
                Some(p) => format!(
                    "{:.2} ms ({:+.2}){}",
                    p.p99_ms,
                    p.added_p99_ms,
                    if p.errors > 0 {
                        format!(", {} errors", p.errors)
                    } else {
                        String::new()
                    }
                ),
                None => "not run".to_owned(),
            })
            .collect();
        println!(
            "| {:.0}/s (achieved {:.0}/s) | {} |",
            base.rate,
            base.achieved,
            cells.join(" | ")
        );
    }
}

fn print_pipeline(p: &Result<PipelineReport, String>) {
    println!();
    println!("### Pipeline before the first token");
    let p = match p {
        Ok(p) => p,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    println!(
        "{} chunks in the tenant's index; {} turns one at a time (\"Find our internal policy \
         document on <query>\" for the data set's queries); measured: the {} that retrieved and \
         called no tool ({} called a tool); {} errors{}",
        p.chunks,
        p.turns,
        p.measured,
        p.with_tools,
        p.errors,
        p.first_error
            .as_deref()
            .map(|e| format!(", e.g. {e}"))
            .unwrap_or_default()
    );
    println!();
    println!("| measure | p50 | p95 | p99 |");
    println!("| --- | --- | --- | --- |");
    let row = |name: &str, s: &Summary| {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            s.p50, s.p95, s.p99
        );
    };
    row(
        "**first token** (server `timings_ms.first_token`, 1 ms resolution)",
        &p.first_token,
    );
    row("classify", &p.classify);
    row("retrieve (query embedding + hybrid search)", &p.retrieve);
    row("client: request sent → first text", &p.client_ttft);
}
