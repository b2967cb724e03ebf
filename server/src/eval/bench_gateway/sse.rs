//! One streamed request, timed from the client: time to first byte, to the
//! first token of text and to the last byte. Reads OpenAI `chat.completion.chunk`
//! events (with the gateway's `aos` extension when present) and the gateway's
//! own SSE events (`POST /api/v1/chat`).

use axum::body::Bytes;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Where to send a request, and what.
#[derive(Clone)]
pub struct Target {
    pub name: &'static str,
    pub url: String,
    pub bearer: Option<String>,
    pub body: Bytes,
}

/// The stage timings the gateway reports in `message.end`, in ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub classify: f64,
    pub retrieve: f64,
    pub tools: f64,
    pub first_token: f64,
    pub total: f64,
}

/// One request as the client saw it; times are from the moment it was due.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub ok: bool,
    pub error: Option<String>,
    pub ttfb: Duration,
    pub ttft: Duration,
    pub ttlb: Duration,
    pub text: String,
    pub timings: Option<StageTimings>,
    /// A `retrieval` event was seen.
    pub retrieved: bool,
    /// The intent the gateway classified the turn as.
    pub intent: Option<String>,
    /// Tool calls the turn made.
    pub tool_calls: usize,
}

/// Sends `target` and reads its stream to the end. `due` is when the request
/// was meant to leave (so a late start counts against the server under
/// test only if the client was kept waiting by it); `expected` is the text
/// the answer must have.
pub async fn send(
    client: &reqwest::Client,
    target: &Target,
    due: Instant,
    expected: Option<&str>,
) -> Sample {
    let mut sample = Sample::default();
    let mut request = client
        .post(&target.url)
        .header("content-type", "application/json")
        .body(target.body.clone());
    if let Some(token) = &target.bearer {
        request = request.bearer_auth(token);
    }
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            sample.error = Some(format!("request failed: {e}"));
            return sample;
        }
    };
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        sample.error = Some(format!("{status}: {}", truncate(&body, 200)));
        return sample;
    }
    let mut pending = Vec::new();
    let mut first_byte = None;
    let mut first_token = None;
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                first_byte.get_or_insert_with(Instant::now);
                pending.extend_from_slice(&bytes);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let had_text = !sample.text.is_empty();
                    read_line(&line, &mut sample);
                    if !had_text && !sample.text.is_empty() {
                        first_token.get_or_insert_with(Instant::now);
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                sample.error = Some(format!("stream broke: {e}"));
                return sample;
            }
        }
    }
    let end = Instant::now();
    sample.ttlb = end - due;
    sample.ttfb = first_byte.unwrap_or(end) - due;
    sample.ttft = first_token.unwrap_or(end) - due;
    sample.ok = sample.error.is_none()
        && match expected {
            Some(text) => sample.text == text,
            None => !sample.text.is_empty(),
        };
    if !sample.ok && sample.error.is_none() {
        sample.error = Some(format!(
            "unexpected answer: {:?}",
            truncate(&sample.text, 120)
        ));
    }
    sample
}

/// One line of an SSE stream: text, stage timings and errors go to `sample`.
fn read_line(line: &[u8], sample: &mut Sample) {
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let Some(data) = line.trim_end().strip_prefix("data:") else {
        return;
    };
    let data = data.trim_start();
    if data == "[DONE]" || data.is_empty() {
        return;
    }
    let Ok(value) = serde_json::from_str::<Value>(data) else {
        return;
    };
    // The gateway's own event: top-level, or in a chunk's `aos` field.
    let event = if value.get("choices").is_some() {
        if let Some(text) = value["choices"][0]["delta"]["content"].as_str() {
            sample.text.push_str(text);
        }
        value.get("aos")
    } else {
        if value["type"] == "text.delta"
            && let Some(text) = value["text"].as_str()
        {
            sample.text.push_str(text);
        }
        Some(&value)
    };
    let Some(event) = event else {
        return;
    };
    match event["type"].as_str() {
        Some("retrieval") => sample.retrieved = true,
        Some("classification") => sample.intent = event["intent"].as_str().map(str::to_owned),
        Some("tool.call") => sample.tool_calls += 1,
        Some("message.end") => {
            let t = &event["timings_ms"];
            let ms = |k: &str| t[k].as_f64().unwrap_or(0.0);
            sample.timings = Some(StageTimings {
                classify: ms("classify"),
                retrieve: ms("retrieve"),
                tools: ms("tools"),
                first_token: ms("first_token"),
                total: ms("total"),
            });
        }
        Some("error") => {
            sample.error = Some(format!(
                "error event: {}",
                event["message"].as_str().unwrap_or("?")
            ));
        }
        _ => {}
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_chunks_and_gateway_events() {
        let mut sample = Sample::default();
        read_line(
            br#"data: {"choices":[{"delta":{"content":"w0 "}}],"aos":{"type":"text.delta","text":"w0 "}}"#,
            &mut sample,
        );
        read_line(
            br#"data: {"type":"text.delta","seq":3,"text":"w1 "}"#,
            &mut sample,
        );
        read_line(br#"data: {"type":"retrieval","citations":[]}"#, &mut sample);
        read_line(
            br#"data: {"choices":[{"delta":{}}],"aos":{"type":"message.end","timings_ms":{"classify":7,"retrieve":0,"tools":1,"first_token":9,"total":12}}}"#,
            &mut sample,
        );
        read_line(b"data: [DONE]", &mut sample);
        assert_eq!(sample.text, "w0 w1 ");
        assert!(sample.retrieved);
        let timings = sample.timings.unwrap_or_default();
        assert_eq!(timings.classify, 7.0);
        assert_eq!(timings.first_token, 9.0);
    }
}
