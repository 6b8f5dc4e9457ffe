--- Options of nexus.nvim: defaults, validation, and what they mean for the server process.
---
--- `setup(opts)` merges the user's options over the defaults; an invalid value is reported once (one
--- message naming the option) and replaced by its default, so a typo never stops the server.

local M = {}

---@alias nexus.AskOutput "split"|"vsplit"|"float"|"tab"
---@alias nexus.SearchOutput "quickfix"|"select"

---@class nexus.ServerOptions
---@field cmd? string[] Command that starts the server, e.g. `{ "nexus", "lsp" }`; nil: see `python`.
---@field python? string Python of the environment with nexus-ide; runs `python -m nexus.cli lsp`.
---@field extra_args string[] Appended to the command, e.g. `{ "--log-file", "/tmp/nexus.log" }`.
---@field env table<string,string> Extra environment variables for the server.
---@field init_options table Passed to the server as `initializationOptions`.

---@class nexus.AiOptions
---@field provider? string Provider for every role: "anthropic", "openai", "gemini", "local", ...
---@field chat? string `provider` or `provider:model` for Ask and Explain.
---@field inline? string `provider` or `provider:model` for inline completion.
---@field edit? string `provider` or `provider:model` for code actions that edit.

---@class nexus.InlineOptions
---@field enabled boolean Show AI ghost text while typing.
---@field debounce_ms integer Wait after a keystroke before asking (Neovim 0.11 ghost text).
---@field keys { accept: string|false, dismiss: string|false, next: string|false } Insert-mode keys.

---@class nexus.CollabOptions
---@field gateway string The gateway hosting live sessions, e.g. "ws://127.0.0.1:4000".
---@field user? string Gateway user name (asked for when a token is needed and none is set).
---@field token? string A gateway token (`nexus collab token`); default: $NEXUS_COLLAB_TOKEN, else log in.
---@field cmd? string[] The helper process; nil: the server command with `collab helper` for `lsp`.

---@class nexus.Options
---@field server nexus.ServerOptions
---@field collab nexus.CollabOptions
---@field ai nexus.AiOptions
---@field inline nexus.InlineOptions
---@field filetypes string[] Filetypes the server attaches to.
---@field root_markers string[] Files that mark a workspace root.
---@field ask { output: nexus.AskOutput }
---@field run { timeout: integer, height: integer }
---@field search { output: nexus.SearchOutput, limit: integer }
---@field log { level: "debug"|"info"|"warn"|"error" }

---@type nexus.Options
M.defaults = {
  server = { cmd = nil, python = nil, extra_args = {}, env = {}, init_options = {} },
  ai = { provider = nil, chat = nil, inline = nil, edit = nil },
  inline = {
    enabled = true,
    debounce_ms = 150,
    keys = { accept = "<M-l>", dismiss = "<C-]>", next = "<M-]>" },
  },
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "java", "c", "cpp" },
  root_markers = { ".nexus.toml", "pyproject.toml", "setup.py", "package.json", "tsconfig.json", "pom.xml",
    "build.gradle", "CMakeLists.txt", "compile_commands.json", ".git" },
  ask = { output = "split" },
  run = { timeout = 60, height = 12 },
  search = { output = "quickfix", limit = 50 },
  log = { level = "info" },
  collab = { gateway = "ws://127.0.0.1:4000", user = nil, token = nil, cmd = nil },
}

---@type nexus.Options
local current = vim.deepcopy(M.defaults)

local ROLE = "^[%w_.-]+:?.*$"

local function is_list_of_strings(v)
  if type(v) ~= "table" or not vim.islist(v) then
    return false
  end
  for _, item in ipairs(v) do
    if type(item) ~= "string" then
      return false
    end
  end
  return true
end

local function is_string_map(v)
  if type(v) ~= "table" then
    return false
  end
  for k, item in pairs(v) do
    if type(k) ~= "string" or type(item) ~= "string" then
      return false
    end
  end
  return true
end

local function one_of(...)
  local choices = { ... }
  return function(v)
    return vim.tbl_contains(choices, v)
  end, "one of " .. table.concat(choices, ", ")
end

local function optional(check, what)
  return function(v)
    return v == nil or check(v)
  end, what
end

local function role(v)
  return type(v) == "string" and v:match(ROLE) ~= nil and v:sub(1, 1) ~= ":"
end

local function int_between(lo, hi)
  return function(v)
    return type(v) == "number" and v == math.floor(v) and v >= lo and v <= hi
  end, ("an integer from %d to %d"):format(lo, hi)
end

local function key(v)
  return v == false or (type(v) == "string" and v ~= "")
end

--- dotted option -> {check, expected}
local checks = {
  ["server.cmd"] = { optional(is_list_of_strings, "a list of strings") },
  ["server.python"] = { optional(function(v) return type(v) == "string" and v ~= "" end, "a path") },
  ["server.extra_args"] = { is_list_of_strings, "a list of strings" },
  ["server.env"] = { is_string_map, "a table of strings" },
  ["server.init_options"] = { function(v) return type(v) == "table" end, "a table" },
  ["ai.provider"] = { optional(function(v) return type(v) == "string" and v:match("^[%w_.-]+$") ~= nil end, "a provider name") },
  ["ai.chat"] = { optional(role, '"provider" or "provider:model"') },
  ["ai.inline"] = { optional(role, '"provider" or "provider:model"') },
  ["ai.edit"] = { optional(role, '"provider" or "provider:model"') },
  ["inline.enabled"] = { function(v) return type(v) == "boolean" end, "true or false" },
  ["inline.debounce_ms"] = { int_between(0, 5000) },
  ["inline.keys.accept"] = { key, "a key or false" },
  ["inline.keys.dismiss"] = { key, "a key or false" },
  ["inline.keys.next"] = { key, "a key or false" },
  ["filetypes"] = { is_list_of_strings, "a list of strings" },
  ["root_markers"] = { is_list_of_strings, "a list of strings" },
  ["ask.output"] = { one_of("split", "vsplit", "float", "tab") },
  ["run.timeout"] = { int_between(0, 86400) },
  ["run.height"] = { int_between(1, 200) },
  ["search.output"] = { one_of("quickfix", "select") },
  ["search.limit"] = { int_between(1, 1000) },
  ["log.level"] = { one_of("debug", "info", "warn", "error") },
  ["collab.gateway"] = { function(v) return type(v) == "string" and v:match("^wss?://[^/%s]+") ~= nil end, "a ws:// or wss:// address" },
  ["collab.user"] = { optional(function(v) return type(v) == "string" and v ~= "" end, "a user name") },
  ["collab.token"] = { optional(function(v) return type(v) == "string" and v ~= "" end, "a token") },
  ["collab.cmd"] = { optional(is_list_of_strings, "a list of strings") },
}

local function get_path(tbl, dotted)
  local node = tbl
  for part in dotted:gmatch("[^.]+") do
    if type(node) ~= "table" then
      return nil
    end
    node = node[part]
  end
  return node
end

local function set_path(tbl, dotted, value)
  local parts = vim.split(dotted, ".", { plain = true })
  local node = tbl
  for i = 1, #parts - 1 do
    node = node[parts[i]]
  end
  node[parts[#parts]] = value
end

--- Lists the option paths in `opts` that nexus does not know (typos).
local function unknown_keys(opts, defaults, prefix, out)
  for k, v in pairs(opts) do
    local path = prefix and (prefix .. "." .. k) or tostring(k)
    local known = defaults ~= nil and type(defaults) == "table" and (defaults[k] ~= nil or checks[path] ~= nil)
    if not known then
      table.insert(out, path)
    elseif type(v) == "table" and not vim.islist(v) and checks[path] == nil then
      unknown_keys(v, defaults[k], path, out)
    end
  end
  return out
end

--- Merges `opts` over the defaults; returns the options and one message per invalid or unknown option.
---@param opts? table
---@return nexus.Options options
---@return string[] problems
function M.resolve(opts)
  opts = opts or {}
  local problems = {}
  if type(opts) ~= "table" then
    return vim.deepcopy(M.defaults), { ("nexus: setup() expects a table, got %s"):format(type(opts)) }
  end
  for _, path in ipairs(unknown_keys(opts, M.defaults, nil, {})) do
    table.insert(problems, ("nexus: unknown option %s ignored"):format(path))
  end
  -- Lists replace rather than merge (a user's filetypes list is the whole list).
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  for path, spec in pairs(checks) do
    local given = get_path(opts, path)
    if given ~= nil then
      set_path(merged, path, given)
    end
    local value = get_path(merged, path)
    local ok = spec[1](value)
    if not ok then
      table.insert(problems, ("nexus: option %s = %s is not %s; using the default"):format(path, vim.inspect(value), spec[2]))
      set_path(merged, path, vim.deepcopy(get_path(M.defaults, path)))
    end
  end
  table.sort(problems)
  return merged, problems
end

--- Applies options (from `setup()`); returns the problems, which the caller reports.
---@param opts? table
---@return string[]
function M.set(opts)
  local problems
  current, problems = M.resolve(opts)
  return problems
end

---@return nexus.Options
function M.get()
  return current
end

--- The command that starts the server: `server.cmd`; `server.python -m nexus.cli lsp`; `nexus lsp`
--- if `nexus` is executable; else `python3 -m nexus.cli lsp`.
---@param options? nexus.Options
---@return string[] cmd
---@return string source
function M.server_cmd(options)
  options = options or current
  local s = options.server
  local cmd, source
  if s.cmd and #s.cmd > 0 then
    cmd, source = vim.deepcopy(s.cmd), "server.cmd"
  elseif s.python then
    cmd, source = { s.python, "-m", "nexus.cli", "lsp" }, "server.python"
  elseif vim.fn.executable("nexus") == 1 then
    cmd, source = { "nexus", "lsp" }, "PATH"
  else
    cmd, source = { "python3", "-m", "nexus.cli", "lsp" }, "default"
  end
  vim.list_extend(cmd, s.extra_args)
  return cmd, source
end

--- The live-session helper (`nexus collab helper`): `collab.cmd`, else the server command with
--- `collab helper` in place of `lsp`.
---@param options? nexus.Options
---@return string[]
function M.collab_cmd(options)
  options = options or current
  if options.collab.cmd and #options.collab.cmd > 0 then
    return vim.deepcopy(options.collab.cmd)
  end
  local saved = options.server.extra_args
  options.server.extra_args = {}
  local cmd = M.server_cmd(options)
  options.server.extra_args = saved
  if cmd[#cmd] == "lsp" then
    cmd[#cmd] = "collab"
  else
    table.insert(cmd, "collab")
  end
  table.insert(cmd, "helper")
  return cmd
end

--- Environment additions for the server: the AI roles as the engine's `NEXUS_PROVIDERS_<ROLE>`
--- variables (docs/providers.md), then `server.env`. Unset roles leave the user's environment alone.
---@param options? nexus.Options
---@return table<string,string>
function M.server_env(options)
  options = options or current
  local env = {}
  local ai = options.ai
  for _, r in ipairs({ "chat", "inline", "edit" }) do
    local value = ai[r] or ai.provider
    if value then
      env["NEXUS_PROVIDERS_" .. r:upper()] = value
    end
  end
  for k, v in pairs(options.server.env) do
    env[k] = v
  end
  return env
end

return M
