//! What the bot shows in Slack: answers as Block Kit (sections, citations as
//! a context block, the persona used), approval cards with Approve and Reject
//! buttons, and the Markdown → Slack `mrkdwn` conversion they need.

use personas::{Intent, Persona};
use serde_json::{Value, json};
use tools::{Approval, ApprovalStatus};

use super::web::Message;
use crate::gateway::events::Citation;

/// `action_id`s of the approval card's buttons.
pub const APPROVE_ACTION: &str = "aos_approval_approve";
pub const REJECT_ACTION: &str = "aos_approval_reject";

/// Slack's limit for a section's text is 3000 characters.
const SECTION_CHARS: usize = 2900;
/// A message may have 50 blocks; a few are kept for citations and persona.
const MAX_SECTIONS: usize = 40;
/// Citations shown (a context block holds at most 10 elements).
const MAX_CITATIONS: usize = 9;

/// Escapes the three characters Slack reserves in text.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Undoes Slack's escaping of user text (`&amp;`, `&lt;`, `&gt;`).
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Markdown as the gateway writes it → Slack `mrkdwn`: `**bold**` → `*bold*`,
/// headings → bold lines, `- item` → `• item`, `[text](url)` → `<url|text>`.
pub fn to_mrkdwn(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_code = false;
    for line in markdown.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if body.trim_start().starts_with("```") {
            in_code = !in_code;
            out.push_str("```");
            out.push_str(newline);
            continue;
        }
        if in_code {
            out.push_str(&escape(body));
            out.push_str(newline);
            continue;
        }
        let trimmed = body.trim_start();
        let converted = if let Some(heading) = heading_text(trimmed) {
            format!("*{}*", inline(heading).replace('*', ""))
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            let indent = &body[..body.len() - trimmed.len()];
            format!("{indent}• {}", inline(item))
        } else {
            inline(body)
        };
        out.push_str(&converted);
        out.push_str(newline);
    }
    out
}

fn heading_text(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) {
        line[hashes..].strip_prefix(' ').map(str::trim)
    } else {
        None
    }
}

/// Inline Markdown of one line: escape, links, bold.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let linked = links(&escaped);
    linked.replace("**", "*").replace("__", "_")
}

/// `[text](http…)` → `<http…|text>`.
fn links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let parsed = after.find("](").and_then(|close| {
            let label = &after[..close];
            let target = &after[close + 2..];
            let end = target.find(')')?;
            let url = &target[..end];
            (url.starts_with("http://") || url.starts_with("https://")).then_some((
                label,
                url,
                open + 1 + close + 2 + end + 1,
            ))
        });
        match parsed {
            Some((label, url, consumed)) => {
                out.push_str(&rest[..open]);
                out.push_str(&format!("<{url}|{label}>"));
                rest = &rest[consumed..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits text into pieces of at most `max` characters, at line ends where
/// possible.
fn chunks(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if current.chars().count() + line.chars().count() > max && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if line.chars().count() > max {
            let chars: Vec<char> = line.chars().collect();
            for part in chars.chunks(max) {
                pieces.push(part.iter().collect());
            }
        } else {
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        pieces.push(current);
    }
    pieces
}

fn sections(mrkdwn: &str) -> Vec<Value> {
    chunks(mrkdwn, SECTION_CHARS)
        .into_iter()
        .take(MAX_SECTIONS)
        .filter(|p| !p.trim().is_empty())
        .map(|p| json!({"type": "section", "text": {"type": "mrkdwn", "text": p}}))
        .collect()
}

fn context(elements: Vec<String>) -> Value {
    json!({
        "type": "context",
        "elements": elements.into_iter().map(|t| json!({"type": "mrkdwn", "text": t})).collect::<Vec<_>>()
    })
}

/// Fallback text of a message (notifications, screen readers): at most
/// 3000 characters of it.
fn fallback(text: &str) -> String {
    let mut out: String = text.chars().take(3000).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The placeholder posted as soon as a question arrives.
pub fn placeholder() -> Message {
    Message {
        text: "Thinking…".into(),
        blocks: Some(json!([context(vec![
            ":hourglass_flowing_sand: _Thinking…_".into()
        ])])),
    }
}

/// The answer so far, while it is still being written.
pub fn progress(answer: &str) -> Message {
    let mrkdwn = to_mrkdwn(answer);
    let mut blocks = sections(&mrkdwn);
    blocks.push(context(vec![":writing_hand: _still writing…_".into()]));
    Message {
        text: fallback(answer),
        blocks: Some(Value::Array(blocks)),
    }
}

/// What the finished answer says about how it was made.
#[derive(Debug, Clone, Default)]
pub struct AnswerMeta<'a> {
    pub persona: Option<Persona>,
    pub intent: Option<Intent>,
    pub citations: &'a [Citation],
    /// The turn failed: why, as the gateway put it.
    pub error: Option<&'a str>,
}

/// The finished answer: the full text, citations as a context block and the
/// persona used.
pub fn final_answer(answer: &str, meta: &AnswerMeta<'_>) -> Message {
    let mut body = answer.trim().to_owned();
    if let Some(error) = meta.error {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&format!(":warning: {error}"));
    }
    if body.is_empty() {
        body = "_(no answer)_".into();
    }
    let mut blocks = sections(&to_mrkdwn(&body));
    let cited: Vec<&Citation> = meta
        .citations
        .iter()
        .filter(|c| answer.contains(&format!("[{}]", c.n)))
        .take(MAX_CITATIONS)
        .collect();
    if !cited.is_empty() {
        let mut elements = vec!["*Sources*".to_owned()];
        elements.extend(cited.iter().map(|c| {
            let snippet: String = c.snippet.chars().take(150).collect();
            format!(
                "[{}] *{}* — {}",
                c.n,
                escape(&c.title),
                escape(snippet.trim())
            )
        }));
        blocks.push(context(elements));
    }
    let mut about = Vec::new();
    if let Some(persona) = meta.persona {
        about.push(format!(
            "Answered as the *{}* persona",
            persona.as_str().to_uppercase()
        ));
    }
    if let Some(intent) = meta.intent {
        about.push(format!("intent `{}`", intent.as_str()));
    }
    if !about.is_empty() {
        blocks.push(context(vec![about.join(" · ")]));
    }
    Message {
        text: fallback(&body),
        blocks: Some(Value::Array(blocks)),
    }
}

/// An approval card: what would happen, and Approve / Reject buttons whose
/// value is the approval's id.
pub fn approval_card(
    approval_id: uuid::Uuid,
    action: &str,
    summary: &str,
    expires: &str,
) -> Message {
    let id = approval_id.to_string();
    let blocks = json!([
        {"type": "section", "block_id": format!("aos_approval:{id}"),
         "text": {"type": "mrkdwn", "text": format!(":raised_hand: *Approval needed*\n{}", escape(summary))}},
        context(vec![format!("Action `{}` · expires {} · id `{id}`", escape(action), escape(expires))]),
        {"type": "actions", "block_id": format!("aos_approval_actions:{id}"), "elements": [
            {"type": "button", "action_id": APPROVE_ACTION, "style": "primary", "value": id,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": REJECT_ACTION, "style": "danger", "value": id,
             "text": {"type": "plain_text", "text": "Reject"},
             "confirm": {"title": {"type": "plain_text", "text": "Reject this action?"},
                         "text": {"type": "plain_text", "text": "It will not run."},
                         "confirm": {"type": "plain_text", "text": "Reject"},
                         "deny": {"type": "plain_text", "text": "Cancel"}}}
        ]}
    ]);
    Message {
        text: format!("Approval needed: {summary}"),
        blocks: Some(blocks),
    }
}

/// The card once decided: the outcome instead of the buttons.
pub fn approval_outcome(approval: &Approval, by: Option<&str>) -> Message {
    let (icon, verb) = match approval.status {
        ApprovalStatus::Executed => (":white_check_mark:", "Approved and carried out"),
        ApprovalStatus::Approved => (":white_check_mark:", "Approved"),
        ApprovalStatus::Rejected => (":no_entry_sign:", "Rejected"),
        ApprovalStatus::Failed => (":x:", "Approved, but it failed"),
        ApprovalStatus::Expired => (":hourglass:", "Expired"),
        ApprovalStatus::Pending => (":raised_hand:", "Still pending"),
    };
    let by = by.map(|b| format!(" by {}", escape(b))).unwrap_or_default();
    let mut lines = vec![format!("{icon} *{verb}*{by}"), escape(&approval.summary)];
    if let Some(result) = approval
        .result
        .as_ref()
        .and_then(|r| r.get("summary"))
        .and_then(Value::as_str)
    {
        lines.push(format!("Result: {}", escape(result)));
    }
    if let Some(error) = &approval.error {
        lines.push(format!("Error: {}", escape(error)));
    }
    let text = lines.join("\n");
    Message {
        text: format!("{verb}{by}: {}", approval.summary),
        blocks: Some(json!([
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            context(vec![format!("Action `{}` · id `{}`", escape(&approval.action), approval.id)])
        ])),
    }
}

/// Said to a Slack user who is not linked to a platform user yet.
pub fn not_linked(team_id: &str, slack_user_id: &str) -> String {
    format!(
        "I don't know who you are in AutonomOS yet, so I can't answer or act for you. \
         Ask an admin of your AutonomOS tenant to link your Slack account: \
         `aos slack map-user --tenant <tenant id> --team-id {team_id} --slack-user {slack_user_id} --email <your email>` \
         or `PUT /api/v1/slack/users` with `{{\"team_id\": \"{team_id}\", \"slack_user_id\": \"{slack_user_id}\", \"email\": …}}`."
    )
}

/// How to use the bot.
pub fn help() -> String {
    "Ask me anything about your company's data, platform and documents: mention me in a channel, \
     message me directly, or use `/aos <question>`. `/aos approvals` lists the approvals waiting for you."
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_mrkdwn() {
        assert_eq!(
            to_mrkdwn("## Spend\n**Up 30%** on [the bill](https://x.example/b) & more\n- one\n"),
            "*Spend*\n*Up 30%* on <https://x.example/b|the bill> &amp; more\n• one\n"
        );
        assert_eq!(to_mrkdwn("a < b [1]"), "a &lt; b [1]");
        assert_eq!(to_mrkdwn("```\nx<y\n```"), "```\nx&lt;y\n```");
    }

    #[test]
    fn long_answers_are_split_into_sections() {
        let long = "word ".repeat(2000);
        let message = progress(&long);
        let blocks = message.blocks.unwrap_or_default();
        let sections = blocks
            .as_array()
            .map(|b| b.iter().filter(|b| b["type"] == "section").count())
            .unwrap_or(0);
        assert!(sections >= 4, "{sections}");
        for block in blocks.as_array().into_iter().flatten() {
            if let Some(text) = block["text"]["text"].as_str() {
                assert!(text.chars().count() <= 3000);
            }
        }
    }

    #[test]
    fn the_final_answer_cites_only_what_it_used_and_names_the_persona() {
        let citation = |n: usize| Citation {
            n,
            document_id: uuid::Uuid::nil(),
            chunk_id: uuid::Uuid::nil(),
            title: format!("Doc {n}"),
            snippet: "snippet".into(),
            score: 1.0,
            scores: crate::gateway::events::CitationScores {
                vector_rank: None,
                lexical_rank: None,
                fused: 1.0,
                vector_similarity: None,
                bm25: None,
            },
        };
        let citations = [citation(1), citation(2)];
        let message = final_answer(
            "It is 30% [1].",
            &AnswerMeta {
                persona: Some(Persona::Cfo),
                intent: Some(Intent::KnowledgeQuery),
                citations: &citations,
                error: None,
            },
        );
        let json = message.blocks.unwrap_or_default().to_string();
        assert!(json.contains("Doc 1") && !json.contains("Doc 2"), "{json}");
        assert!(json.contains("CFO"), "{json}");
    }

    #[test]
    fn unescape_reverses_slacks_escaping() {
        assert_eq!(unescape("a &lt;b&gt; &amp;amp;"), "a <b> &amp;");
    }
}
