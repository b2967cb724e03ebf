// Upload a document with progress (XHR), title, tags and persona scopes.

import { type FormEvent, useId, useRef, useState } from "react";
import { describeError } from "../../api/errors";
import { useApi } from "../../app/context";
import { PERSONAS } from "../../chat/protocol";
import { personaLabel } from "../../format";

const ACCEPT = ".md,.markdown,.txt,.html,.htm,.pdf,.docx,.csv";

export function UploadForm({ onUploaded }: { onUploaded: () => void }) {
  const api = useApi();
  const fileRef = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [tags, setTags] = useState("");
  const [personas, setPersonas] = useState<string[]>([]);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { file: useId(), title: useId(), tags: useId() };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    if (title.trim()) form.append("title", title.trim());
    if (tags.trim()) form.append("tags", tags.trim());
    if (personas.length > 0) form.append("personas", personas.join(","));
    setProgress(0);
    setError(null);
    setResult(null);
    try {
      const res = await api.uploadDocument(form, setProgress);
      setResult(`${res.document.title}: ${res.status} (${res.document.chunk_count ?? 0} chunks)`);
      setFile(null);
      setTitle("");
      if (fileRef.current) fileRef.current.value = "";
      onUploaded();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setProgress(null);
    }
  }

  return (
    <form className="stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor={ids.file}>File</label>
        <input
          id={ids.file}
          ref={fileRef}
          type="file"
          accept={ACCEPT}
          className="input"
          data-testid="upload-input"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <span className="muted small">Markdown, text, HTML, PDF, DOCX or CSV.</span>
      </div>
      <div className="field">
        <label htmlFor={ids.title}>Title (optional)</label>
        <input
          id={ids.title}
          className="input"
          value={title}
          maxLength={500}
          data-testid="upload-title"
          onChange={(e) => setTitle(e.target.value)}
          placeholder={file?.name ?? ""}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.tags}>Tags (comma-separated)</label>
        <input
          id={ids.tags}
          className="input"
          value={tags}
          data-testid="upload-tags"
          onChange={(e) => setTags(e.target.value)}
        />
      </div>
      <fieldset className="field field--inline">
        <legend>Visible to personas (none: all)</legend>
        {PERSONAS.map((p) => (
          <label key={p} className="check">
            <input
              type="checkbox"
              checked={personas.includes(p)}
              onChange={(e) =>
                setPersonas((cur) => (e.target.checked ? [...cur, p] : cur.filter((x) => x !== p)))
              }
            />
            {personaLabel(p)}
          </label>
        ))}
      </fieldset>
      <div className="row">
        <button
          type="submit"
          className="button button--primary"
          disabled={!file || progress !== null}
          data-testid="upload-button"
        >
          {progress !== null ? "Uploading…" : "Upload"}
        </button>
        {progress !== null && (
          <progress
            className="progress"
            max={1}
            value={progress}
            aria-label="Upload progress"
            data-testid="upload-progress"
          />
        )}
      </div>
      {result && (
        <p className="success-note" role="status" data-testid="upload-result">
          {result}
        </p>
      )}
      {error && (
        <p className="error-note" role="alert" data-testid="upload-error">
          {error}
        </p>
      )}
    </form>
  );
}
