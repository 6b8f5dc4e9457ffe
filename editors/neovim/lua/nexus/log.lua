--- nexus.nvim's log file: `stdpath("log")/nexus.log` (`:NexusLog` opens it). The server's own stderr
--- goes to Neovim's LSP log (`:lua vim.cmd.edit(vim.lsp.log.get_filename())`).

local M = {}

local levels = { debug = 1, info = 2, warn = 3, error = 4 }
local names = { "DEBUG", "INFO", "WARN", "ERROR" }

---@return string
function M.path()
  return vim.fs.joinpath(vim.fn.stdpath("log"), "nexus.log")
end

local function threshold()
  local ok, config = pcall(require, "nexus.config")
  local level = ok and config.get().log.level or "info"
  return levels[level] or levels.info
end

local function write(level, fmt, ...)
  if level < threshold() then
    return
  end
  local ok, message = pcall(string.format, fmt, ...)
  if not ok then
    message = fmt
  end
  local path = M.path()
  vim.fn.mkdir(vim.fs.dirname(path), "p")
  local file = io.open(path, "a")
  if not file then
    return
  end
  file:write(("%s %-5s %s\n"):format(os.date("%Y-%m-%d %H:%M:%S"), names[level], message))
  file:close()
end

---@param fmt string
function M.debug(fmt, ...)
  write(levels.debug, fmt, ...)
end

---@param fmt string
function M.info(fmt, ...)
  write(levels.info, fmt, ...)
end

---@param fmt string
function M.warn(fmt, ...)
  write(levels.warn, fmt, ...)
end

---@param fmt string
function M.error(fmt, ...)
  write(levels.error, fmt, ...)
end

--- Logs and tells the user (for what they must act on).
---@param message string
---@param level? integer vim.log.levels value (default ERROR)
function M.notify(message, level)
  level = level or vim.log.levels.ERROR
  write(level >= vim.log.levels.ERROR and levels.error or level >= vim.log.levels.WARN and levels.warn or levels.info,
    "%s", message)
  vim.schedule(function()
    vim.notify(message, level, { title = "nexus" })
  end)
end

return M
