--- Text for the UI, free of editor state so the tests can check it: kernel outputs, AI answers with
--- their context receipt, search hits. The VS Code extension renders the same shapes
--- (src/common/answer.ts, output.ts); keep the two in step.

local M = {}

local function joined(value)
  if type(value) == "table" then
    return table.concat(vim.tbl_map(tostring, value), "")
  end
  return type(value) == "string" and value or ""
end

--- Removes terminal colour sequences (IPython tracebacks carry them).
---@param text string
function M.strip_ansi(text)
  return (text:gsub("\27%[[%d;?]*[ -/]*[@-~]", ""))
end

--- The text of one Jupyter output (nbformat shape), ending with a newline unless empty.
---@param item table
---@return string
function M.output_text(item)
  local kind = item.output_type
  local text = ""
  if kind == "stream" then
    text = joined(item.text)
  elseif kind == "execute_result" or kind == "display_data" then
    local data = item.data or {}
    if data["text/plain"] ~= nil then
      text = joined(data["text/plain"])
    else
      local kinds = vim.tbl_keys(data)
      table.sort(kinds)
      text = #kinds > 0 and ("[" .. table.concat(kinds, ", ") .. " output]") or ""
    end
  elseif kind == "error" then
    if type(item.traceback) == "table" and #item.traceback > 0 then
      text = table.concat(item.traceback, "\n")
    else
      text = ("%s: %s"):format(item.ename or "Error", item.evalue or "")
    end
  else
    text = joined(item.text)
  end
  text = M.strip_ansi(text)
  if text ~= "" and text:sub(-1) ~= "\n" then
    text = text .. "\n"
  end
  return text
end

--- The closing line of a run.
---@param result { exitCode: integer, executionTime: number }
function M.run_summary(result)
  local t = tonumber(result.executionTime) or 0
  local seconds = t >= 10 and ("%.1f"):format(t) or ("%.3f"):format(t)
  if result.exitCode == 0 then
    return ("[done in %s s]"):format(seconds)
  end
  return ("[failed with exit code %s after %s s]"):format(tostring(result.exitCode), seconds)
end

---@class nexus.Receipt
---@field uri string
---@field path string
---@field startLine integer 0-based
---@field endLine integer 0-based
---@field reason string

--- `path:first-last` with 1-based lines.
---@param entry nexus.Receipt
---@param path? string
function M.receipt_label(entry, path)
  local first, last = entry.startLine + 1, entry.endLine + 1
  path = path or entry.path
  return last > first and ("%s:%d-%d"):format(path, first, last) or ("%s:%d"):format(path, first)
end

---@param receipt nexus.Receipt[]
---@return string[]
function M.receipt_lines(receipt)
  if not receipt or #receipt == 0 then
    return { "**Context used:** none" }
  end
  local lines = { ("**Context used** (%d):"):format(#receipt), "" }
  for _, e in ipairs(receipt) do
    local reason = (e.reason and e.reason ~= "") and (" — " .. e.reason) or ""
    table.insert(lines, ("- `%s`%s"):format(M.receipt_label(e), reason))
  end
  return lines
end

---@param result table nexus/chat result
function M.footer(result)
  if not result.generated then
    return "_No AI provider is configured: this answer is the relevant code only. Set one up as "
      .. "docs/providers.md shows (e.g. ANTHROPIC_API_KEY, or `ai.provider` in setup())._"
  end
  local usage = result.usage or {}
  local tokens = {}
  if type(usage.inputTokens) == "number" then
    table.insert(tokens, ("%d in"):format(usage.inputTokens))
  end
  if type(usage.outputTokens) == "number" then
    table.insert(tokens, ("%d out"):format(usage.outputTokens))
  end
  local suffix = #tokens > 0 and (" · " .. table.concat(tokens, " / ") .. " tokens") or ""
  return ("_%s · %s%s_"):format(result.provider or "?", result.model or "?", suffix)
end

---@class nexus.Transcript
---@field title string
---@field prompt string
---@field parts string[]
---@field state "streaming"|"done"|"failed"|"cancelled"
---@field result? table
---@field problem? string
local Transcript = {}
Transcript.__index = Transcript

---@param title string
---@param prompt string
---@return nexus.Transcript
function M.transcript(title, prompt)
  return setmetatable({ title = title, prompt = prompt, parts = {}, state = "streaming" }, Transcript)
end

---@param delta string
function Transcript:append(delta)
  if self.state == "streaming" then
    table.insert(self.parts, delta)
  end
end

--- The final response is authoritative: it replaces what streamed.
---@param result table
function Transcript:finish(result)
  self.result = result
  self.parts = { result.text or "" }
  self.state = "done"
end

---@param message string
function Transcript:fail(message)
  self.problem = message
  self.state = "failed"
end

function Transcript:cancel()
  self.state = "cancelled"
end

---@return string
function Transcript:text()
  return table.concat(self.parts, "")
end

--- The answer as Markdown lines.
---@return string[]
function Transcript:lines()
  local out = { "# " .. self.title, "" }
  for _, line in ipairs(vim.split(self.prompt, "\n", { plain = true })) do
    table.insert(out, "> " .. line)
  end
  table.insert(out, "")
  local text = self:text()
  if text ~= "" then
    vim.list_extend(out, vim.split(text, "\n", { plain = true }))
  end
  if self.state == "streaming" then
    vim.list_extend(out, { "", "_streaming… (q or <C-c> in this buffer cancels)_" })
  elseif self.state == "cancelled" then
    vim.list_extend(out, { "", "_cancelled_" })
  elseif self.state == "failed" then
    vim.list_extend(out, { "", "**Error:** " .. (self.problem or "unknown error") })
  end
  if self.result then
    table.insert(out, "")
    vim.list_extend(out, M.receipt_lines(self.result.receipt))
    vim.list_extend(out, { "", M.footer(self.result) })
  end
  return out
end

--- Quickfix items for `nexus/search` hits (positions 0-based UTF-16 in, 1-based lines out).
---@param hits table[]
---@return table[]
function M.search_items(hits)
  local items = {}
  for _, hit in ipairs(hits or {}) do
    local preview = ""
    for line in (hit.preview or ""):gmatch("[^\n]+") do
      if vim.trim(line) ~= "" then
        preview = vim.trim(line)
        break
      end
    end
    local label = hit.name and (hit.kind and ("%s (%s)"):format(hit.name, hit.kind) or hit.name) or ""
    local text = label ~= "" and (preview ~= "" and (label .. ": " .. preview) or label) or preview
    table.insert(items, {
      filename = vim.uri_to_fname(hit.uri),
      lnum = hit.range.start.line + 1,
      col = hit.range.start.character + 1,
      text = text,
      user_data = hit,
    })
  end
  return items
end

return M
