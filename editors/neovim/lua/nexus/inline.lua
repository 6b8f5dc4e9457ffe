--- AI inline completion (ghost text) from `textDocument/inlineCompletion`.
---
--- Neovim 0.12+ has it built in (`vim.lsp.inline_completion`): this module only enables it for the
--- nexus client and maps the keys. On 0.11 it shows the first item itself: a debounced request after
--- each change in insert mode, the text after the cursor as an inline extmark (`NexusGhostText`),
--- further lines as virtual lines. A reply for an older buffer state or cursor is dropped; moving,
--- typing, leaving insert mode or the dismiss key clears it; the accept key inserts it.

local client_mod = require("nexus.client")
local log = require("nexus.log")

local M = {}

M.ns = vim.api.nvim_create_namespace("nexus.inline")

---@class nexus.GhostItem
---@field text string text to insert (snippet placeholders reduced to their defaults)
---@field snippet? string the raw snippet, expanded with vim.snippet on accept
---@field row integer 0-based start of the replaced range
---@field col integer 0-based byte column of the start
---@field end_row integer
---@field end_col integer
---@field command? table

---@class nexus.GhostState
---@field items nexus.GhostItem[]
---@field index integer
---@field extmark? integer
---@field anchor { row: integer, col: integer, tick: integer }
---@field timer? uv.uv_timer_t
---@field request? { cancel: fun() }

---@type table<integer, nexus.GhostState>
local states = {}

local function native()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

local function highlight()
  vim.api.nvim_set_hl(0, "NexusGhostText", { link = "Comment", default = true })
end
highlight()
-- :colorscheme clears highlight groups; a theme that defines NexusGhostText wins (default = true).
vim.api.nvim_create_autocmd("ColorScheme", { group = vim.api.nvim_create_augroup("nexus.highlight", {}), callback = highlight })

--- Snippet text as it will read once expanded: `${1:name}` -> `name`, `$1` and `$0` -> ``.
---@param snippet string
function M.snippet_text(snippet)
  local text = snippet:gsub("%${%d+:([^}]*)}", "%1"):gsub("%${%d+}", ""):gsub("%$%d+", "")
  return (text:gsub("\\([$}\\])", "%1"))
end

--- Converts LSP inline completion items into ghost items in buffer coordinates.
---@param bufnr integer
---@param raw lsp.InlineCompletionItem[]|lsp.InlineCompletionList|nil
---@param encoding string
---@param cursor { [1]: integer, [2]: integer } 1-based row, 0-based byte col
---@return nexus.GhostItem[]
function M.items_from(bufnr, raw, encoding, cursor)
  local list = raw and (raw.items or raw) or {}
  local items = {}
  for _, it in ipairs(list) do
    local insert = it.insertText
    local text, snippet
    if type(insert) == "table" then
      snippet = insert.value
      text = M.snippet_text(insert.value or "")
    else
      text = insert or ""
    end
    local row, col, end_row, end_col
    if it.range then
      row = it.range.start.line
      col = vim.lsp.util._get_line_byte_from_position(bufnr, it.range.start, encoding)
      end_row = it.range["end"].line
      end_col = vim.lsp.util._get_line_byte_from_position(bufnr, it.range["end"], encoding)
    else
      row, col = cursor[1] - 1, cursor[2]
      end_row, end_col = row, col
    end
    if text ~= "" then
      table.insert(items, { text = text, snippet = snippet, row = row, col = col, end_row = end_row,
        end_col = end_col, command = it.command })
    end
  end
  return items
end

--- What to draw for `item` with the cursor at 0-based (`row`, `col`): the part of the text not typed
--- yet. Returns nil when the typed text does not match the item any more.
---@param bufnr integer
---@param item nexus.GhostItem
---@param row integer
---@param col integer
---@return string[]? lines ghost lines; the first goes after the cursor
function M.ghost_lines(bufnr, item, row, col)
  if row ~= item.row or col < item.col then
    return nil
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local typed = line:sub(item.col + 1, col)
  if item.text:sub(1, #typed) ~= typed then
    return nil
  end
  local rest = item.text:sub(#typed + 1)
  if rest == "" then
    return nil
  end
  return vim.split(rest, "\n", { plain = true })
end

local function clear(bufnr)
  local state = states[bufnr]
  if state and state.extmark then
    pcall(vim.api.nvim_buf_del_extmark, bufnr, M.ns, state.extmark)
    state.extmark = nil
  end
end

local function cancel(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  if state.timer then
    state.timer:stop()
  end
  if state.request then
    state.request.cancel()
    state.request = nil
  end
end

--- Draws the current item of `bufnr` at the cursor of the current window; false if nothing to show.
---@param bufnr integer
---@return boolean
function M.render(bufnr)
  clear(bufnr)
  local state = states[bufnr]
  local item = state and state.items[state.index]
  if not item then
    return false
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local lines = M.ghost_lines(bufnr, item, cursor[1] - 1, cursor[2])
  if not lines then
    return false
  end
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], "NexusGhostText" } })
  end
  state.extmark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, cursor[1] - 1, cursor[2], {
    virt_text = { { lines[1], "NexusGhostText" } },
    virt_text_pos = "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
  return true
end

--- Shows `items` for `bufnr` (used by the request handler, and by tests with items of their own).
---@param bufnr integer
---@param items nexus.GhostItem[]
function M.show(bufnr, items)
  local cursor = vim.api.nvim_win_get_cursor(0)
  states[bufnr] = states[bufnr] or { items = {}, index = 1, anchor = { row = 0, col = 0, tick = 0 } }
  local state = states[bufnr]
  state.items, state.index = items, 1
  state.anchor = { row = cursor[1] - 1, col = cursor[2], tick = vim.api.nvim_buf_get_changedtick(bufnr) }
  return M.render(bufnr)
end

--- The ghost text currently shown in `bufnr` (for tests and statuslines), or nil.
---@param bufnr? integer
---@return string?
function M.visible(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local state = states[bufnr]
  if not state or not state.extmark then
    return nil
  end
  local mark = vim.api.nvim_buf_get_extmark_by_id(bufnr, M.ns, state.extmark, { details = true })
  local details = mark and mark[3]
  if not details then
    return nil
  end
  local parts = { details.virt_text and details.virt_text[1][1] or "" }
  for _, vl in ipairs(details.virt_lines or {}) do
    table.insert(parts, vl[1][1])
  end
  return table.concat(parts, "\n")
end

--- Inserts the shown item; returns false when nothing was shown (so a mapping can fall through).
---@param bufnr? integer
---@return boolean
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if native() then
    local ok, accepted = pcall(vim.lsp.inline_completion.get, { bufnr = bufnr })
    return ok and accepted == true
  end
  local state = states[bufnr]
  if not state or not state.extmark then
    return false
  end
  local item = state.items[state.index]
  clear(bufnr)
  cancel(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local end_row, end_col = math.max(item.end_row, cursor[1] - 1), cursor[2]
  if item.end_row > cursor[1] - 1 or (item.end_row == cursor[1] - 1 and item.end_col > cursor[2]) then
    end_row, end_col = item.end_row, item.end_col
  end
  if item.snippet then
    vim.api.nvim_buf_set_text(bufnr, item.row, item.col, end_row, end_col, { "" })
    vim.api.nvim_win_set_cursor(0, { item.row + 1, item.col })
    vim.snippet.expand(item.snippet)
  else
    local lines = vim.split(item.text, "\n", { plain = true })
    vim.api.nvim_buf_set_text(bufnr, item.row, item.col, end_row, end_col, lines)
    local last_col = (#lines == 1 and item.col or 0) + #lines[#lines]
    vim.api.nvim_win_set_cursor(0, { item.row + #lines, last_col })
  end
  states[bufnr].items = {}
  if item.command then
    local client = client_mod.get(bufnr)
    if client then
      client:exec_cmd(item.command, { bufnr = bufnr })
    end
  end
  return true
end

--- Hides the ghost text; returns false when there was none.
---@param bufnr? integer
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local shown = states[bufnr] and states[bufnr].extmark ~= nil
  cancel(bufnr)
  clear(bufnr)
  if states[bufnr] then
    states[bufnr].items = {}
  end
  return shown
end

--- Shows the next candidate, if there are several.
---@param bufnr? integer
function M.next(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if native() then
    local ic = vim.lsp.inline_completion
    local step = ic.select or ic.jump
    if step then
      pcall(step, { bufnr = bufnr, count = 1 })
    end
    return
  end
  local state = states[bufnr]
  if state and #state.items > 1 then
    state.index = state.index % #state.items + 1
    M.render(bufnr)
  end
end

--- Asks the server now (0.11 path); the reply is shown if the buffer and cursor did not move.
---@param bufnr integer
---@param trigger? integer 1 invoked, 2 automatic
function M.request(bufnr, trigger)
  local client = client_mod.get(bufnr)
  if not client or not client:supports_method("textDocument/inlineCompletion", bufnr) then
    return
  end
  cancel(bufnr)
  states[bufnr] = states[bufnr] or { items = {}, index = 1, anchor = { row = 0, col = 0, tick = 0 } }
  local state = states[bufnr]
  local cursor = vim.api.nvim_win_get_cursor(0)
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = client_mod.position_params(client)
  params.context = { triggerKind = trigger or 2 }
  state.request = client_mod.request("textDocument/inlineCompletion", params, function(err, result)
    state.request = nil
    if err then
      return
    end
    vim.schedule(function()
      -- An automatic request only matters while still typing; an invoked one (a key) shows anyway.
      local typing = vim.api.nvim_get_mode().mode:match("^i") ~= nil
      if not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_get_current_buf() ~= bufnr
        or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick or (trigger ~= 1 and not typing) then
        return
      end
      local now = vim.api.nvim_win_get_cursor(0)
      if now[1] ~= cursor[1] or now[2] ~= cursor[2] then
        return
      end
      M.show(bufnr, M.items_from(bufnr, result, client.offset_encoding, cursor))
    end)
  end, { bufnr = bufnr })
end

local function schedule(bufnr)
  local state = states[bufnr]
  local delay = require("nexus.config").get().inline.debounce_ms
  state.timer = state.timer or vim.uv.new_timer()
  state.timer:stop()
  state.timer:start(delay, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_get_current_buf() == bufnr then
      M.request(bufnr, 2)
    end
  end))
end

local function map_keys(bufnr)
  local keys = require("nexus.config").get().inline.keys
  local function expr(lhs, fn, desc)
    if not lhs then
      return
    end
    vim.keymap.set("i", lhs, function()
      if fn(bufnr) then
        return ""
      end
      return vim.api.nvim_replace_termcodes(lhs, true, false, true)
    end, { buffer = bufnr, expr = true, replace_keycodes = false, desc = desc })
  end
  -- The buffer text cannot change inside an <expr> mapping: accept through a scheduled call.
  if keys.accept then
    local key = vim.api.nvim_replace_termcodes(keys.accept, true, false, true)
    vim.keymap.set("i", keys.accept, function()
      if native() then
        -- Only the built-in module knows whether a candidate is shown: ask it, else replay the key.
        vim.schedule(function()
          if not M.accept(bufnr) then
            vim.api.nvim_feedkeys(key, "n", false)
          end
        end)
        return ""
      end
      if M.visible(bufnr) == nil then
        return key
      end
      vim.schedule(function()
        M.accept(bufnr)
      end)
      return ""
    end, { buffer = bufnr, expr = true, replace_keycodes = false, desc = "nexus: accept the inline completion" })
  end
  expr(keys.dismiss, M.dismiss, "nexus: dismiss the inline completion")
  expr(keys.next, function(b)
    M.next(b)
    return true
  end, "nexus: next inline completion")
end

--- Turns inline completion on for `bufnr` (called on LspAttach of the nexus client).
---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  local options = require("nexus.config").get().inline
  if not options.enabled or not client:supports_method("textDocument/inlineCompletion", bufnr) then
    return
  end
  map_keys(bufnr)
  if native() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr, client_id = client.id })
    log.debug("inline completion: built-in (Neovim 0.12+) for buffer %d", bufnr)
    return
  end
  if states[bufnr] and states[bufnr].augroup then
    return
  end
  states[bufnr] = states[bufnr] or { items = {}, index = 1, anchor = { row = 0, col = 0, tick = 0 } }
  local group = vim.api.nvim_create_augroup("nexus.inline." .. bufnr, { clear = true })
  states[bufnr].augroup = group
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      if not M.render(bufnr) then
        schedule(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      -- Still consistent with what is typed at the new cursor (render checks)? Else it goes.
      local state = states[bufnr]
      if state and state.extmark and not M.render(bufnr) then
        M.dismiss(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.data and args.data.client_id == client.id then
        M.detach(bufnr)
      end
    end,
  })
  log.debug("inline completion: ghost text (Neovim 0.11) for buffer %d", bufnr)
end

---@param bufnr integer
function M.detach(bufnr)
  M.dismiss(bufnr)
  local state = states[bufnr]
  if state then
    if state.augroup then
      pcall(vim.api.nvim_del_augroup_by_id, state.augroup)
    end
    if state.timer then
      state.timer:close()
    end
  end
  states[bufnr] = nil
end

return M
