// Knowledge: upload documents (with progress), list and delete them, and
// preview what a search finds.

import { useState } from "react";
import { roleAtLeast } from "../../api/types";
import { useApi, useRole } from "../../app/context";
import { usePageTitle } from "../../app/usePageTitle";
import { ErrorNote } from "../../components/ErrorNote";
import { LiveDot, liveStateOf } from "../../components/LiveDot";
import { useAsync } from "../../components/useAsync";
import { DocumentTable } from "./DocumentTable";
import { SearchPreview } from "./SearchPreview";
import { UploadForm } from "./UploadForm";

const PAGE = 25;

export function KnowledgePage() {
  usePageTitle("Knowledge");
  const api = useApi();
  const canEdit = roleAtLeast(useRole(), "analyst");
  const [offset, setOffset] = useState(0);
  const docs = useAsync(() => api.documents(PAGE, offset), [offset]);

  return (
    <div className="page">
      <header className="page__head">
        <h1>Knowledge</h1>
        <LiveDot state={liveStateOf(docs.loading && !docs.data, docs.error, (docs.data?.total ?? 0) > 0)} />
      </header>
      <div className="grid-2">
        <section className="card" aria-labelledby="upload-title">
          <h2 id="upload-title">Upload</h2>
          {canEdit ? (
            <UploadForm onUploaded={docs.reload} />
          ) : (
            <p className="muted">Uploading needs the analyst role or above.</p>
          )}
        </section>
        <SearchPreview />
      </div>
      <section className="card" aria-labelledby="docs-title">
        <h2 id="docs-title">Documents {docs.data && <span className="muted">({docs.data.total})</span>}</h2>
        <ErrorNote error={docs.error} prefix="Could not load documents" />
        {docs.data && docs.data.documents.length === 0 && <p className="empty">No documents yet.</p>}
        {docs.data && docs.data.documents.length > 0 && (
          <DocumentTable documents={docs.data.documents} canEdit={canEdit} onDeleted={docs.reload} />
        )}
        {docs.data && docs.data.total > PAGE && (
          <div className="pager">
            <button
              type="button"
              className="button"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
            >
              Previous
            </button>
            <span className="muted small">
              {offset + 1}–{Math.min(offset + PAGE, docs.data.total)} of {docs.data.total}
            </span>
            <button
              type="button"
              className="button"
              disabled={offset + PAGE >= docs.data.total}
              onClick={() => setOffset(offset + PAGE)}
            >
              Next
            </button>
          </div>
        )}
      </section>
    </div>
  );
}
