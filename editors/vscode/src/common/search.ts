/** Search hits (`nexus/search`) as the rows of a picker: what, where, and a preview line. */

import type { SearchHit, SearchMode } from "./protocol";

export interface PickRow {
  label: string;
  description: string;
  detail?: string;
  hit: SearchHit;
}

export function pickRows(hits: readonly SearchHit[], relative: (uri: string) => string): PickRow[] {
  return hits.map((hit) => {
    const where = `${relative(hit.uri)}:${hit.range.start.line + 1}`;
    const preview = (hit.preview ?? "").split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
    const label = hit.name ? (hit.kind ? `${hit.name} (${hit.kind})` : hit.name) : preview || where;
    return { label, description: where, detail: hit.name && preview ? preview : undefined, hit };
  });
}

/** `file:///work/a/b.py` relative to the first workspace folder that contains it, else the path. */
export function relativeTo(roots: readonly string[], uri: string): string {
  let path = uri;
  try {
    const parsed = new URL(uri);
    path = parsed.protocol === "file:" ? decodeURIComponent(parsed.pathname) : uri;
  } catch {
    return uri;
  }
  for (const root of roots) {
    const prefix = root.endsWith("/") ? root : root + "/";
    if (path.startsWith(prefix)) return path.slice(prefix.length);
  }
  return path;
}

/** The picker's query syntax: `#name` searches symbols, `/name` file names, anything else text. */
export function parseQuery(raw: string): { query: string; mode: SearchMode } {
  if (raw.startsWith("#")) return { query: raw.slice(1).trim(), mode: "symbols" };
  if (raw.startsWith("/")) return { query: raw.slice(1).trim(), mode: "files" };
  return { query: raw.trim(), mode: "text" };
}
