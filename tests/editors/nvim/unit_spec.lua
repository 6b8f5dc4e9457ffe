-- nexus.nvim without a server: commands, options, cells, rendering, ghost text, health and log.
return function(T)
  -- Ghost text is drawn at the insert-mode cursor, which may sit after the last character; headless
  -- tests stay in normal mode, where only 'virtualedit' lets the cursor go there.
  vim.o.virtualedit = "onemore"

  T.test("the plugin defines its commands and loads nothing else at startup", function()
    for _, name in ipairs({ "NexusAsk", "NexusExplain", "NexusRun", "NexusSearch", "NexusIndex", "NexusLog", "NexusStatus" }) do
      T.eq(vim.fn.exists(":" .. name), 2, name)
    end
    for _, module in ipairs({ "nexus", "nexus.config", "nexus.inline", "nexus.ask", "nexus.run", "nexus.health" }) do
      T.eq(package.loaded[module], nil, module .. " loaded at startup")
    end
  end)

  T.test("every module loads", function()
    local dir = os.getenv("NEXUS_PLUGIN") .. "/lua/nexus"
    for name in vim.fs.dir(dir) do
      local module = "nexus." .. name:gsub("%.lua$", "")
      local ok, err = pcall(require, module == "nexus.init" and "nexus" or module)
      T.ok(ok, module .. ": " .. tostring(err))
    end
  end)

  T.test("lsp/nexus.lua gives vim.lsp.config a complete server config", function()
    local cfg = vim.lsp.config.nexus
    T.ok(cfg, "vim.lsp.config.nexus is nil")
    T.eq(vim.list_slice(cfg.cmd, #cfg.cmd - 2), { "-m", "nexus.cli", "lsp" }, "cmd")
    T.ok(vim.tbl_contains(cfg.filetypes, "python") and vim.tbl_contains(cfg.filetypes, "typescriptreact"), "filetypes")
    T.ok(vim.tbl_contains(cfg.root_markers, ".nexus.toml"), "root_markers")
    T.eq(type(cfg.handlers["$/progress"]), "function", "progress handler")
    T.eq(cfg.init_options.client, "neovim")
  end)

  T.test("options: valid values are taken, invalid ones fall back with a message naming them", function()
    local config = require("nexus.config")
    local opts, problems = config.resolve({
      inline = { debounce_ms = 0, keys = { accept = "<Tab>" } },
      filetypes = { "python" },
      ai = { inline = "local:qwen2.5-coder:1.5b" },
    })
    T.eq(problems, {})
    T.eq(opts.inline.debounce_ms, 0)
    T.eq(opts.inline.keys.accept, "<Tab>")
    T.eq(opts.inline.keys.dismiss, "<C-]>", "untouched keys keep their defaults")
    T.eq(opts.filetypes, { "python" }, "lists replace the default list")
    T.eq(opts.ai.inline, "local:qwen2.5-coder:1.5b")

    opts, problems = config.resolve({
      inline = { debounce_ms = -1, enabled = "yes" },
      ask = { output = "popup" },
      server = { cmd = "nexus lsp" },
      ai = { chat = ":model" },
      serverr = {},
    })
    T.eq(opts.inline.debounce_ms, 150)
    T.eq(opts.inline.enabled, true)
    T.eq(opts.ask.output, "split")
    T.eq(opts.server.cmd, nil)
    T.eq(#problems, 6, vim.inspect(problems))
    for _, key in ipairs({ "inline.debounce_ms", "inline.enabled", "ask.output", "server.cmd", "ai.chat", "unknown option serverr" }) do
      T.ok(vim.iter(problems):any(function(p) return p:find(key, 1, true) ~= nil end), "no problem names " .. key)
    end
  end)

  T.test("the server command: cmd, then python, then nexus on PATH, then python3", function()
    local config = require("nexus.config")
    local function cmd(opts)
      return (config.server_cmd((config.resolve(opts))))
    end
    T.eq(cmd({ server = { cmd = { "/v/bin/nexus", "-v", "lsp" }, extra_args = { "--x" }, python = "/p" } }),
      { "/v/bin/nexus", "-v", "lsp", "--x" })
    T.eq(cmd({ server = { python = "/v/bin/python" } }), { "/v/bin/python", "-m", "nexus.cli", "lsp" })
    local dir = vim.fn.tempname()
    vim.fn.mkdir(dir, "p")
    local exe = dir .. "/nexus"
    vim.fn.writefile({ "#!/bin/sh" }, exe)
    vim.uv.fs_chmod(exe, tonumber("755", 8))
    local saved = vim.env.PATH
    vim.env.PATH = dir .. ":" .. saved
    local with_nexus = cmd({})
    vim.env.PATH = "/nonexistent"
    local without = cmd({})
    vim.env.PATH = saved
    T.eq(with_nexus, { "nexus", "lsp" })
    T.eq(without, { "python3", "-m", "nexus.cli", "lsp" })
  end)

  T.test("AI options become the engine's NEXUS_PROVIDERS_<ROLE> variables", function()
    local config = require("nexus.config")
    local env = config.server_env((config.resolve({ ai = { provider = "anthropic", inline = "local:tiny" },
      server = { env = { EXTRA = "1" } } })))
    T.eq(env, { NEXUS_PROVIDERS_CHAT = "anthropic", NEXUS_PROVIDERS_INLINE = "local:tiny",
      NEXUS_PROVIDERS_EDIT = "anthropic", EXTRA = "1" })
    T.eq(config.server_env((config.resolve({}))), {}, "unset roles leave the environment alone")
  end)

  T.test("setup() reconfigures the server and reports bad options", function()
    local notified = {}
    local notify = vim.notify
    vim.notify = function(msg)
      table.insert(notified, msg)
    end
    require("nexus").setup({ server = { python = "/opt/venv/bin/python" }, run = { timeout = "soon" } })
    T.wait(1000, function() return #notified > 0 end, "the warning")
    vim.notify = notify
    T.eq(vim.lsp.config.nexus.cmd, { "/opt/venv/bin/python", "-m", "nexus.cli", "lsp" })
    -- Shorter lists replace the earlier ones (vim.lsp.config merges tables).
    require("nexus").setup({ server = { cmd = { "nexus-x", "lsp" } }, filetypes = { "python" } })
    T.eq(vim.lsp.config.nexus.cmd, { "nexus-x", "lsp" })
    T.eq(vim.lsp.config.nexus.filetypes, { "python" })
    T.contains(notified[1], "run.timeout")
    require("nexus.config").set({})
    vim.lsp.config("nexus", require("nexus.server").config())
  end)

  T.test("cells: markers, the cell before them, markdown cells, bare #%%", function()
    local cells = require("nexus.cells")
    local src = { "import os", "", "# %% Load data", "x = 1", "print(x)", "", "# %% [markdown]", "# notes", "#%%", "y = 2", "" }
    local found = vim.tbl_map(function(c) return { c.start_line, c.end_line, c.kind, c.title, c.has_marker } end, cells.find(src))
    T.eq(found, {
      { 1, 2, "code", "", false },
      { 3, 6, "code", "Load data", true },
      { 7, 8, "markdown", "", true },
      { 9, 11, "code", "", true },
    })
    T.eq(cells.at(src, 5).title, "Load data")
    T.eq(cells.at(src, 12), nil)
    T.eq(cells.source(src, cells.at(src, 4)), "x = 1\nprint(x)")
    T.eq(cells.next_code(src, 4).start_line, 9)
    T.eq(#cells.find({ "a = 1" }), 1)
    local ts = { "const a = 1;", "// %% two", "log(a);", "# %% not a marker" }
    T.eq(vim.tbl_map(function(c) return { c.start_line, c.end_line } end, cells.find(ts, "typescript")), { { 1, 1 }, { 2, 4 } })
  end)

  T.test("render: kernel outputs, run summary, answers with their receipt", function()
    local render = require("nexus.render")
    T.eq(render.output_text({ output_type = "stream", text = { "a", "b" } }), "ab\n")
    T.eq(render.output_text({ output_type = "execute_result", data = { ["text/plain"] = "42" } }), "42\n")
    T.eq(render.output_text({ output_type = "display_data", data = { ["image/png"] = "x" } }), "[image/png output]\n")
    T.eq(render.output_text({ output_type = "error", traceback = { "\27[0;31mZeroDivisionError\27[0m", "1/0" } }),
      "ZeroDivisionError\n1/0\n")
    T.eq(render.run_summary({ exitCode = 0, executionTime = 0.0123 }), "[done in 0.012 s]")
    T.eq(render.run_summary({ exitCode = 1, executionTime = 12.34 }), "[failed with exit code 1 after 12.3 s]")

    local t = render.transcript("Nexus: Ask", "why?\nreally")
    t:append("Because ")
    t:append("of")
    local lines = t:lines()
    T.eq(vim.list_slice(lines, 1, 6), { "# Nexus: Ask", "", "> why?", "> really", "", "Because of" })
    T.contains(table.concat(lines, "\n"), "_streaming")
    t:finish({ text = "Because of the walker.", provider = "anthropic", model = "m", generated = true,
      usage = { inputTokens = 10, outputTokens = 2 },
      receipt = { { uri = "file:///w/walker.py", path = "walker.py", startLine = 9, endLine = 29, reason = "definition" } } })
    local text = table.concat(t:lines(), "\n")
    T.contains(text, "Because of the walker.")
    T.contains(text, "**Context used** (1):")
    T.contains(text, "- `walker.py:10-30` — definition")
    T.contains(text, "_anthropic · m · 10 in / 2 out tokens_")
    T.ok(not text:find("streaming", 1, true), "still says streaming")
    T.contains(render.footer({ generated = false }), "No AI provider is configured")
    local failed = render.transcript("t", "q")
    failed:append("half")
    failed:fail("timed out")
    T.contains(table.concat(failed:lines(), "\n"), "half\n\n**Error:** timed out")
  end)

  T.test("search: the query prefix picks the mode; hits become quickfix items", function()
    local search = require("nexus.search")
    T.eq({ search.parse("#Workspace") }, { "Workspace", "symbols" })
    T.eq({ search.parse("/walker") }, { "walker", "files" })
    T.eq({ search.parse(" open(path) ") }, { "open(path)", "text" })
    local file = vim.fn.tempname() .. ".py"
    vim.fn.writefile({ "import os", "def main():", "    pass" }, file)
    local uri = vim.uri_from_fname(file)
    local items = search.items({
      { uri = uri, range = { start = { line = 1, character = 4 }, ["end"] = { line = 1, character = 8 } },
        name = "main", kind = "function", preview = "def main():", score = 2 },
    }, "utf-16")
    T.eq(#items, 1)
    T.eq(items[1].lnum, 2)
    T.eq(items[1].col, 5)
    T.eq(items[1].text, "main (function): def main():")
  end)

  T.test("ghost text: the untyped rest shows inline, follows typing, and is accepted", function()
    local inline = require("nexus.inline")
    vim.cmd("enew")
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "def f():", "    ret" })
    vim.api.nvim_win_set_cursor(0, { 2, 7 })
    local item = { text = "return 42\nprint(f())", row = 1, col = 4, end_row = 1, end_col = 7 }
    T.ok(inline.show(buf, { item }), "nothing shown")
    T.eq(inline.visible(buf), "urn 42\nprint(f())")
    local marks = vim.api.nvim_buf_get_extmarks(buf, inline.ns, 0, -1, { details = true })
    T.eq(#marks, 1)
    T.eq(marks[1][4].virt_text_pos, "inline")
    T.eq(marks[1][4].virt_text[1][2], "NexusGhostText")
    -- The user types one more matching character: the ghost shrinks.
    vim.api.nvim_buf_set_lines(buf, 1, 2, false, { "    retu" })
    vim.api.nvim_win_set_cursor(0, { 2, 8 })
    T.ok(inline.render(buf), "not re-rendered")
    T.eq(inline.visible(buf), "rn 42\nprint(f())")
    -- Accepting inserts the whole item and puts the cursor after it.
    T.ok(inline.accept(buf), "accept returned false")
    T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, false), { "def f():", "    return 42", "print(f())" })
    T.eq(vim.api.nvim_win_get_cursor(0), { 3, 10 })
    T.eq(inline.visible(buf), nil)
    T.eq(inline.accept(buf), false, "nothing left to accept")
  end)

  T.test("ghost text: typing something else hides it; dismiss clears it", function()
    local inline = require("nexus.inline")
    vim.cmd("enew")
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "x = ma" })
    vim.api.nvim_win_set_cursor(0, { 1, 6 })
    T.ok(inline.show(buf, { { text = "max(1, 2)", row = 0, col = 4, end_row = 0, end_col = 6 } }))
    vim.api.nvim_buf_set_lines(buf, 0, 1, false, { "x = mi" })
    T.eq(inline.render(buf), false)
    T.eq(inline.visible(buf), nil)
    vim.api.nvim_buf_set_lines(buf, 0, 1, false, { "x = ma" })
    T.ok(inline.show(buf, { { text = "max(1, 2)", row = 0, col = 4, end_row = 0, end_col = 6 } }))
    T.eq(inline.dismiss(buf), true)
    T.eq(#vim.api.nvim_buf_get_extmarks(buf, inline.ns, 0, -1, {}), 0)
  end)

  T.test("ghost text: LSP items with UTF-16 ranges and snippets convert to buffer columns", function()
    local inline = require("nexus.inline")
    vim.cmd("enew")
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 's = "é" + fo' })
    local items = inline.items_from(buf, { items = {
      { insertText = "foo()", range = { start = { line = 0, character = 10 }, ["end"] = { line = 0, character = 12 } } },
      { insertText = { kind = "snippet", value = "format(${1:x}, $0)" } },
    } }, "utf-16", { 1, 13 })
    T.eq(items[1].col, 11, "UTF-16 10 is byte 11 after the two-byte é")
    T.eq(items[1].end_col, 13)
    T.eq(items[2].text, "format(x, )")
    T.eq({ items[2].row, items[2].col }, { 0, 13 }, "no range: at the cursor")
    T.eq(inline.snippet_text("a${1}b\\$c"), "ab$c")
  end)

  T.test(":checkhealth nexus reports a missing server command as an error", function()
    require("nexus.config").set({ server = { cmd = { "/nonexistent/bin/nexus", "lsp" } } })
    vim.cmd("checkhealth nexus")
    local text = T.wait(10000, function()
      local t = T.buffer_text(0)
      return t:find("nexus: log", 1, true) and t
    end, "the health report")
    T.contains(text, "server command not found: /nonexistent/bin/nexus")
    T.contains(text, "ERROR")
    T.contains(text, "Neovim 0.11")
    require("nexus.config").set({})
    vim.cmd("bwipeout!")
  end)

  T.test("the log file lives under stdpath('log') and requests without a server say so", function()
    local log = require("nexus.log")
    T.eq(log.path(), vim.fs.joinpath(vim.fn.stdpath("log"), "nexus.log"))
    T.ok(vim.startswith(log.path(), os.getenv("XDG_STATE_HOME")), "log outside the isolated XDG_STATE_HOME")
    vim.cmd("enew")
    local req, err = require("nexus.client").request("nexus/status", {}, function() end)
    T.eq(req, nil)
    T.contains(err, "not running")
    log.info("marker %d", 42)
    local text = table.concat(vim.fn.readfile(log.path()), "\n")
    T.contains(text, "INFO  marker 42")
  end)

  T.test(":NexusAsk without a server opens the answer buffer with the reason", function()
    vim.cmd("enew")
    vim.cmd("NexusAsk why is the sky blue?")
    local answer = require("nexus.ask").last
    T.ok(answer, "no answer record")
    T.eq(answer.transcript.state, "failed")
    local text = T.buffer_text(answer.bufnr)
    T.contains(text, "> why is the sky blue?")
    T.contains(text, "**Error:** the nexus language server is not running")
    T.eq(vim.bo[answer.bufnr].filetype, "markdown")
    T.eq(vim.bo[answer.bufnr].modifiable, false)
    T.ok(vim.fn.bufwinid(answer.bufnr) ~= -1, "the answer is not shown")
  end)

  T.test(":NexusCommitMessage keeps git's comments and says when no server runs", function()
    vim.cmd("enew")
    vim.bo.filetype = "gitcommit"
    vim.api.nvim_buf_set_lines(0, 0, -1, false, { "", "# Please enter the commit message", "# On branch main" })
    local done = {}
    local req = require("nexus.commit").write(function(message, err) done = { message = message, err = err } end)
    T.eq(req, nil)
    T.contains(done.err, "not running")
    T.eq(require("nexus.commit").lines("Fix the parser\n\nIt split on spaces.\n"),
      { "Fix the parser", "", "It split on spaces." })
    T.eq(vim.api.nvim_buf_get_lines(0, 1, 3, false), { "# Please enter the commit message", "# On branch main" })
    T.ok(vim.fn.exists(":NexusCommitMessage") == 2, "command missing")
  end)
end
