//! The servers under test, run as child processes of the bench: the real
//! `aos serve` (this same binary) and, when installed, LiteLLM's proxy. Each
//! listens on a free loopback port and is stopped when the bench ends.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `aos serve`.
pub struct AosServer {
    child: Child,
    pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl AosServer {
    /// Starts this binary as `aos serve` on a free port, with the parent's
    /// environment plus `env`; its log goes to `log`.
    pub async fn start(env: &[(&str, String)], log: &Path) -> Result<AosServer> {
        let exe = std::env::current_exe().context("cannot find the aos binary")?;
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env("AOS_BIND", "127.0.0.1:0")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start aos serve")?;
        let pid = child.id().context("aos serve exited at once")?;
        let stdout = child.stdout.take().context("no stdout from aos serve")?;
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("aos listening on ") {
                    return Ok::<_, std::io::Error>(Some(url.trim().to_owned()));
                }
            }
            Ok(None)
        })
        .await;
        let base_url = match listening {
            Ok(Ok(Some(url))) => url,
            _ => bail!("aos serve did not start; see its log at {}", log.display()),
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(AosServer {
            child,
            pid,
            base_url,
        })
    }

    /// Resident memory of the server process (VmRSS), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        status_kib(self.pid, "VmRSS:")
    }

    /// Connections clients hold to the server (TCP sockets of the process on
    /// its listening port, other than the listener), from /proc.
    pub fn client_connections(&self) -> Option<usize> {
        let port: u16 = self.base_url.rsplit(':').next()?.parse().ok()?;
        let inodes: std::collections::HashSet<String> =
            std::fs::read_dir(format!("/proc/{}/fd", self.pid))
                .ok()?
                .filter_map(|entry| {
                    let target = std::fs::read_link(entry.ok()?.path()).ok()?;
                    let target = target.to_str()?;
                    Some(
                        target
                            .strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_owned(),
                    )
                })
                .collect();
        let mut count = 0;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state), Some(inode)) =
                    (fields.get(1), fields.get(3), fields.get(9))
                else {
                    continue;
                };
                let local_port = local
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                // 0A is LISTEN.
                if local_port == Some(port) && *state != "0A" && inodes.contains(*inode) {
                    count += 1;
                }
            }
        }
        Some(count)
    }

    /// Asks it to stop (SIGTERM), then kills it after 10 s.
    pub async fn stop(mut self) {
        terminate(&mut self.child, &self.pid.to_string()).await;
    }
}

/// A running LiteLLM proxy.
pub struct LiteLlm {
    child: Child,
    pgid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The proxy's master key; requests authenticate with it, as they do
    /// with an API key at the gateway.
    pub master_key: String,
}

impl LiteLlm {
    /// Starts `litellm` (from `litellm[proxy]`) with one model, `mock`, served
    /// by the OpenAI-compatible `upstream`; waits until it answers.
    pub async fn start(
        litellm: &Path,
        upstream: &str,
        workers: usize,
        dir: &Path,
    ) -> Result<LiteLlm> {
        let config = dir.join("litellm.yaml");
        let master_key = format!("sk-bench-{}", uuid::Uuid::new_v4().simple());
        std::fs::write(
            &config,
            format!(
                "model_list:\n  - model_name: {model}\n    litellm_params:\n      model: openai/{model}\n      api_base: {upstream}\n      api_key: not-used\n\
                 litellm_settings:\n  drop_params: true\n  request_timeout: 120\n\
                 general_settings:\n  master_key: {master_key}\n",
                model = super::upstream::MODEL
            ),
        )
        .with_context(|| format!("cannot write {}", config.display()))?;
        let port = free_port()?;
        let log = dir.join("litellm.log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(litellm);
        // A clean environment: LiteLLM reads DATABASE_URL, REDIS_URL and the
        // like, which belong to aos here.
        command.env_clear();
        for name in ["PATH", "HOME", "LANG", "TMPDIR"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--num_workers", &workers.to_string()])
            // No network at start-up (the model cost map ships with the
            // package), no telemetry, quiet logs.
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("LITELLM_TELEMETRY", "False")
            .env("LITELLM_LOG", "ERROR")
            .env("NO_DOCS", "True")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            // Its own process group, so its workers stop with it.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot run {}", litellm.display()))?;
        let pgid = child.id().context("litellm exited at once")?;
        let base_url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                bail!("litellm exited ({status}): {}", log_tail(&log));
            }
            let ready = client
                .get(format!("{base_url}/health/liveliness"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if started.elapsed() > Duration::from_secs(180) {
                let mut proxy = LiteLlm {
                    child,
                    pgid,
                    base_url,
                    master_key,
                };
                proxy.kill_group().await;
                bail!("litellm did not answer within 180 s; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(LiteLlm {
            child,
            pgid,
            base_url,
            master_key,
        })
    }

    async fn kill_group(&mut self) {
        terminate(&mut self.child, &format!("-{}", self.pgid)).await;
    }

    /// Stops the proxy and its workers.
    pub async fn stop(mut self) {
        self.kill_group().await;
    }
}

/// SIGTERM to `target` (a pid, or `-pgid` for a process group), then SIGKILL
/// to the child if it has not exited within 10 s.
async fn terminate(child: &mut Child, target: &str) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", target])
        .status()
        .await;
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", target])
            .status()
            .await;
        let _ = child.kill().await;
    }
}

/// The last lines of a log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" / ")
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A `kB` field of /proc/<pid>/status.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
