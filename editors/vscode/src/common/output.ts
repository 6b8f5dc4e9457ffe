/** Kernel outputs (Jupyter's nbformat shapes, as `nexus/run` forwards them) as plain text. */

import type { OutputItem, RunResult } from "./protocol";

// Tracebacks from IPython carry terminal colours; an output channel shows them as garbage.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

function joined(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join("");
  return typeof value === "string" ? value : "";
}

/** The text to show for one output, ending with a newline unless empty. */
export function outputText(item: OutputItem): string {
  let text = "";
  switch (item.output_type) {
    case "stream":
      text = joined(item.text);
      break;
    case "execute_result":
    case "display_data": {
      const data = item.data ?? {};
      if ("text/plain" in data) text = joined(data["text/plain"]);
      else {
        const kinds = Object.keys(data);
        text = kinds.length ? `[${kinds.join(", ")} output]` : "";
      }
      break;
    }
    case "error":
      text = item.traceback?.length
        ? item.traceback.map(stripAnsi).join("\n")
        : `${item.ename ?? "Error"}: ${item.evalue ?? ""}`;
      break;
    default:
      text = joined(item.text);
  }
  text = stripAnsi(text);
  return text && !text.endsWith("\n") ? text + "\n" : text;
}

/** The closing line of a run: how it ended and how long it took. */
export function runSummary(result: RunResult): string {
  const seconds = result.executionTime >= 10 ? result.executionTime.toFixed(1) : result.executionTime.toFixed(3);
  return result.exitCode === 0 ? `[done in ${seconds} s]` : `[failed with exit code ${result.exitCode} after ${seconds} s]`;
}
