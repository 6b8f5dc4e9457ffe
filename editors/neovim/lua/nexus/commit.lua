--- :NexusCommitMessage: asks `nexus/ai.commit_message` for a message describing the staged changes.
--- In a `gitcommit` buffer (`git commit` opened Neovim) the message streams in above the comments;
--- elsewhere it opens in a scratch `gitcommit` buffer. Nexus never commits.

local client_mod = require("nexus.client")
local log = require("nexus.log")

local M = {}

--- The lines of `text` to put in place of the buffer's leading non-comment lines.
---@param text string
---@return string[]
function M.lines(text)
  return vim.split(vim.trim(text), "\n", { plain = true })
end

--- How many leading lines of `bufnr` are the message (before git's `#` comments).
---@param bufnr integer
---@return integer
local function message_end(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for i, line in ipairs(lines) do
    if line:sub(1, 1) == "#" then
      return i - 1
    end
  end
  return #lines
end

---@param on_done? fun(message: string?, err: string?)
function M.write(on_done)
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].filetype ~= "gitcommit" then
    bufnr = vim.api.nvim_create_buf(true, true)
    vim.bo[bufnr].filetype = "gitcommit"
    vim.api.nvim_set_current_buf(bufnr)
  end
  local written = 0 -- lines of ours at the top of the buffer
  written = message_end(bufnr)
  local text = ""
  local function show(value)
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    local lines = M.lines(value)
    vim.api.nvim_buf_set_lines(bufnr, 0, written, false, lines)
    written = #lines
  end
  local request, err = client_mod.request("nexus/ai.commit_message", {}, function(rpc_err, result)
    vim.schedule(function()
      if rpc_err then
        local message = client_mod.describe("commit message", rpc_err)
        log.notify(message, vim.log.levels.ERROR)
        if on_done then on_done(nil, message) end
        return
      end
      show(result.message)
      if on_done then on_done(result.message, nil) end
    end)
  end, {
    bufnr = bufnr,
    on_partial = function(value)
      if value.kind == "ai:delta" then
        text = text .. (value.data.text or "")
        vim.schedule(function() show(text) end)
      end
    end,
  })
  if not request then
    log.notify("nexus: " .. err, vim.log.levels.ERROR)
    if on_done then on_done(nil, err) end
  end
  return request
end

return M
