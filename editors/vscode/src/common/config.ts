/**
 * The extension's settings as one typed value.
 *
 * VS Code hands us whatever the user typed in settings.json; `parseSettings` turns it into
 * `NexusSettings`, replacing each invalid value by its default and saying which key was wrong, so one
 * typo never stops the server from starting. `DEFAULTS` must match `contributes.configuration` in
 * package.json (a unit test checks).
 */

export type AskOutput = "panel" | "document";
export type RunOutput = "outputChannel" | "terminal";
export type Trace = "off" | "messages" | "verbose";

export interface NexusSettings {
  server: {
    command: string[];
    pythonPath: string;
    extraArgs: string[];
    env: Record<string, string>;
  };
  ai: {
    provider: string;
    chat: string;
    inline: string;
    edit: string;
  };
  inlineCompletion: {
    enabled: boolean;
    debounceMs: number;
  };
  ask: { output: AskOutput };
  run: { output: RunOutput; timeout: number };
  search: { limit: number };
  trace: { server: Trace };
  collab: { gateway: string; user: string };
}

export const DEFAULTS: NexusSettings = {
  server: { command: [], pythonPath: "", extraArgs: [], env: {} },
  ai: { provider: "", chat: "", inline: "", edit: "" },
  inlineCompletion: { enabled: true, debounceMs: 250 },
  ask: { output: "panel" },
  run: { output: "outputChannel", timeout: 60 },
  search: { limit: 50 },
  trace: { server: "off" },
  collab: { gateway: "ws://127.0.0.1:4000", user: "" },
};

/** Reads one dotted key below `nexus.` (e.g. "server.command"); undefined when unset. */
export type SettingReader = (key: string) => unknown;

export interface ParsedSettings {
  settings: NexusSettings;
  /** One message per invalid value, naming the key; the default was used instead. */
  problems: string[];
}

const ROLE = /^[A-Za-z0-9_.-]+(:.+)?$/;

export function parseSettings(read: SettingReader): ParsedSettings {
  const problems: string[] = [];
  const bad = (key: string, value: unknown, expected: string): void => {
    problems.push(`nexus.${key}: ${JSON.stringify(value)} is not ${expected}; using the default`);
  };
  const str = (key: string, fallback: string, pattern?: RegExp, expected = "a string"): string => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || (value !== "" && pattern && !pattern.test(value))) {
      bad(key, value, expected);
      return fallback;
    }
    return value.trim();
  };
  const strList = (key: string, fallback: string[]): string[] => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      bad(key, value, "a list of strings");
      return fallback;
    }
    return value as string[];
  };
  const num = (key: string, fallback: number, min: number, max: number): number => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      bad(key, value, `a number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") {
      bad(key, value, "true or false");
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(key: string, fallback: T, choices: readonly T[]): T => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      bad(key, value, `one of ${choices.join(", ")}`);
      return fallback;
    }
    return value as T;
  };
  const env = (): Record<string, string> => {
    const value = read("server.env");
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value) ||
        !Object.values(value as object).every((v) => typeof v === "string")) {
      bad("server.env", value, "an object of string values");
      return {};
    }
    return { ...(value as Record<string, string>) };
  };
  const roleHint = 'a provider name or "provider:model"';

  const d = DEFAULTS;
  const settings: NexusSettings = {
    server: {
      command: strList("server.command", d.server.command),
      pythonPath: str("server.pythonPath", d.server.pythonPath),
      extraArgs: strList("server.extraArgs", d.server.extraArgs),
      env: env(),
    },
    ai: {
      provider: str("ai.provider", d.ai.provider, /^[A-Za-z0-9_.-]+$/, "a provider name"),
      chat: str("ai.chat", d.ai.chat, ROLE, roleHint),
      inline: str("ai.inline", d.ai.inline, ROLE, roleHint),
      edit: str("ai.edit", d.ai.edit, ROLE, roleHint),
    },
    inlineCompletion: {
      enabled: bool("inlineCompletion.enabled", d.inlineCompletion.enabled),
      debounceMs: num("inlineCompletion.debounceMs", d.inlineCompletion.debounceMs, 0, 5000),
    },
    ask: { output: oneOf("ask.output", d.ask.output, ["panel", "document"] as const) },
    run: {
      output: oneOf("run.output", d.run.output, ["outputChannel", "terminal"] as const),
      timeout: num("run.timeout", d.run.timeout, 0, 86400),
    },
    search: { limit: num("search.limit", d.search.limit, 1, 1000) },
    trace: { server: oneOf("trace.server", d.trace.server, ["off", "messages", "verbose"] as const) },
    collab: {
      gateway: str("collab.gateway", d.collab.gateway, /^wss?:\/\/[^/\s]+/, "a ws:// or wss:// address"),
      user: str("collab.user", d.collab.user),
    },
  };
  return { settings, problems };
}

/**
 * The environment for the server process: the editor's own, plus the AI roles as the
 * `NEXUS_PROVIDERS_<ROLE>` variables the engine reads (docs/providers.md), plus `server.env`.
 * An empty setting leaves the variable as it was, so a user's shell configuration still counts.
 */
export function serverEnv(settings: NexusSettings, base: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined) env[key] = value;
  }
  const { provider, chat, inline, edit } = settings.ai;
  const roles: Array<[string, string]> = [["CHAT", chat], ["INLINE", inline], ["EDIT", edit]];
  for (const [role, value] of roles) {
    const chosen = value || provider;
    if (chosen) env[`NEXUS_PROVIDERS_${role}`] = chosen;
  }
  Object.assign(env, settings.server.env);
  return env;
}

/** Settings whose change needs a new server process (the others are read when used). */
export function needsRestart(before: NexusSettings, after: NexusSettings): boolean {
  return JSON.stringify([before.server, before.ai]) !== JSON.stringify([after.server, after.ai]);
}
