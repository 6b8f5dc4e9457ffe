// A node:test reporter writing one JSON line per finished test, so that pytest can report each
// protocol test (and its skip reason) on its own.
export default async function* jsonReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { name, nesting, skip, todo, details } = event.data;
    const error = details?.error;
    yield JSON.stringify({
      name,
      nesting,
      outcome: event.type === "test:fail" ? "failed" : skip !== undefined && skip !== false ? "skipped" : "passed",
      reason: typeof skip === "string" ? skip : typeof todo === "string" ? todo : undefined,
      error: error ? String(error.cause?.stack ?? error.cause ?? error.message ?? error) : undefined,
    }) + "\n";
  }
}
