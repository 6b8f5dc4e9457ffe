--- Scratch buffers and windows for answers and run output.

local M = {}

---@param name string
---@param filetype string
---@return integer bufnr
function M.scratch(name, filetype)
  local existing = vim.fn.bufnr(name)
  if existing ~= -1 and vim.api.nvim_buf_is_valid(existing) then
    return existing
  end
  local bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(bufnr, name)
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "hide"
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].filetype = filetype
  return bufnr
end

--- Shows `bufnr` in a window of `kind` ("split", "vsplit", "float", "tab", "bottom"), reusing a window
--- that already shows it; returns the window. Focus stays where it was unless `focus`.
---@param bufnr integer
---@param kind string
---@param opts? { height?: integer, focus?: boolean, title?: string }
---@return integer winid
function M.show(bufnr, kind, opts)
  opts = opts or {}
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    return win
  end
  local previous = vim.api.nvim_get_current_win()
  if kind == "float" then
    local width = math.min(100, math.floor(vim.o.columns * 0.8))
    local height = math.min(40, math.floor(vim.o.lines * 0.7))
    win = vim.api.nvim_open_win(bufnr, true, {
      relative = "editor",
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      border = "rounded",
      title = opts.title and (" " .. opts.title .. " ") or nil,
    })
  elseif kind == "tab" then
    vim.cmd.tabnew()
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, bufnr)
  else
    local split = ({ split = "below", vsplit = "right", bottom = "below" })[kind] or "below"
    win = vim.api.nvim_open_win(bufnr, false, { split = split, win = kind == "bottom" and -1 or 0,
      height = opts.height })
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  if not opts.focus and kind ~= "float" and kind ~= "tab" and vim.api.nvim_win_is_valid(previous) then
    vim.api.nvim_set_current_win(previous)
  end
  return win
end

--- Replaces the lines of a scratch buffer (which users may have made read-only).
---@param bufnr integer
---@param lines string[]
---@param first? integer 0-based first line to replace (default 0)
function M.set_lines(bufnr, lines, first)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, first or 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
end

--- Keeps windows showing `bufnr` scrolled to its end.
---@param bufnr integer
function M.follow(bufnr)
  local count = vim.api.nvim_buf_line_count(bufnr)
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    vim.api.nvim_win_set_cursor(win, { count, 0 })
  end
end

return M
