--- :NexusRun: the file, a range, or the `# %%` cell at the cursor in a Jupyter kernel through
--- `nexus/run`; outputs stream into the `nexus://run` buffer in a split at the bottom.

local cells = require("nexus.cells")
local client_mod = require("nexus.client")
local config = require("nexus.config")
local log = require("nexus.log")
local render = require("nexus.render")
local ui = require("nexus.ui")

local M = {}

M.buffer_name = "nexus://run"

---@class nexus.RunRecord
---@field done boolean
---@field err? lsp.ResponseError
---@field result? table

--- The last run (tests and statuslines look at it).
---@type nexus.RunRecord?
M.last = nil

---@return integer bufnr
local function output_buffer()
  local bufnr = ui.scratch(M.buffer_name, "nexusrun")
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = bufnr, desc = "nexus: close the output" })
  return bufnr
end

local function append(bufnr, text)
  if text == "" or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local lines = vim.split((text:gsub("\n$", "")), "\n", { plain = true })
  local count = vim.api.nvim_buf_line_count(bufnr)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == ""
  ui.set_lines(bufnr, lines, empty and 0 or count)
  ui.follow(bufnr)
end

--- The scope :NexusRun picks without an argument: a range if given, else the cell if the file has
--- `# %%` markers, else the file.
---@param bufnr integer
---@param has_range boolean
---@return "file"|"cell"|"range"
function M.default_scope(bufnr, has_range)
  if has_range then
    return "range"
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for _, cell in ipairs(cells.find(lines, vim.bo[bufnr].filetype)) do
    if cell.has_marker then
      return "cell"
    end
  end
  return "file"
end

---@class nexus.RunOpts
---@field scope? "file"|"cell"|"range"
---@field line1? integer
---@field line2? integer

--- Runs code from the current buffer; returns the request, or nil when nothing was sent.
---@param opts? nexus.RunOpts
---@return nexus.Request?
function M.run(opts)
  opts = opts or {}
  local source = vim.api.nvim_get_current_buf()
  local client = client_mod.get(source)
  if not client then
    log.notify("nexus: the language server is not running for this buffer (see :checkhealth nexus)")
    return nil
  end
  local scope = opts.scope or M.default_scope(source, opts.line1 ~= nil)
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(source), ":t")
  local params = { textDocument = { uri = vim.uri_from_bufnr(source) }, language = vim.bo[source].filetype }
  local title = name
  if scope == "cell" then
    local cursor = vim.api.nvim_win_get_cursor(0)
    local lines = vim.api.nvim_buf_get_lines(source, 0, -1, false)
    local cell = cells.at(lines, cursor[1], vim.bo[source].filetype)
    if cell and cell.kind == "markdown" then
      log.notify("nexus: this is a Markdown cell; nothing to run", vim.log.levels.INFO)
      return nil
    end
    params.cell = true
    params.position = client_mod.position_params(client).position
    title = ("%s, cell at line %d%s"):format(name, cell and cell.start_line or cursor[1],
      cell and cell.title ~= "" and (" (" .. cell.title .. ")") or "")
  elseif scope == "range" then
    local first, last = opts.line1 or 1, opts.line2 or opts.line1 or 1
    params.range = client_mod.line_range(source, first, last, client)
    title = ("%s:%d-%d"):format(name, first, last)
  end
  local timeout = config.get().run.timeout
  if timeout > 0 then
    params.timeout = timeout
  end
  local out = output_buffer()
  ui.show(out, "bottom", { height = config.get().run.height })
  append(out, "▶ " .. title)
  local streamed = 0
  local record = { done = false }
  M.last = record
  local request, err = client_mod.request("nexus/run", params, function(rpc_err, result)
    vim.schedule(function()
      record.done, record.err, record.result = true, rpc_err, result
      if rpc_err then
        if client_mod.is_cancelled(rpc_err) then
          append(out, "[cancelled]")
        else
          local message = client_mod.describe("nexus/run", rpc_err)
          append(out, "[error] " .. message)
          log.notify("nexus: " .. message)
        end
        return
      end
      result = result or {}
      if streamed == 0 then
        for _, item in ipairs(result.outputs or {}) do
          append(out, render.output_text(item))
        end
        if #(result.outputs or {}) == 0 and result.output and result.output ~= "" then
          append(out, result.output)
        end
      end
      append(out, render.run_summary(result))
    end)
  end, {
    bufnr = source,
    on_partial = function(value)
      if type(value) == "table" and type(value.output) == "table" then
        streamed = streamed + 1
        local text = render.output_text(value.output)
        vim.schedule(function()
          append(out, text)
        end)
      end
    end,
  })
  if not request then
    record.done, record.err = true, { code = 0, message = err or "no server" }
    append(out, "[error] " .. (err or "no server"))
    log.notify("nexus: " .. (err or "no server"))
  end
  return request
end

return M
