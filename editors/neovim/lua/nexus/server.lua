--- The `vim.lsp.config` table for the nexus server, built from the current options (lsp/nexus.lua
--- returns it; `setup()` re-applies it after options change).

local config = require("nexus.config")

local M = {}

---@param options? nexus.Options
---@return vim.lsp.Config
function M.config(options)
  options = options or config.get()
  local cmd = config.server_cmd(options)
  return {
    cmd = cmd,
    cmd_env = config.server_env(options),
    filetypes = vim.deepcopy(options.filetypes),
    root_markers = vim.deepcopy(options.root_markers),
    workspace_required = false,
    init_options = vim.tbl_deep_extend("force", {
      client = "neovim",
      ai = options.ai,
      inlineCompletion = { enabled = options.inline.enabled },
    }, options.server.init_options),
    handlers = {
      ["$/progress"] = function(...)
        return require("nexus.client").progress_handler(...)
      end,
    },
  }
end

return M
