--- Talking to the `nexus` language server client: finding it, and requests that stream partial
--- results (`partialResultToken` + `$/progress`, docs/lsp-extensions.md).

local log = require("nexus.log")

local M = {}

M.name = "nexus"

local METHOD_NOT_FOUND = -32601
local REQUEST_CANCELLED = -32800
local SERVER_CANCELLED = -32802

---@type table<string, fun(value: any)>
local partials = {}
local counter = 0

--- The `$/progress` handler of the nexus client: partial results go to their request's callback,
--- everything else (indexing progress) to Neovim's own handler (`LspProgress`, the statusline).
---@type lsp.Handler
function M.progress_handler(err, result, ctx, config)
  local on_partial = result and partials[tostring(result.token)]
  if on_partial then
    on_partial(result.value)
    return
  end
  return vim.lsp.handlers["$/progress"](err, result, ctx, config)
end

--- The nexus client attached to `bufnr` (default: current), else any running nexus client.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.get(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr or vim.api.nvim_get_current_buf() })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

---@param err? lsp.ResponseError
function M.is_method_not_found(err)
  return err ~= nil and err.code == METHOD_NOT_FOUND
end

---@param err? lsp.ResponseError
function M.is_cancelled(err)
  return err ~= nil and (err.code == REQUEST_CANCELLED or err.code == SERVER_CANCELLED)
end

--- A sentence for the user about a failed request.
---@param what string
---@param err lsp.ResponseError|string
function M.describe(what, err)
  if type(err) == "table" and M.is_method_not_found(err) then
    return ("%s is not available: this nexus server does not implement it (upgrade nexus-ide)"):format(what)
  end
  local message = type(err) == "table" and (err.message or vim.inspect(err)) or tostring(err)
  return ("%s failed: %s"):format(what, message)
end

---@class nexus.Request
---@field client vim.lsp.Client
---@field id integer
---@field cancel fun()

--- Sends `method`; `on_partial` (if given) gets each streamed partial result, `on_done(err, result)`
--- the end. Returns the request (with `cancel()`), or nil and an error when no server is running.
---@param method string
---@param params table
---@param on_done fun(err: lsp.ResponseError?, result: any)
---@param opts? { bufnr?: integer, on_partial?: fun(value: any) }
---@return nexus.Request? request
---@return string? error
function M.request(method, params, on_done, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = M.get(bufnr)
  if not client then
    return nil, "the nexus language server is not running for this buffer (is the filetype supported? see :checkhealth nexus)"
  end
  local token
  if opts.on_partial then
    counter = counter + 1
    token = ("nexus-nvim-%d-%d"):format(vim.uv.os_getpid(), counter)
    partials[token] = opts.on_partial
    params = vim.tbl_extend("force", params, { partialResultToken = token })
  end
  local finished = false
  local ok, id = client:request(method, params, function(err, result)
    finished = true
    if token then
      partials[token] = nil
    end
    if err and not M.is_cancelled(err) then
      log.warn("%s: %s", method, err.message or vim.inspect(err))
    end
    on_done(err, result)
  end, vim.api.nvim_buf_is_valid(bufnr) and bufnr or nil)
  if not ok or not id then
    if token then
      partials[token] = nil
    end
    return nil, "the nexus language server has stopped"
  end
  log.debug("%s sent (id %d)", method, id)
  return {
    client = client,
    id = id,
    cancel = function()
      if not finished then
        client:cancel_request(id)
      end
    end,
  }
end

--- Synchronous request for health checks and tests; returns result, or nil and an error message.
---@param method string
---@param params table
---@param timeout_ms? integer
---@param bufnr? integer
function M.request_sync(method, params, timeout_ms, bufnr)
  local client = M.get(bufnr)
  if not client then
    return nil, "the nexus language server is not running"
  end
  local response, err = client:request_sync(method, params, timeout_ms or 5000, bufnr or 0)
  if not response then
    return nil, err or "no response"
  end
  if response.err then
    return nil, M.describe(method, response.err), response.err
  end
  return response.result
end

--- Text document position params for the cursor, in the client's position encoding.
---@param client vim.lsp.Client
---@param winid? integer
function M.position_params(client, winid)
  return vim.lsp.util.make_position_params(winid or 0, client.offset_encoding)
end

--- LSP range covering whole lines [first, last] (1-based, inclusive).
---@param bufnr integer
---@param first integer
---@param last integer
---@param client vim.lsp.Client
---@return lsp.Range
function M.line_range(bufnr, first, last, client)
  local count = vim.api.nvim_buf_line_count(bufnr)
  if last < count then
    return { start = { line = first - 1, character = 0 }, ["end"] = { line = last, character = 0 } }
  end
  local text = vim.api.nvim_buf_get_lines(bufnr, last - 1, last, false)[1] or ""
  local width = vim.str_utfindex(text, client.offset_encoding)
  return { start = { line = first - 1, character = 0 }, ["end"] = { line = last - 1, character = width } }
end

--- LSP range of the last characterwise visual selection.
---@param bufnr integer
---@param client vim.lsp.Client
---@return lsp.Range
function M.visual_range(bufnr, client)
  return vim.lsp.util.make_given_range_params(nil, nil, bufnr, client.offset_encoding).range
end

return M
