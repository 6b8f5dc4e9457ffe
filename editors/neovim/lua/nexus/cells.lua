--- `# %%` cells (the percent format of Jupytext, Spyder and VS Code). Same rules as the VS Code
--- extension's src/common/cells.ts: a marker line opens a cell that runs to the line before the
--- next marker; lines before the first marker are a cell when they hold code; no marker, one cell;
--- `# %% [markdown]` cells are text. C-family filetypes write the marker `// %%`.

local M = {}

---@class nexus.Cell
---@field start_line integer 1-based marker line (or 1 for the cell before any marker)
---@field end_line integer 1-based, inclusive
---@field body_start integer first line after the marker
---@field kind "code"|"markdown"
---@field title string
---@field has_marker boolean

local slash = {
  javascript = true, javascriptreact = true, typescript = true, typescriptreact = true,
  java = true, c = true, cpp = true, cs = true, go = true, rust = true,
}

---@param filetype string
---@return string
function M.comment_leader(filetype)
  return slash[filetype] and "//" or "#"
end

local patterns = { ["#"] = "^%s*#%s*%%%%(.*)$", ["//"] = "^%s*//%s*%%%%(.*)$" }

---@param lines string[]
---@param filetype? string
---@return nexus.Cell[]
function M.find(lines, filetype)
  local pattern = patterns[M.comment_leader(filetype or "python")]
  local markers = {}
  for i, line in ipairs(lines) do
    -- A plain search first: most lines have no "%%", and a pattern match costs more.
    local rest = line:find("%%", 1, true) and line:match(pattern)
    if rest then
      markers[#markers + 1] = { line = i, rest = rest }
    end
  end
  local last = math.max(#lines, 1)
  if #markers == 0 then
    return { { start_line = 1, end_line = last, body_start = 1, kind = "code", title = "", has_marker = false } }
  end
  local cells = {}
  local first = markers[1].line
  for i = 1, first - 1 do
    if vim.trim(lines[i]) ~= "" then
      table.insert(cells, { start_line = 1, end_line = first - 1, body_start = 1, kind = "code", title = "", has_marker = false })
      break
    end
  end
  for i, m in ipairs(markers) do
    local stop = markers[i + 1] and markers[i + 1].line - 1 or last
    local tag = m.rest:lower():match("%[%s*(markdown)%s*%]") or m.rest:lower():match("%[%s*(md)%s*%]")
    table.insert(cells, {
      start_line = m.line,
      end_line = stop,
      body_start = math.min(m.line + 1, stop + 1),
      kind = tag and "markdown" or "code",
      title = vim.trim((m.rest:gsub("%b[]", ""))),
      has_marker = true,
    })
  end
  return cells
end

--- The cell containing 1-based `line`, or nil when `line` is outside the text.
---@param lines string[]
---@param line integer
---@param filetype? string
---@return nexus.Cell?
function M.at(lines, line, filetype)
  if line < 1 or line > math.max(#lines, 1) then
    return nil
  end
  for _, cell in ipairs(M.find(lines, filetype)) do
    if cell.start_line <= line and line <= cell.end_line then
      return cell
    end
  end
end

--- The code a cell runs: its body, trailing blank lines dropped.
---@param lines string[]
---@param cell nexus.Cell
---@return string
function M.source(lines, cell)
  local body = vim.list_slice(lines, cell.body_start, cell.end_line)
  while #body > 0 and vim.trim(body[#body]) == "" do
    table.remove(body)
  end
  return table.concat(body, "\n")
end

--- The next code cell after 1-based `line`.
---@param lines string[]
---@param line integer
---@param filetype? string
---@return nexus.Cell?
function M.next_code(lines, line, filetype)
  for _, cell in ipairs(M.find(lines, filetype)) do
    if cell.start_line > line and cell.kind == "code" then
      return cell
    end
  end
end

return M
