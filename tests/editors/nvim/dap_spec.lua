-- nexus.dap in headless Neovim: without nvim-dap, with its configuration API (tests/editors/nvim/stubs),
-- the adapter command, the session picker, and the resolved adapter/configurations written to
-- NEXUS_DAP_OUT for the Python test to run against the real `nexus dap`.

return function(T)
  local server_cmd = vim.json.decode(os.getenv("NEXUS_TEST_SERVER_CMD"))
  local notes = {}
  vim.notify = function(msg, level)
    table.insert(notes, { msg = msg, level = level })
  end
  require("nexus.config").set({ server = { cmd = server_cmd } })

  local function health()
    vim.cmd("checkhealth nexus")
    local text = T.wait(60000, function()
      local t = T.buffer_text(0)
      return t:find("nexus: log", 1, true) and t
    end, "the health report")
    vim.cmd("bwipeout!")
    return text
  end

  local function section(text, title)
    local start = T.ok(text:find(title, 1, true), "no section " .. title .. " in:\n" .. text)
    local stop = text:find("nexus: log", start, true) or #text
    return text:sub(start, stop)
  end

  T.test("without nvim-dap, setup() warns and registers nothing", function()
    T.eq(pcall(require, "dap"), false, "nvim-dap must be absent here")
    notes = {}
    T.eq(require("nexus.dap").setup(), false)
    T.wait(5000, function() return #notes > 0 end, "the warning")
    T.eq(#notes, 1, "one warning")
    T.contains(notes[1].msg, "nvim-dap is not installed")
    T.eq(notes[1].level, vim.log.levels.WARN)
  end)

  T.test(":checkhealth nexus says when nvim-dap is absent", function()
    local text = section(health(), "nexus: debugger (nvim-dap)")
    T.contains(text, "WARNING nvim-dap is not installed")
    T.contains(text, 'require("nexus.dap").setup()')
  end)

  T.test("the adapter command is the server command with dap for lsp", function()
    local dap = require("nexus.dap")
    local config = require("nexus.config")
    local function with(server)
      local options = config.resolve({ server = server })
      return { dap.adapter_cmd(options) }
    end
    T.eq(with({ cmd = { "/v/bin/nexus", "-v", "lsp" }, extra_args = { "--log-file", "/tmp/x" } }),
      { { "/v/bin/nexus", "-v", "dap" }, "server.cmd" })
    T.eq(with({ python = "/v/bin/python" }), { { "/v/bin/python", "-m", "nexus.cli", "dap" }, "server.python" })
    T.eq(with({ cmd = { "/opt/start-nexus" }, python = "/v/bin/python" }),
      { { "/v/bin/python", "-m", "nexus.cli", "dap" }, "server.python" })
    T.eq(dap.adapter_cmd(), vim.list_extend(vim.list_slice(server_cmd, 1, #server_cmd - 1), { "dap" }))
  end)

  T.test("with nvim-dap, setup() registers the adapter and the Python configurations once", function()
    vim.opt.runtimepath:append(os.getenv("NEXUS_DAP_STUBS"))
    package.loaded.dap = nil
    local dap = require("dap")
    dap.configurations.python = { { type = "python", request = "launch", name = "mine" } }
    T.eq(require("nexus.dap").setup(), true)
    T.eq(require("nexus.dap").setup(), true)
    T.eq(type(dap.adapters.nexus), "function")
    local adapter
    dap.adapters.nexus(function(a) adapter = a end, {})
    local cmd = require("nexus.dap").adapter_cmd()
    T.eq(adapter.type, "executable")
    T.eq({ adapter.command, unpack(adapter.args) }, cmd)
    local names = vim.tbl_map(function(c) return c.name end, dap.configurations.python)
    T.eq(names, { "mine", "Nexus: Python file", "Nexus: Python module", "Nexus: attach to a kernel session" })
    T.eq(dap.configurations.python[2].program, "${file}")
    T.eq(type(dap.configurations.python[4].sessionId), "function")
  end)

  T.test(":checkhealth nexus reports nvim-dap and the nexus adapter", function()
    local text = section(health(), "nexus: debugger (nvim-dap)")
    T.ok(not text:find("ERROR", 1, true), "errors in:\n" .. text)
    T.contains(text, "OK nvim-dap is installed")
    T.contains(text, "OK the nexus adapter is registered")
    T.contains(text, "OK debug adapter: " .. table.concat(require("nexus.dap").adapter_cmd(), " "))
  end)

  T.test("the session picker: none aborts, one is taken, several are offered", function()
    local dap = require("nexus.dap")
    local live = vim.env.NEXUS_SESSIONS_DIR
    local scratch = os.getenv("NEXUS_DAP_SCRATCH")
    vim.env.NEXUS_SESSIONS_DIR = scratch
    local function advertise(id, language)
      local entry = { sessionId = id, kernelId = id .. "-k", language = language, connectionFile = "/none.json",
        ownerPid = vim.fn.getpid(), ownerStarted = 0, cwd = "/ws", opened = #vim.fn.readdir(scratch) }
      vim.fn.writefile({ vim.json.encode(entry) }, scratch .. "/" .. id .. ".json")
    end
    local ok, err = pcall(function()
      notes = {}
      T.eq(dap.pick_session(), require("dap").ABORT)
      T.wait(5000, function() return #notes > 0 end, "the message")
      T.contains(notes[1].msg, "no Python kernel session is running")
      advertise("only", "python")
      advertise("node", "javascript") -- no debugger: never offered
      T.eq(dap.pick_session(), "only")
      advertise("second", "python")
      local offered
      vim.ui.select = function(items, opts, on_choice)
        offered = vim.tbl_map(opts.format_item, items)
        vim.schedule(function() on_choice(items[2]) end)
      end
      local picked
      coroutine.wrap(function() picked = dap.pick_session() end)()
      T.wait(5000, function() return picked end, "the picked session")
      T.eq(picked, "second")
      T.eq(#offered, 2)
      T.contains(offered[1], "only  (python kernel only-k, process " .. vim.fn.getpid())
    end)
    vim.env.NEXUS_SESSIONS_DIR = live
    assert(ok, err)
  end)

  T.test("the configurations resolve for a debug session", function()
    local dap = require("dap")
    local adapter
    dap.adapters.nexus(function(a) adapter = a end, {})
    local configs = dap.configurations.python
    local attach = vim.deepcopy(configs[4])
    coroutine.wrap(function() attach.sessionId = attach.sessionId() end)()
    T.eq(type(attach.sessionId), "string")
    local out = assert(io.open(os.getenv("NEXUS_DAP_OUT"), "w"))
    out:write(vim.json.encode({ adapter = adapter, launch = configs[2], attach = attach }))
    out:close()
  end)
end
