--- :NexusSearch {query}: `nexus/search` over the workspace index into the quickfix list (or
--- `vim.ui.select` with `search.output = "select"`). `#name` searches symbols, `/name` file names,
--- anything else the text.

local client_mod = require("nexus.client")
local config = require("nexus.config")
local log = require("nexus.log")
local render = require("nexus.render")

local M = {}

---@param raw string
---@return string query
---@return "text"|"symbols"|"files" mode
function M.parse(raw)
  if raw:sub(1, 1) == "#" then
    return vim.trim(raw:sub(2)), "symbols"
  elseif raw:sub(1, 1) == "/" then
    return vim.trim(raw:sub(2)), "files"
  end
  return vim.trim(raw), "text"
end

--- Quickfix items for hits, with columns converted from the server's encoding to bytes.
---@param hits table[]
---@param encoding string
function M.items(hits, encoding)
  local texts = render.search_items(hits)
  local locations = vim.tbl_map(function(hit)
    return { uri = hit.uri, range = hit.range }
  end, hits)
  local items = vim.lsp.util.locations_to_items(locations, encoding)
  -- locations_to_items sorts by file and line; match texts back by position.
  local by_key = {}
  for _, item in ipairs(texts) do
    by_key[("%s:%d"):format(item.filename, item.lnum)] = by_key[("%s:%d"):format(item.filename, item.lnum)] or item
  end
  for _, item in ipairs(items) do
    local found = by_key[("%s:%d"):format(item.filename, item.lnum)]
    if found then
      item.text = found.text ~= "" and found.text or item.text
    end
  end
  return items
end

---@param raw string
---@param on_done? fun(items: table[]?, err: string?)
function M.search(raw, on_done)
  local query, mode = M.parse(raw or "")
  if query == "" then
    log.notify("nexus: :NexusSearch needs a query (#name for symbols, /name for files)", vim.log.levels.WARN)
    return
  end
  local source = vim.api.nvim_get_current_buf()
  local client = client_mod.get(source)
  local request, err = client_mod.request("nexus/search", { query = query, mode = mode, limit = config.get().search.limit },
    function(rpc_err, hits)
      vim.schedule(function()
        if rpc_err then
          local message = client_mod.describe("nexus/search", rpc_err)
          log.notify("nexus: " .. message)
          if on_done then
            on_done(nil, message)
          end
          return
        end
        local items = M.items(hits or {}, client and client.offset_encoding or "utf-16")
        local title = ("Nexus %s search: %s"):format(mode, query)
        if #items == 0 then
          log.notify(("nexus: no %s match for %q"):format(mode, query), vim.log.levels.INFO)
        elseif config.get().search.output == "select" then
          vim.ui.select(items, {
            prompt = title,
            format_item = function(item)
              return ("%s:%d: %s"):format(vim.fn.fnamemodify(item.filename, ":~:."), item.lnum, item.text)
            end,
          }, function(choice)
            if choice then
              vim.cmd.edit(vim.fn.fnameescape(choice.filename))
              vim.api.nvim_win_set_cursor(0, { choice.lnum, math.max(choice.col - 1, 0) })
            end
          end)
        else
          vim.fn.setqflist({}, " ", { title = title, items = items })
          vim.cmd("botright copen")
        end
        if on_done then
          on_done(items)
        end
      end)
    end, { bufnr = source })
  if not request then
    log.notify("nexus: " .. err)
  end
end

return M
