--- nexus.nvim: the Nexus language server in Neovim 0.11+, with Ask/Explain answers grounded in your
--- code, `# %%` cells run in Jupyter kernels, workspace search and AI ghost text.
---
--- Either `vim.lsp.enable("nexus")` (defaults, from lsp/nexus.lua) or `require("nexus").setup(opts)`.

local M = {}

--- Applies options, (re)configures the `nexus` server and enables it.
---@param opts? nexus.Options|table see `:h nexus-options` and lua/nexus/config.lua
function M.setup(opts)
  local config = require("nexus.config")
  local problems = config.set(opts)
  for _, problem in ipairs(problems) do
    require("nexus.log").notify(problem, vim.log.levels.WARN)
  end
  vim.lsp.config("nexus", require("nexus.server").config())
  vim.lsp.enable("nexus")
end

--- Asks a question (prompts when `prompt` is nil); the answer streams into a scratch buffer.
---@param prompt? string
function M.ask(prompt)
  return require("nexus.ask").ask(prompt)
end

--- Explains lines `first`..`last` (1-based) of the current buffer.
---@param first integer
---@param last integer
function M.explain(first, last)
  return require("nexus.ask").explain(first, last)
end

--- Runs the file, a line range or the `# %%` cell at the cursor; output in `nexus://run`.
---@param opts? nexus.RunOpts
function M.run(opts)
  return require("nexus.run").run(opts)
end

--- Searches the workspace index: text, `#symbols` or `/files`.
---@param query string
function M.search(query)
  return require("nexus.search").search(query)
end

--- Updates the index of every workspace folder.
function M.reindex()
  return require("nexus.index").reindex()
end

--- Writes a commit message for the staged changes (into a `gitcommit` buffer, or a new one).
function M.commit_message()
  return require("nexus.commit").write()
end

--- Opens nexus.nvim's log file.
function M.open_log()
  vim.cmd.split(vim.fn.fnameescape(require("nexus.log").path()))
end

--- The nexus client for `bufnr` (default current), if running.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  return require("nexus.client").get(bufnr)
end

return M
