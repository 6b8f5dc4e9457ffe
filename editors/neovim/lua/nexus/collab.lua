--- Live sessions in Neovim: `:NexusShare` (the current file's buffer), `:NexusJoin {room}`,
--- `:NexusSessionSave[!]`, `:NexusLeave`. The others' cursors and selections are extmarks.
---
--- The Yjs side is a helper process (`nexus collab helper`, pycrdt; why: its docstring): this module
--- sends it the whole buffer after each change and applies the byte-range replacements it sends back,
--- but only onto the buffer version they were computed for (`b:changedtick`); a stale one is refused
--- and the helper sends a fresh one once it has merged the local change.

local log = require("nexus.log")

local M = {}

local ns = vim.api.nvim_create_namespace("nexus.collab")

---@class nexus.CollabSession
---@field buf integer
---@field room string
---@field job integer
---@field applying boolean
---@field tick integer the changedtick the helper last heard of
---@field next_id integer
---@field pending table<integer, fun(err: string?, result: any)>
---@field partial string
---@field cursors table[]

---@type table<integer, nexus.CollabSession>
M.sessions = {}

--- The buffer as the shared text: its lines, and the final newline a file has when 'eol' is set.
local function buffer_text(buf)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  return vim.bo[buf].eol and text .. "\n" or text
end

--- Replaces the whole buffer with `text` ('eol' says whether it ends with a newline).
local function set_text(buf, text)
  local eol = text:sub(-1) == "\n"
  local lines = vim.split(eol and text:sub(1, -2) or text, "\n", { plain = true })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].eol = eol
  vim.bo[buf].fixeol = false
end

local function send(s, message)
  vim.fn.chansend(s.job, vim.json.encode(message) .. "\n")
end

local function request(s, method, params, callback)
  s.next_id = s.next_id + 1
  s.pending[s.next_id] = callback
  send(s, { id = s.next_id, method = method, params = params })
end

--- (row, col) of byte `offset` in the buffer, counting a newline after every line but the last.
local function position(buf, offset)
  local count = vim.api.nvim_buf_line_count(buf)
  local lo, hi = 0, count - 1
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if vim.api.nvim_buf_get_offset(buf, mid) <= offset then
      lo = mid
    else
      hi = mid - 1
    end
  end
  return lo, offset - vim.api.nvim_buf_get_offset(buf, lo)
end

local function paint(s)
  if not vim.api.nvim_buf_is_valid(s.buf) then
    return
  end
  vim.api.nvim_buf_clear_namespace(s.buf, ns, 0, -1)
  local size = #buffer_text(s.buf)
  for i, c in ipairs(s.cursors) do
    local group = "NexusCollabCursor" .. i
    vim.api.nvim_set_hl(0, group, { fg = c.color, bold = true, default = false })
    vim.api.nvim_set_hl(0, group .. "Sel", { bg = c.color, blend = 70, default = false })
    local head_row, head_col = position(s.buf, math.min(c.head, size))
    local anchor_row, anchor_col = position(s.buf, math.min(c.anchor, size))
    vim.api.nvim_buf_set_extmark(s.buf, ns, head_row, head_col, {
      virt_text = { { "▏" .. c.user .. (c.readOnly and " (viewer)" or ""), group } },
      virt_text_pos = "inline",
      right_gravity = false,
    })
    if c.anchor ~= c.head then
      local sr, sc, er, ec = anchor_row, anchor_col, head_row, head_col
      if c.anchor > c.head then
        sr, sc, er, ec = head_row, head_col, anchor_row, anchor_col
      end
      vim.api.nvim_buf_set_extmark(s.buf, ns, sr, sc, { end_row = er, end_col = ec, hl_group = group .. "Sel" })
    end
  end
end

local function on_remote(s, p)
  if p.base ~= vim.b[s.buf].changedtick or p.base ~= s.tick then
    send(s, { method = "rejected" }) -- the buffer changed since: the helper sends a fresh one after merging it
    return
  end
  local full = buffer_text(s.buf)
  s.applying = true
  local ok, err
  if p.start + p.old >= #full - (vim.bo[s.buf].eol and 1 or 0) then
    -- The change touches the final newline, which is no character of the buffer: replace it all.
    ok, err = pcall(set_text, s.buf, full:sub(1, p.start) .. p.text .. full:sub(p.start + p.old + 1))
  else
    local sr, sc = position(s.buf, p.start)
    local er, ec = position(s.buf, p.start + p.old)
    ok, err = pcall(vim.api.nvim_buf_set_text, s.buf, sr, sc, er, ec, vim.split(p.text, "\n", { plain = true }))
  end
  s.applying = false
  if not ok then
    log.error("collab %s: cannot apply a remote change: %s", s.room, err)
    send(s, { method = "rejected" })
    return
  end
  s.tick = vim.b[s.buf].changedtick
  send(s, { method = "applied", params = { tick = s.tick } })
  paint(s)
end

local function on_message(s, message)
  if message.id then
    local callback = s.pending[message.id]
    s.pending[message.id] = nil
    if callback then
      callback(message.error, message.result)
    end
  elseif message.method == "remote" then
    on_remote(s, message.params)
  elseif message.method == "cursors" then
    s.cursors = message.params.cursors
    paint(s)
  elseif message.method == "closed" then
    log.notify(("nexus: the live session %s ended (%s %s)"):format(s.room, tostring(message.params.code),
      message.params.reason or ""), vim.log.levels.WARN)
    M.leave(s.buf)
  end
end

local function start_helper(buf, room)
  local s = { buf = buf, room = room, applying = false, tick = 0, next_id = 0, pending = {}, partial = "", cursors = {} }
  local cmd = require("nexus.config").collab_cmd()
  s.job = vim.fn.jobstart(cmd, {
    on_stdout = function(_, data)
      data[1] = s.partial .. data[1]
      s.partial = table.remove(data)
      for _, line in ipairs(data) do
        if line ~= "" then
          local ok, message = pcall(vim.json.decode, line)
          if ok and type(message) == "table" then
            on_message(s, message)
          end
        end
      end
    end,
    on_stderr = function(_, data)
      for _, line in ipairs(data) do
        if line ~= "" then
          log.debug("collab helper: %s", line)
        end
      end
    end,
    on_exit = function(_, code)
      if M.sessions[buf] == s then
        M.sessions[buf] = nil
        log.notify(("nexus: the live-session helper exited (%d)"):format(code), vim.log.levels.WARN)
      end
    end,
  })
  if s.job <= 0 then
    log.notify("nexus: cannot start the live-session helper: " .. table.concat(cmd, " "), vim.log.levels.ERROR)
    return nil
  end
  return s
end

local function attach(s)
  local group = vim.api.nvim_create_augroup("nexus.collab." .. s.buf, { clear = true })
  -- on_lines fires for every change (typing, :s, API calls); the buffer goes out once per tick of the loop.
  local queued = false
  vim.api.nvim_buf_attach(s.buf, false, {
    on_lines = function()
      if M.sessions[s.buf] ~= s then
        return true -- detach
      end
      if s.applying or queued then
        return
      end
      queued = true
      vim.schedule(function()
        queued = false
        if M.sessions[s.buf] ~= s or not vim.api.nvim_buf_is_valid(s.buf) then
          return
        end
        s.tick = vim.b[s.buf].changedtick
        send(s, { method = "buffer", params = { tick = s.tick, text = buffer_text(s.buf) } })
      end)
    end,
  })
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI" }, {
    group = group,
    buffer = s.buf,
    callback = function()
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local offset = vim.api.nvim_buf_get_offset(s.buf, row - 1) + col
      send(s, { method = "cursor", params = { tick = s.tick, anchor = offset, head = offset } })
    end,
  })
  vim.api.nvim_create_autocmd({ "BufWipeout" }, { group = group, buffer = s.buf, callback = function() M.leave(s.buf) end })
end

--- The token: `collab.token`, $NEXUS_COLLAB_TOKEN, or a login (asks for the password).
local function with_token(s, callback)
  local options = require("nexus.config").get().collab
  local token = options.token or vim.env.NEXUS_COLLAB_TOKEN
  if token and token ~= "" then
    return callback(token)
  end
  local user = options.user or vim.fn.input("Nexus gateway user: ")
  local password = vim.fn.inputsecret("Password for " .. user .. ": ")
  request(s, "login", { gateway = options.gateway, user = user, password = password }, function(err, result)
    if err then
      log.notify("nexus: login failed: " .. err, vim.log.levels.ERROR)
      return
    end
    options.token = result.token
    callback(result.token)
  end)
end

--- Joins `room` in buffer `buf`: `share` keeps the buffer's text (it wins over the room's), else the
--- buffer becomes the room's text.
---@param buf integer
---@param room string
---@param share boolean
function M.start(buf, room, share)
  M.leave(buf)
  local s = start_helper(buf, room)
  if not s then
    return
  end
  M.sessions[buf] = s
  with_token(s, function(token)
    s.tick = vim.b[buf].changedtick
    request(s, "join", { gateway = require("nexus.config").get().collab.gateway, token = token, room = room,
      text = buffer_text(buf), share = share, tick = s.tick }, function(err, result)
      if err then
        log.notify(("nexus: cannot join %s: %s"):format(room, err), vim.log.levels.ERROR)
        M.leave(buf)
        return
      end
      if not result.shared then
        s.applying = true
        set_text(buf, result.text)
        s.applying = false
        s.tick = vim.b[buf].changedtick
        send(s, { method = "buffer", params = { tick = s.tick, text = buffer_text(buf) } })
      end
      attach(s)
      vim.b[buf].nexus_collab_room = room
      log.notify(("nexus: %s live session %s"):format(share and "sharing" or "joined", room), vim.log.levels.INFO)
    end)
  end)
end

--- `:NexusShare`: the current buffer's file, its path relative to the working directory as the room.
function M.share()
  local buf = vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(buf)
  if name == "" then
    log.notify("nexus: save the buffer as a file in the workspace first (the room is its path)", vim.log.levels.WARN)
    return
  end
  M.start(buf, vim.fn.fnamemodify(name, ":."), true)
end

--- `:NexusJoin {room}`: a scratch buffer named `nexus://collab/{room}` bound to the room.
---@param room string
function M.join(room)
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_name(buf, "nexus://collab/" .. room)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].swapfile = false
  local ft = vim.filetype.match({ filename = room })
  if ft then
    vim.bo[buf].filetype = ft
  end
  vim.api.nvim_set_current_buf(buf)
  M.start(buf, room, false)
end

--- `:NexusSessionSave[!]`: the gateway writes the shared text to the room's file (! overwrites disk changes).
---@param force boolean
function M.save(force)
  local s = M.sessions[vim.api.nvim_get_current_buf()]
  if not s then
    log.notify("nexus: this buffer is not in a live session", vim.log.levels.WARN)
    return
  end
  request(s, "save", { force = force }, function(err, result)
    if err then
      log.notify("nexus: " .. err .. (force and "" or " (:NexusSessionSave! overwrites)"), vim.log.levels.ERROR)
    else
      log.notify(("nexus: saved %s (%d bytes)"):format(result.path, result.bytes), vim.log.levels.INFO)
    end
  end)
end

---@param buf? integer
function M.leave(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local s = M.sessions[buf]
  if not s then
    return
  end
  M.sessions[buf] = nil
  pcall(vim.api.nvim_del_augroup_by_name, "nexus.collab." .. buf)
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
    vim.b[buf].nexus_collab_room = nil
  end
  pcall(vim.fn.chanclose, s.job, "stdin")
end

return M
