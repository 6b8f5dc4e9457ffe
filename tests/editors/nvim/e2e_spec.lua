-- nexus.nvim against the real `nexus lsp` in the fixture workspace (the current folder). A server
-- feature that is missing skips its case with a reason naming it; nothing is faked.
return function(T)
  vim.o.virtualedit = "onemore"
  local cmd = vim.json.decode(os.getenv("NEXUS_TEST_SERVER_CMD"))
  local budgets = vim.json.decode(os.getenv("NEXUS_TEST_BUDGETS") or "{}")
  local model_text = os.getenv("NEXUS_TEST_MODEL_TEXT") or ""
  local root = vim.fn.getcwd()

  -- Is there an `lsp` command at all? (The editors branch is built before the server lands.)
  local probe = vim.system(vim.list_extend(vim.deepcopy(vim.list_slice(cmd, 1, #cmd - 1)), { "lsp", "--help" }),
    { text = true }):wait(60000)
  local missing = probe.code ~= 0 and ((probe.stderr or "") .. (probe.stdout or "")):match("Error: No such command '?lsp'?%.?")
  local function need_server()
    if missing then
      T.skip(('nexus lsp is not in this build (the server command said "%s")'):format(missing))
    end
  end

  local progress_ended = false
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(ev)
      local value = ev.data and ev.data.params and ev.data.params.value
      if type(value) == "table" and value.kind == "end" then
        progress_ended = true
      end
    end,
  })
  require("nexus").setup({ server = { cmd = cmd, init_options = { budgets = budgets } } })

  local function line_of(file, text)
    for i, line in ipairs(vim.fn.readfile(root .. "/" .. file)) do
      if line:find(text, 1, true) then
        return i
      end
    end
    error(file .. " has no line with " .. text)
  end

  local function open(file)
    -- :drop switches to the file's buffer (or edits it); the cases undo their edits, so nothing is lost.
    vim.cmd("silent! drop " .. vim.fn.fnameescape(root .. "/" .. file))
    local bufnr = vim.api.nvim_get_current_buf()
    T.wait(30000, function()
      return #vim.lsp.get_clients({ name = "nexus", bufnr = bufnr }) > 0
    end, "the nexus client to attach to " .. file)
    return bufnr
  end

  --- Appends `text` as a new last line, requests completion at its end, restores the buffer.
  local function complete_at_end(bufnr, text)
    local saved = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { text })
    local last = vim.api.nvim_buf_line_count(bufnr)
    vim.api.nvim_win_set_cursor(0, { last, #text })
    local client = vim.lsp.get_clients({ name = "nexus", bufnr = bufnr })[1]
    local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
    local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 60000)
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, saved)
    vim.bo[bufnr].modified = false
    local labels = {}
    for _, response in pairs(responses or {}) do
      T.eq(response.err, nil, "completion error")
      local result = response.result or {}
      for _, item in ipairs(result.items or result) do
        table.insert(labels, item.label)
      end
    end
    return labels
  end

  --- Puts the cursor on `word` in the first line containing `line_text`, runs go-to-definition.
  local function definition(line_text, word)
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    for i, line in ipairs(lines) do
      local at = line:find(line_text, 1, true)
      if at then
        vim.api.nvim_win_set_cursor(0, { i, (line:find(word, at, true)) - 1 })
        break
      end
    end
    local before = vim.api.nvim_get_current_buf()
    vim.lsp.buf.definition()
    T.wait(60000, function()
      return vim.api.nvim_get_current_buf() ~= before
    end, "go-to-definition to open another file")
    return vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ":t"), vim.api.nvim_win_get_cursor(0)[1]
  end

  T.test("the client attaches to a Python buffer and indexing ends", function()
    need_server()
    open("app.py")
    local client = vim.lsp.get_clients({ name = "nexus" })[1]
    T.eq(client.root_dir, vim.uv.fs_realpath(root), "root_dir (from .nexus.toml)")
    T.wait(60000, function() return progress_ended end, "the first indexing run to end ($/progress end)")
  end)

  T.test("completion in Python lists the members of a Circle", function()
    need_server()
    local labels = complete_at_end(open("app.py"), "ring.")
    T.ok(vim.tbl_contains(labels, "area") and vim.tbl_contains(labels, "perimeter"), vim.inspect(labels))
  end)

  T.test("definition in Python jumps to the class in shapes.py", function()
    need_server()
    open("app.py")
    local file, line = definition("ring = Circle(", "Circle")
    T.eq({ file, line }, { "shapes.py", line_of("shapes.py", "class Circle") })
  end)

  T.test("completion in TypeScript offers makeSquare", function()
    need_server()
    local labels = complete_at_end(open("main.ts"), "makeS")
    T.ok(vim.tbl_contains(labels, "makeSquare"), vim.inspect(labels))
  end)

  T.test("definition in TypeScript jumps to geometry.ts", function()
    need_server()
    open("main.ts")
    local file, line = definition("= makeSquare(3)", "makeSquare")
    T.eq({ file, line }, { "geometry.ts", line_of("geometry.ts", "function makeSquare") })
  end)

  T.test(":NexusSearch fills the quickfix list", function()
    need_server()
    open("app.py")
    vim.fn.setqflist({}, "r")
    vim.cmd("NexusSearch #makeSquare")
    local items = T.wait(30000, function()
      local list = vim.fn.getqflist()
      return #list > 0 and list
    end, "quickfix items")
    T.eq(vim.fn.fnamemodify(vim.api.nvim_buf_get_name(items[1].bufnr), ":t"), "geometry.ts")
    T.eq(items[1].lnum, line_of("geometry.ts", "function makeSquare"))
    vim.cmd("cclose")
  end)

  T.test(":NexusIndex updates the index and says so", function()
    need_server()
    open("app.py")
    local messages = {}
    local notify = vim.notify
    vim.notify = function(msg, ...)
      table.insert(messages, msg)
      return notify(msg, ...)
    end
    vim.cmd("NexusIndex")
    local ok, err = pcall(T.wait, 60000, function()
      return vim.iter(messages):find(function(m) return m:find("^nexus: index") end)
    end, "the :NexusIndex message")
    vim.notify = notify
    T.ok(ok, err)
    local message = vim.iter(messages):find(function(m) return m:find("^nexus: index") end)
    T.ok(message:find("indexing 1 folder") or message:find("indexed %d+ file"), message)
  end)

  T.test(":NexusRun prints the kernel's output for the # %% cell", function()
    need_server()
    open("app.py")
    vim.api.nvim_win_set_cursor(0, { line_of("app.py", "nexus-cell-output"), 0 })
    vim.cmd("NexusRun")
    local run = require("nexus.run")
    T.wait(60000, function() return run.last and run.last.done end, "the run to finish")
    if run.last.err and run.last.err.code == -32601 then
      T.skip("the server does not implement nexus/run yet (MethodNotFound)")
    end
    T.eq(run.last.err, nil, "nexus/run error")
    local text = T.buffer_text(vim.fn.bufnr(run.buffer_name))
    T.contains(text, "nexus-cell-output 42")
    T.ok(not text:find("area 12.57", 1, true), "the other cell ran too:\n" .. text)
    T.contains(text, "[done in")
  end)

  T.test(":NexusAsk streams the answer with its context receipt", function()
    need_server()
    open("app.py")
    vim.api.nvim_win_set_cursor(0, { line_of("app.py", "ring.area()"), 0 })
    vim.cmd("NexusAsk What does ring.area() compute?")
    local ask = require("nexus.ask")
    T.wait(60000, function()
      return ask.last and ask.last.transcript.state ~= "streaming"
    end, "the answer to finish")
    local answer = ask.last
    if answer.error and answer.error.code == -32601 then
      T.skip("the server does not implement nexus/chat yet (MethodNotFound)")
    end
    T.eq(answer.transcript.state, "done", answer.transcript.problem)
    local text = T.buffer_text(answer.bufnr)
    T.contains(text, "**Context used**")
    T.contains(text, "app.py")
    if model_text ~= "" then
      T.contains(text, model_text)
    end
  end)

  T.test(":NexusExplain explains the lines with a receipt", function()
    need_server()
    local bufnr = open("shapes.py")
    local first = line_of("shapes.py", "def area")
    vim.cmd(("%d,%dNexusExplain"):format(first, first + 1))
    local ask = require("nexus.ask")
    T.wait(60000, function()
      return ask.last and ask.last.transcript.state ~= "streaming"
    end, "the explanation to finish")
    if ask.last.error and ask.last.error.code == -32601 then
      T.skip("the server does not implement nexus/chat yet (MethodNotFound)")
    end
    T.eq(ask.last.transcript.state, "done", ask.last.transcript.problem)
    local text = T.buffer_text(ask.last.bufnr)
    T.contains(text, ("# Nexus: Explain shapes.py:%d-%d"):format(first, first + 1))
    T.contains(text, "**Context used**")
    T.ok(vim.api.nvim_buf_is_valid(bufnr))
  end)

  T.test("ghost text from textDocument/inlineCompletion", function()
    need_server()
    local bufnr = open("shapes.py")
    local client = vim.lsp.get_clients({ name = "nexus", bufnr = bufnr })[1]
    if not client:supports_method("textDocument/inlineCompletion", bufnr) then
      T.skip("the server does not advertise inlineCompletionProvider (textDocument/inlineCompletion not implemented yet)")
    end
    local saved = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { "def circle_area(r: float) -> float:", "    " })
    vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 4 })
    local inline = require("nexus.inline")
    inline.request(bufnr, 1)
    local shown = T.wait(60000, function() return inline.visible(bufnr) end, "ghost text")
    T.contains(shown, model_text)
    T.ok(inline.accept(bufnr), "accept")
    T.contains(T.buffer_text(bufnr), model_text)
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, saved)
    vim.bo[bufnr].modified = false
  end)

  T.test(":checkhealth nexus reports ok", function()
    need_server()
    open("app.py")
    vim.cmd("checkhealth nexus")
    local text = T.wait(60000, function()
      local t = T.buffer_text(0)
      return t:find("nexus: log", 1, true) and t
    end, "the health report")
    T.ok(not text:find("ERROR", 1, true), "errors in:\n" .. text)
    T.contains(text, "lsp` is available")
    T.contains(text, "version: ")
    T.ok(text:find("ready, %d+ files") ~= nil, "no indexed folder in:\n" .. text)
    T.contains(text, "provider")
    vim.cmd("bwipeout!")
  end)

  T.after = function()
    for _, client in ipairs(vim.lsp.get_clients({ name = "nexus" })) do
      client:stop()
    end
    vim.wait(5000, function() return #vim.lsp.get_clients({ name = "nexus" }) == 0 end, 50)
  end
end
