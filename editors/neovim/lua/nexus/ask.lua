--- :NexusAsk and :NexusExplain: a `nexus/chat` request whose answer streams into a Markdown scratch
--- buffer, ending with the context receipt (<CR> on a receipt line opens that place). `q` or <C-c>
--- in the buffer cancels a streaming answer, which stops the upstream model request.

local client_mod = require("nexus.client")
local config = require("nexus.config")
local log = require("nexus.log")
local render = require("nexus.render")
local ui = require("nexus.ui")

local M = {}

local count = 0

---@class nexus.Answer
---@field bufnr integer
---@field transcript nexus.Transcript
---@field request? nexus.Request
---@field error? lsp.ResponseError the error that ended the request, if any

--- The last answer (tests and statuslines look at it).
---@type nexus.Answer?
M.last = nil

local function redraw(answer)
  local lines = answer.transcript:lines()
  ui.set_lines(answer.bufnr, lines)
  -- Map receipt lines to their entries for <CR>.
  local receipt = answer.transcript.result and answer.transcript.result.receipt or {}
  local targets = {}
  if #receipt > 0 then
    local first = #lines - #receipt - 1 -- receipt items, then a blank line and the footer
    for i, entry in ipairs(receipt) do
      targets[first + i - 1] = entry
    end
  end
  vim.b[answer.bufnr].nexus_receipt = targets
  ui.follow(answer.bufnr)
end

local function open_receipt_entry(bufnr)
  local targets = vim.b[bufnr].nexus_receipt or {}
  local entry = targets[vim.api.nvim_win_get_cursor(0)[1]]
  if not entry then
    return
  end
  vim.cmd("wincmd p")
  vim.cmd.edit(vim.fn.fnameescape(vim.uri_to_fname(entry.uri)))
  vim.api.nvim_win_set_cursor(0, { entry.startLine + 1, 0 })
end

local function new_answer(title, prompt)
  count = count + 1
  local bufnr = ui.scratch(("nexus://answer/%d"):format(count), "markdown")
  local answer = { bufnr = bufnr, transcript = render.transcript(title, prompt) }
  local function cancel_or_close()
    if answer.transcript.state == "streaming" and answer.request then
      answer.request.cancel()
      answer.transcript:cancel()
      redraw(answer)
    elseif not pcall(vim.api.nvim_win_close, 0, false) then
      vim.cmd.bwipeout({ bang = true }) -- the last window: leave the buffer instead
    end
  end
  vim.keymap.set("n", "q", cancel_or_close, { buffer = bufnr, desc = "nexus: cancel or close" })
  vim.keymap.set("n", "<C-c>", function()
    if answer.request and answer.transcript.state == "streaming" then
      answer.request.cancel()
      answer.transcript:cancel()
      redraw(answer)
    end
  end, { buffer = bufnr, desc = "nexus: cancel the answer" })
  vim.keymap.set("n", "<CR>", function()
    open_receipt_entry(bufnr)
  end, { buffer = bufnr, desc = "nexus: open this context" })
  return answer
end

--- Sends `params` (a `nexus/chat` request) and streams the answer into a new buffer.
---@param title string
---@param params table
---@param source_buf integer
---@return nexus.Answer?
function M.chat(title, params, source_buf)
  local answer = new_answer(title, params.prompt)
  M.last = answer
  ui.show(answer.bufnr, config.get().ask.output, { title = title })
  redraw(answer)
  local pending = false
  local request, err = client_mod.request("nexus/chat", params, function(rpc_err, result)
    vim.schedule(function()
      answer.error = rpc_err
      if rpc_err then
        if client_mod.is_cancelled(rpc_err) then
          answer.transcript:cancel()
        else
          answer.transcript:fail(client_mod.describe("nexus/chat", rpc_err))
        end
      elseif answer.transcript.state == "streaming" then
        answer.transcript:finish(result or {})
      end
      redraw(answer)
    end)
  end, {
    bufnr = source_buf,
    on_partial = function(value)
      if type(value) == "table" and type(value.delta) == "string" then
        answer.transcript:append(value.delta)
        -- One redraw per event-loop turn, however many deltas arrived in it.
        if not pending then
          pending = true
          vim.schedule(function()
            pending = false
            redraw(answer)
          end)
        end
      end
    end,
  })
  if not request then
    answer.transcript:fail(err or "no server")
    redraw(answer)
    log.notify("nexus: " .. (err or "no server"))
    return answer
  end
  answer.request = request
  return answer
end

--- :NexusAsk [question]: asks with the cursor's file and position as context.
---@param prompt? string
function M.ask(prompt)
  local source = vim.api.nvim_get_current_buf()
  local function go(text)
    if not text or vim.trim(text) == "" then
      return
    end
    local client = client_mod.get(source)
    local params = { prompt = vim.trim(text) }
    if client and vim.bo[source].buftype == "" then
      local pos = client_mod.position_params(client)
      params.textDocument = pos.textDocument
      params.position = pos.position
    end
    M.chat("Nexus: Ask", params, source)
  end
  if prompt and prompt ~= "" then
    go(prompt)
  else
    vim.ui.input({ prompt = "Ask Nexus: " }, go)
  end
end

--- :[range]NexusExplain: explains lines `first`..`last` of the current buffer.
---@param first integer
---@param last integer
function M.explain(first, last)
  local source = vim.api.nvim_get_current_buf()
  local client = client_mod.get(source)
  if not client then
    log.notify("nexus: the language server is not running for this buffer (see :checkhealth nexus)")
    return
  end
  local range = client_mod.line_range(source, first, last, client)
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(source), ":~:.")
  return M.chat(("Nexus: Explain %s:%d-%d"):format(name, first, last), {
    prompt = "Explain what this code does and why, in the context of this workspace.",
    textDocument = { uri = vim.uri_from_bufnr(source) },
    position = range.start,
    range = range,
  }, source)
end

return M
