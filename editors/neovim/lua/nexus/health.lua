--- :checkhealth nexus: Neovim version, the server command and its version, the running client and
--- its index state, whether an AI provider is configured (variable names only, never values), and
--- the debugger: nvim-dap and `nexus dap`.

local M = {}

local PROVIDER_VARIABLES = { "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "NEXUS_LOCAL_BASE_URL",
  "NEXUS_PROVIDERS_CHAT", "NEXUS_PROVIDERS_INLINE", "NEXUS_PROVIDERS_EDIT", "NEXUS_PROVIDERS_ORDER" }

--- The command up to the `lsp` subcommand, e.g. `{ "python3", "-m", "nexus.cli" }`.
---@param cmd string[]
---@return string[]?
function M.cli_prefix(cmd)
  for i, part in ipairs(cmd) do
    if part == "lsp" then
      return vim.list_slice(cmd, 1, i - 1)
    end
  end
end

local function run(cmd, env)
  local ok, proc = pcall(vim.system, cmd, { text = true, env = env })
  if not ok then
    return nil, tostring(proc)
  end
  local result = proc:wait(20000)
  if result.code ~= 0 then
    return nil, vim.trim((result.stderr or "") .. (result.stdout or "")), result
  end
  return vim.trim(result.stdout or ""), nil, result
end

local function check_neovim()
  vim.health.start("nexus: Neovim")
  local v = vim.version()
  local text = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.11") == 1 then
    vim.health.ok("Neovim " .. text)
  else
    vim.health.error("Neovim " .. text .. " is too old", { "nexus.nvim needs Neovim 0.11 or newer" })
  end
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    vim.health.ok("inline completion: Neovim's built-in vim.lsp.inline_completion")
  else
    vim.health.ok("inline completion: nexus ghost text (Neovim 0.11)")
  end
end

local function check_server(config)
  vim.health.start("nexus: server")
  local cmd, source = config.server_cmd()
  local shown = table.concat(cmd, " ")
  if vim.fn.executable(cmd[1]) ~= 1 then
    vim.health.error(("server command not found: %s (from %s)"):format(cmd[1], source), {
      "pip install nexus-ide, then put `nexus` on PATH,",
      'or require("nexus").setup({ server = { python = "/path/to/venv/bin/python" } })',
    })
    return false
  end
  vim.health.ok(("server command: %s (from %s)"):format(shown, source))
  local prefix = M.cli_prefix(cmd)
  if not prefix then
    vim.health.info("custom server command without an `lsp` argument: version not checked")
    return true
  end
  local env = config.server_env()
  local version, err = run(vim.list_extend(vim.deepcopy(prefix), { "--version" }), env)
  if not version then
    vim.health.error("`" .. table.concat(prefix, " ") .. " --version` failed: " .. (err or ""),
      { "is nexus-ide installed in this environment? `pip install nexus-ide`" })
    return false
  end
  vim.health.ok("version: " .. version)
  local _, lsp_err = run(vim.list_extend(vim.deepcopy(prefix), { "lsp", "--help" }), env)
  if lsp_err then
    vim.health.error("this nexus-ide has no working `lsp` command: " .. lsp_err:sub(1, 300),
      { "upgrade nexus-ide (pip install -U nexus-ide)" })
    return false
  end
  vim.health.ok("`" .. table.concat(prefix, " ") .. " lsp` is available")
  return true
end

local function check_client(config)
  vim.health.start("nexus: workspace")
  local client_mod = require("nexus.client")
  local client = client_mod.get()
  if not client then
    vim.health.warn("the nexus server is not attached to any buffer", {
      "open a file of type " .. table.concat(config.get().filetypes, ", "),
      'enable the server: vim.lsp.enable("nexus") or require("nexus").setup()',
    })
    return nil
  end
  vim.health.ok(("client %d running, root %s"):format(client.id, client.root_dir or "(single file)"))
  local status, err = client_mod.request_sync("nexus/status", {}, 5000)
  if not status then
    vim.health.error("nexus/status failed: " .. tostring(err))
    return nil
  end
  for _, folder in ipairs(status.folders or {}) do
    local index = type(folder.index) == "table" and folder.index or folder
    local name = folder.root or folder.uri or "?"
    local state = folder.state or (index.indexed and "ready") or "unknown"
    local err_text = folder.error ~= vim.NIL and folder.error or index.error
    if err_text and err_text ~= vim.NIL and err_text ~= "" then
      vim.health.error(("%s: %s"):format(name, tostring(err_text)))
    elseif state == "indexing" then
      vim.health.info(("%s: indexing (%s/%s files)"):format(name, tostring(folder.filesDone or "?"),
        tostring(folder.filesTotal or "?")))
    else
      vim.health.ok(("%s: %s, %s files, %s symbols indexed"):format(name, state, tostring(index.files or 0),
        tostring(index.symbols or 0)))
    end
  end
  if #(status.folders or {}) == 0 then
    vim.health.info("no workspace folder (single-file mode): search and cross-file features are limited")
  end
  return status
end

local function check_provider(config, status)
  vim.health.start("nexus: AI provider")
  local providers = status and status.providers
  if type(providers) == "table" then
    local list = vim.islist(providers) and providers or providers.providers or {}
    for _, p in ipairs(list) do
      if p.configured ~= false and p.name then
        vim.health.ok(("provider %s configured%s"):format(p.name,
          (p.models and p.models.chat) and (" (chat model " .. p.models.chat .. ")") or ""))
        return
      end
    end
  end
  local ai = config.get().ai
  local found = {}
  for _, name in ipairs(PROVIDER_VARIABLES) do
    if (vim.env[name] or "") ~= "" or config.get().server.env[name] then
      table.insert(found, name)
    end
  end
  if ai.provider or ai.chat then
    vim.health.ok("provider chosen in setup(): " .. (ai.chat or ai.provider))
  elseif #found > 0 then
    vim.health.ok("provider configured through " .. table.concat(found, ", "))
  else
    vim.health.warn("no AI provider configured: Ask and Explain answer with the relevant code only", {
      "set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY, or NEXUS_LOCAL_BASE_URL for a local model",
      "or [providers] in nexus.toml (see docs/providers.md)",
    })
  end
end

local function check_debugger()
  vim.health.start("nexus: debugger (nvim-dap)")
  local has_dap, dap = pcall(require, "dap")
  if not has_dap then
    vim.health.warn("nvim-dap is not installed: debugging through `nexus dap` is off", {
      "install mfussenegger/nvim-dap, then call require(\"nexus.dap\").setup()",
    })
    return
  end
  vim.health.ok("nvim-dap is installed")
  if type(dap.adapters) == "table" and dap.adapters.nexus then
    vim.health.ok("the nexus adapter is registered")
  else
    vim.health.info('the nexus adapter is not registered: call require("nexus.dap").setup()')
  end
  local cmd, source = require("nexus.dap").adapter_cmd()
  if vim.fn.executable(cmd[1]) ~= 1 then
    vim.health.error(("debug adapter command not found: %s (from %s)"):format(cmd[1], source))
    return
  end
  local _, err = run(vim.list_extend(vim.deepcopy(cmd), { "--help" }))
  if err then
    vim.health.error("`" .. table.concat(cmd, " ") .. "` does not work: " .. err:sub(1, 300),
      { "upgrade nexus-ide (pip install -U nexus-ide)" })
    return
  end
  vim.health.ok("debug adapter: " .. table.concat(cmd, " "))
end

function M.check()
  local config = require("nexus.config")
  check_neovim()
  check_server(config)
  local status = check_client(config)
  check_provider(config, status)
  check_debugger()
  vim.health.start("nexus: log")
  vim.health.info("log file: " .. require("nexus.log").path())
end

return M
