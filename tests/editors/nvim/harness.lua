-- A small test runner for headless Neovim: `-u harness.lua` with NEXUS_PLUGIN (the plugin folder),
-- NEXUS_SPEC (a spec file returning a function that registers cases) and NEXUS_RESULTS (where the
-- JSON results go). Each case runs in order; an error fails it, T.skip(reason) skips it. Waits use
-- vim.wait on a condition with a timeout (the event loop keeps running while waiting).

vim.opt.runtimepath:prepend(os.getenv("NEXUS_PLUGIN"))
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"

local T = { cases = {} }
_G.T = T

function T.test(name, fn)
  table.insert(T.cases, { name = name, fn = fn })
end

function T.skip(reason)
  error({ skip = reason }, 0)
end

function T.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function T.ok(value, what)
  if not value then
    error(what or "expected a true value", 2)
  end
  return value
end

function T.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    error(("%sexpected %s to contain %s"):format(what and (what .. ": ") or "", vim.inspect(haystack), vim.inspect(needle)), 2)
  end
end

--- Waits until `cond()` is truthy, at most `ms`; fails naming `what` otherwise.
function T.wait(ms, cond, what)
  local value
  local ok = vim.wait(ms, function()
    value = cond()
    return value
  end, 20)
  if not ok then
    error(("timed out after %d ms waiting for %s"):format(ms, what), 2)
  end
  return value
end

function T.buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), "\n")
end

local function run()
  local register = dofile(os.getenv("NEXUS_SPEC"))
  register(T)
  local results = {}
  for _, case in ipairs(T.cases) do
    local ok, err = xpcall(case.fn, function(e)
      if type(e) == "table" and e.skip then
        return e
      end
      return debug.traceback(tostring(e), 2)
    end)
    local record = { name = case.name, outcome = "passed" }
    if not ok then
      if type(err) == "table" and err.skip then
        record.outcome, record.reason = "skipped", err.skip
      else
        record.outcome, record.error = "failed", tostring(err)
      end
    end
    table.insert(results, record)
    -- Results are written after each case: a crash later still reports what ran.
    local file = assert(io.open(os.getenv("NEXUS_RESULTS"), "w"))
    file:write(vim.json.encode(results))
    file:close()
  end
  if T.after then
    pcall(T.after)
  end
  vim.cmd("qall!")
end

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, err = xpcall(run, debug.traceback)
      if not ok then
        io.stderr:write("harness error: " .. tostring(err) .. "\n")
        vim.cmd("cquit! 2")
      end
    end)
  end,
})
