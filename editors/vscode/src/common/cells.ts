/**
 * `# %%` cells (the percent format of Jupytext, Spyder and VS Code's Python Interactive window).
 *
 * A line whose comment starts with `%%` opens a cell that runs to the line before the next marker.
 * Lines before the first marker form a cell of their own when they hold any code; a file with no
 * marker is one cell. `# %% [markdown]` cells are text, which Run Cell skips.
 */

export type CellKind = "code" | "markdown";

export interface Cell {
  /** The marker line, or the first line of the file for the cell before any marker. */
  startLine: number;
  /** Last line of the cell, inclusive. */
  endLine: number;
  /** First line of the cell's body (after its marker). */
  bodyStartLine: number;
  kind: CellKind;
  /** Text after `%%` on the marker line, without a `[markdown]` tag. */
  title: string;
  hasMarker: boolean;
}

const SLASH_LANGUAGES = new Set([
  "javascript", "javascriptreact", "typescript", "typescriptreact", "java", "c", "cpp", "csharp", "go", "rust",
]);

/** The comment leader for cell markers in `languageId` (`#` unless the language comments with `//`). */
export function commentLeader(languageId: string): string {
  return SLASH_LANGUAGES.has(languageId) ? "//" : "#";
}

function markerPattern(languageId: string): RegExp {
  const leader = commentLeader(languageId).replace(/\//g, "\\/");
  return new RegExp(`^\\s*${leader}\\s*%%(.*)$`);
}

export function findCells(lines: readonly string[], languageId = "python"): Cell[] {
  const pattern = markerPattern(languageId);
  const markers: Array<{ line: number; rest: string }> = [];
  lines.forEach((text, line) => {
    const match = pattern.exec(text);
    if (match) markers.push({ line, rest: match[1] ?? "" });
  });
  const last = Math.max(lines.length - 1, 0);
  if (markers.length === 0) {
    return [{ startLine: 0, endLine: last, bodyStartLine: 0, kind: "code", title: "", hasMarker: false }];
  }
  const cells: Cell[] = [];
  const first = markers[0]!.line;
  if (lines.slice(0, first).some((l) => l.trim() !== "")) {
    cells.push({ startLine: 0, endLine: first - 1, bodyStartLine: 0, kind: "code", title: "", hasMarker: false });
  }
  markers.forEach((marker, i) => {
    const end = i + 1 < markers.length ? markers[i + 1]!.line - 1 : last;
    const tag = /\[\s*(markdown|md)\s*\]/i.exec(marker.rest);
    const title = marker.rest.replace(/\[[^\]]*\]/g, "").trim();
    cells.push({
      startLine: marker.line,
      endLine: end,
      bodyStartLine: Math.min(marker.line + 1, end + 1),
      kind: tag ? "markdown" : "code",
      title,
      hasMarker: true,
    });
  });
  return cells;
}

/** The cell containing `line`, or undefined when `line` is outside the text. */
export function cellAt(lines: readonly string[], line: number, languageId = "python"): Cell | undefined {
  if (line < 0 || line >= Math.max(lines.length, 1)) return undefined;
  return findCells(lines, languageId).find((c) => c.startLine <= line && line <= c.endLine);
}

/** The code a cell runs: its body lines, trailing blank lines dropped. */
export function cellSource(lines: readonly string[], cell: Cell): string {
  const body = lines.slice(cell.bodyStartLine, cell.endLine + 1);
  while (body.length > 0 && body[body.length - 1]!.trim() === "") body.pop();
  return body.join("\n");
}

/** The next code cell after the one containing `line` (for "Run Cell and Advance"). */
export function nextCodeCell(lines: readonly string[], line: number, languageId = "python"): Cell | undefined {
  return findCells(lines, languageId).find((c) => c.startLine > line && c.kind === "code");
}
