--- Debugging with nvim-dap through `nexus dap`: launch Python files under debugpy, or attach to the
--- code a Nexus kernel session runs.
---
--- `require("nexus.dap").setup()` registers the `nexus` adapter and Python configurations when
--- nvim-dap is installed (`:checkhealth nexus` says when it is not). The adapter command is the
--- server command of nexus.nvim with its `lsp` argument replaced by `dap`, so `server.cmd` /
--- `server.python` in `require("nexus").setup()` choose the environment for both.

local M = {}

M.TYPE = "nexus"

---@class nexus.DapOptions
---@field filetypes? string[] Filetypes whose configurations get the Nexus entries (default `{ "python" }`).
---@field configurations? boolean Add the launch/attach configurations (default true); false: adapter only.

--- The `nexus dap` command: the server command up to `lsp`, then `dap` and what followed `lsp`.
--- A custom server command without `lsp` falls back to `server.python`, `nexus` on PATH, `python3`.
---@param options? nexus.Options
---@return string[] cmd
---@return string source
function M.adapter_cmd(options)
  local config = require("nexus.config")
  options = options or config.get()
  local server = options.server
  if server.cmd and #server.cmd > 0 then
    for i = #server.cmd, 1, -1 do
      if server.cmd[i] == "lsp" then
        local cmd = vim.list_slice(server.cmd, 1, i - 1)
        table.insert(cmd, "dap")
        return vim.list_extend(cmd, vim.list_slice(server.cmd, i + 1)), "server.cmd"
      end
    end
  end
  -- `extra_args` belong to the language server (its --log-file would be shared): not passed on
  local fallback = vim.deepcopy(options)
  fallback.server.cmd, fallback.server.extra_args = nil, {}
  local cmd, source = config.server_cmd(fallback)
  cmd[#cmd] = "dap"
  return cmd, source
end

--- The adapter as nvim-dap wants it (`type = "executable"`, stdio).
---@return table
function M.adapter()
  local cmd = M.adapter_cmd()
  return {
    type = "executable",
    command = cmd[1],
    args = vim.list_slice(cmd, 2),
    options = { source_filetype = "python" },
  }
end

--- The kernel sessions Nexus processes advertise (`nexus dap --list-sessions`).
---@return table[]? sessions
---@return string? error
function M.sessions()
  local cmd = M.adapter_cmd()
  table.insert(cmd, "--list-sessions")
  local ok, proc = pcall(vim.system, cmd, { text = true })
  if not ok then
    return nil, ("cannot run %s: %s"):format(table.concat(cmd, " "), tostring(proc))
  end
  local result = proc:wait(20000)
  if result.code ~= 0 then
    return nil, ("%s failed: %s"):format(table.concat(cmd, " "), vim.trim((result.stderr or "") .. (result.stdout or "")))
  end
  local decoded, sessions = pcall(vim.json.decode, result.stdout or "")
  if not decoded or type(sessions) ~= "table" then
    return nil, "nexus dap --list-sessions printed something that is not a JSON list"
  end
  return vim.tbl_filter(function(s)
    return s.language == "python"
  end, sessions)
end

local function abort()
  local ok, dap = pcall(require, "dap")
  return ok and dap.ABORT or nil
end

local function describe(session)
  return ("%s  (%s kernel %s, process %s)"):format(session.sessionId, session.language, session.kernelId,
    tostring(session.ownerPid))
end

--- For an attach configuration's `sessionId`: the only running Python session, or the one picked with
--- `vim.ui.select` (nvim-dap evaluates it in a coroutine). None running: a message and nvim-dap's ABORT.
---@return string|table|nil
function M.pick_session()
  local sessions, err = M.sessions()
  if not sessions then
    require("nexus.log").notify(err, vim.log.levels.ERROR)
    return abort()
  end
  if #sessions == 0 then
    require("nexus.log").notify("no Python kernel session is running to attach to: run a cell first (:NexusRun cell)",
      vim.log.levels.WARN)
    return abort()
  end
  if #sessions == 1 then
    return sessions[1].sessionId
  end
  local co = coroutine.running()
  if co and coroutine.isyieldable() then
    vim.ui.select(sessions, { prompt = "Attach to a kernel session", format_item = describe }, function(choice)
      coroutine.resume(co, choice and choice.sessionId or abort())
    end)
    return coroutine.yield()
  end
  local lines = { "Attach to a kernel session:" }
  for i, session in ipairs(sessions) do
    table.insert(lines, ("%d. %s"):format(i, describe(session)))
  end
  local choice = sessions[vim.fn.inputlist(lines)]
  return choice and choice.sessionId or abort()
end

--- The Python configurations: launch the current file, launch a module, attach to a kernel session.
---@return table[]
function M.configurations()
  return {
    {
      type = M.TYPE,
      request = "launch",
      name = "Nexus: Python file",
      program = "${file}",
      cwd = "${workspaceFolder}",
      console = "integratedTerminal",
      justMyCode = true,
    },
    {
      type = M.TYPE,
      request = "launch",
      name = "Nexus: Python module",
      module = function()
        local name = vim.fn.input("Module: ")
        return name ~= "" and name or abort()
      end,
      cwd = "${workspaceFolder}",
      justMyCode = true,
    },
    {
      type = M.TYPE,
      request = "attach",
      name = "Nexus: attach to a kernel session",
      sessionId = M.pick_session,
      justMyCode = true,
    },
  }
end

--- Registers the adapter (and, by default, the configurations) with nvim-dap.
---@param opts? nexus.DapOptions
---@return boolean registered false when nvim-dap is not installed (a warning says so)
function M.setup(opts)
  opts = opts or {}
  local ok, dap = pcall(require, "dap")
  if not ok then
    require("nexus.log").notify(
      "nexus.dap: nvim-dap is not installed (https://codeberg.org/mfussenegger/nvim-dap); debugging is off",
      vim.log.levels.WARN)
    return false
  end
  dap.adapters[M.TYPE] = function(callback)
    callback(M.adapter()) -- resolved when a session starts: later server options apply
  end
  if opts.configurations ~= false then
    for _, filetype in ipairs(opts.filetypes or { "python" }) do
      local kept = vim.tbl_filter(function(c)
        return c.type ~= M.TYPE -- calling setup() twice does not duplicate them
      end, dap.configurations[filetype] or {})
      dap.configurations[filetype] = vim.list_extend(kept, M.configurations())
    end
  end
  return true
end

return M
