-- Client-side costs of nexus.nvim on a large buffer, next to the raw Neovim API doing the same drawing
-- (the reference, measured in the same run). Run: python tests/editors/bench_nvim.py
local inline = require("nexus.inline")
local render = require("nexus.render")
local cells = require("nexus.cells")
local ui = require("nexus.ui")

local N = tonumber(arg[1]) or 300

local function stats(samples)
  table.sort(samples)
  local function at(q) return samples[math.max(1, math.ceil(#samples * q))] / 1e6 end
  return { median = at(0.5), p95 = at(0.95) }
end

local function time(fn)
  local samples = {}
  for i = 1, N do
    local t0 = vim.uv.hrtime()
    fn(i)
    samples[i] = vim.uv.hrtime() - t0
  end
  return stats(samples)
end

-- A 20,000-line Python file with a `# %%` marker every 100 lines.
local lines = {}
for i = 1, 20000 do
  lines[i] = (i % 100 == 1) and ("# %% cell " .. i) or ("value_" .. i .. " = compute(" .. i .. ", 'é')  # comment")
end
vim.cmd("enew")
local buf = vim.api.nvim_get_current_buf()
vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
vim.bo[buf].filetype = "python"
vim.o.virtualedit = "onemore"
local row = 10000
vim.api.nvim_win_set_cursor(0, { row, #lines[row] })
local col = #lines[row]
local raw = { items = { { insertText = lines[row] .. "\n    return total\nprint(total)",
  range = { start = { line = row - 1, character = 0 }, ["end"] = { line = row - 1, character = col - 1 } } } } }

local results = {}
results.ghost = time(function()
  inline.show(buf, inline.items_from(buf, raw, "utf-16", { row, col }))
  inline.dismiss(buf)
end)
local ns = vim.api.nvim_create_namespace("bench.reference")
results.ghost_reference = time(function()
  local id = vim.api.nvim_buf_set_extmark(buf, ns, row - 1, col, { virt_text = { { "", "Comment" } },
    virt_text_pos = "inline", virt_lines = { { { "    return total", "Comment" } }, { { "print(total)", "Comment" } } } })
  vim.api.nvim_buf_del_extmark(buf, ns, id)
end)

results.cells = time(function() cells.at(lines, row, "python") end)
results.cells_reference = time(function()
  local n = 0
  for _, l in ipairs(lines) do
    if l:find("%%", 1, true) then n = n + 1 end
  end
end)

-- An 8 KB answer with 10 receipt entries, redrawn into its buffer (one redraw per streamed batch).
local t = render.transcript("Nexus: Ask", "How does the indexer skip files?")
for i = 1, 200 do t:append(("Sentence %d of the answer, with `code` in it. "):format(i) .. (i % 8 == 0 and "\n" or "")) end
t:finish({ text = t:text(), provider = "anthropic", model = "m", generated = true, usage = {},
  receipt = vim.tbl_map(function(i) return { uri = "file:///w/f" .. i .. ".py", path = "f" .. i .. ".py",
    startLine = i, endLine = i + 20, reason = "definition" } end, vim.fn.range(1, 10)) })
local answer_buf = ui.scratch("nexus://bench-answer", "markdown")
results.answer = time(function() ui.set_lines(answer_buf, t:lines()) end)
local prepared = t:lines()
vim.bo[answer_buf].modifiable = true
results.answer_reference = time(function() vim.api.nvim_buf_set_lines(answer_buf, 0, -1, false, prepared) end)

io.stdout:write(vim.json.encode(results) .. "\n")
vim.cmd("qall!")
