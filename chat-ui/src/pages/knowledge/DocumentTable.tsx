// The tenant's documents, with a two-step delete for analysts and above.

import { useState } from "react";
import type { KnowledgeDocument } from "../../api/types";
import { useApi } from "../../app/context";
import { ErrorNote } from "../../components/ErrorNote";
import { bytes, personaLabel, relativeTime } from "../../format";

export function DocumentTable({
  documents,
  canEdit,
  onDeleted,
}: {
  documents: KnowledgeDocument[];
  canEdit: boolean;
  onDeleted: () => void;
}) {
  const api = useApi();
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function remove(id: string) {
    setError(null);
    try {
      await api.deleteDocument(id);
      setConfirming(null);
      onDeleted();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <ErrorNote error={error} prefix="Could not delete" />
      <div className="table-wrap" role="region" aria-label="Documents" tabIndex={0}>
        <table className="data-table" data-testid="documents-table">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Format</th>
              <th scope="col">Chunks</th>
              <th scope="col">Size</th>
              <th scope="col">Tags</th>
              <th scope="col">Updated</th>
              {canEdit && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {documents.map((d) => (
              <tr key={d.id} data-testid="document-row">
                <td>{d.title}</td>
                <td>{d.format ?? "–"}</td>
                <td>{d.chunk_count ?? "–"}</td>
                <td>{bytes(d.byte_size)}</td>
                <td>{[...(d.tags ?? []), ...(d.personas ?? []).map(personaLabel)].join(", ") || "–"}</td>
                <td>{relativeTime(d.updated_at ?? d.created_at)}</td>
                {canEdit && (
                  <td className="cell-actions">
                    {confirming === d.id ? (
                      <>
                        <button
                          type="button"
                          className="button button--danger button--small"
                          onClick={() => remove(d.id)}
                          data-testid="confirm-delete"
                        >
                          Delete
                        </button>
                        <button
                          type="button"
                          className="button button--small"
                          onClick={() => setConfirming(null)}
                        >
                          Keep
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        className="button button--small"
                        aria-label={`Delete ${d.title}`}
                        onClick={() => setConfirming(d.id)}
                        data-testid="delete-document"
                      >
                        Delete
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
