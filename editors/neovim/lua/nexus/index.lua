--- :NexusIndex (`nexus/reindex`) and :NexusStatus (`nexus/status`).

local client_mod = require("nexus.client")
local log = require("nexus.log")

local M = {}

local function sum(folders, key)
  local total = 0
  for _, f in ipairs(folders or {}) do
    total = total + (tonumber(f[key]) or 0)
  end
  return total
end

--- A one-line summary of a `nexus/reindex` result (a finished run, or background runs started).
---@param result table
function M.summary(result)
  if result.started then
    return ("nexus: indexing %d folder(s) in the background"):format(#result.started)
  end
  local folders = result.folders or {}
  return ("nexus: indexed %d file(s) in %d folder(s): %d parsed, %d unchanged, %d removed"):format(
    sum(folders, "files"), #folders, sum(folders, "parsed"), sum(folders, "unchanged"), sum(folders, "removed"))
end

function M.reindex()
  local request, err = client_mod.request("nexus/reindex", {}, function(rpc_err, result)
    if rpc_err then
      log.notify("nexus: " .. client_mod.describe("nexus/reindex", rpc_err))
      return
    end
    log.notify(M.summary(result or {}), vim.log.levels.INFO)
  end)
  if not request then
    log.notify("nexus: " .. err)
  end
end

--- Lines describing a `nexus/status` result.
---@param status table
---@return string[]
function M.status_lines(status)
  local version = status.version or (status.server and status.server.version) or "?"
  local lines = { "nexus " .. version }
  for _, f in ipairs(status.folders or {}) do
    local index = f.index or f
    local state = f.state and (" [" .. f.state .. "]") or ""
    table.insert(lines, ("%s%s: %s files, %s symbols"):format(f.root or f.uri or "?", state,
      tostring(index.files or 0), tostring(index.symbols or 0)))
    if f.error and f.error ~= vim.NIL then
      table.insert(lines, "  error: " .. tostring(f.error))
    end
  end
  return lines
end

function M.status()
  local request, err = client_mod.request("nexus/status", {}, function(rpc_err, result)
    vim.schedule(function()
      if rpc_err then
        log.notify("nexus: " .. client_mod.describe("nexus/status", rpc_err))
        return
      end
      vim.notify(table.concat(M.status_lines(result or {}), "\n"), vim.log.levels.INFO, { title = "nexus" })
    end)
  end)
  if not request then
    log.notify("nexus: " .. err)
  end
end

return M
