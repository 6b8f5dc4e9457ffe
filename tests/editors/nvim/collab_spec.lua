-- nexus.nvim's live sessions against a real `nexus gateway` (NEXUS_COLLAB_GATEWAY, NEXUS_COLLAB_TOKEN)
-- with a pycrdt peer in the room that tests/collab/test_neovim_client.py runs: it answers "from_nvim"
-- with a line of its own and puts its cursor on the first line.
return function(T)
  local root = vim.fn.getcwd()
  local cmd = vim.json.decode(os.getenv("NEXUS_TEST_HELPER_CMD"))
  require("nexus").setup({ server = { cmd = vim.json.decode(os.getenv("NEXUS_TEST_SERVER_CMD")) },
    collab = { gateway = os.getenv("NEXUS_COLLAB_GATEWAY"), cmd = cmd } })
  local collab = require("nexus.collab")
  local notes = {}
  local notify = vim.notify
  vim.notify = function(msg, level, opts)
    table.insert(notes, msg)
    return notify(msg, level, opts)
  end
  local shared

  T.test("NexusShare binds the file's buffer to its room", function()
    vim.cmd("edit " .. vim.fn.fnameescape(root .. "/src/shared.py"))
    shared = vim.api.nvim_get_current_buf()
    vim.cmd("NexusShare")
    T.wait(20000, function() return vim.b[shared].nexus_collab_room end, "the session to start")
    T.eq(vim.b[shared].nexus_collab_room, "src/shared.py")
  end)

  T.test("local edits reach the peer and the peer's edits arrive in the buffer", function()
    vim.api.nvim_buf_set_lines(shared, -1, -1, false, { "from_nvim = 'é😀'" })
    T.wait(20000, function() return T.buffer_text(shared):find("from_python = 3", 1, true) end, "the peer's line")
    T.contains(T.buffer_text(shared), "x = 1\nfrom_nvim = 'é😀'")
  end)

  T.test("the peer's cursor is an extmark with its name", function()
    local ns = vim.api.nvim_get_namespaces()["nexus.collab"]
    local marks = T.wait(20000, function()
      local found = vim.api.nvim_buf_get_extmarks(shared, ns, 0, -1, { details = true })
      for _, m in ipairs(found) do
        local virt = m[4].virt_text
        if virt and virt[1][1]:find("dave", 1, true) then
          return { m }
        end
      end
    end, "a remote cursor extmark")
    T.eq(marks[1][2], 0, "the cursor's line")
  end)

  T.test("edits typed while a remote change is in flight are merged, not lost", function()
    for i = 1, 20 do
      vim.api.nvim_buf_set_lines(shared, 0, 0, false, { "# burst " .. i })
      vim.wait(5)
    end
    T.wait(20000, function() return T.buffer_text(shared):find("# peer saw the burst", 1, true) end, "the peer's reply")
    for i = 1, 20 do
      T.contains(T.buffer_text(shared), "# burst " .. i .. "\n")
    end
  end)

  T.test("the language server completes a function a collaborator just wrote", function()
    T.wait(20000, function() return T.buffer_text(shared):find("def collaborator_helper", 1, true) end, "the peer's function")
    T.wait(60000, function() return #vim.lsp.get_clients({ name = "nexus", bufnr = shared }) > 0 end, "the nexus client")
    vim.api.nvim_buf_set_lines(shared, -1, -1, false, { "collaborator_h" })
    local last = vim.api.nvim_buf_line_count(shared)
    local labels = T.wait(60000, function()
      local client = vim.lsp.get_clients({ name = "nexus", bufnr = shared })[1]
      local params = { textDocument = { uri = vim.uri_from_bufnr(shared) }, position = { line = last - 1, character = 14 } }
      local reply = client:request_sync("textDocument/completion", params, 30000, shared)
      local items = reply and reply.result and (reply.result.items or reply.result) or {}
      local found = {}
      for _, item in ipairs(items) do
        found[#found + 1] = item.label
      end
      return vim.tbl_contains(found, "collaborator_helper") and found
    end, "collaborator_helper among the completions")
    T.ok(vim.tbl_contains(labels, "collaborator_helper"))
    vim.api.nvim_buf_set_lines(shared, last - 1, last, false, {})
  end)

  T.test("NexusSessionSave writes the file; a disk change is refused until !", function()
    vim.cmd("NexusSessionSave")
    T.wait(20000, function() return vim.fn.readfile(root .. "/src/shared.py")[1] == "# burst 20" end, "the saved file")
    vim.fn.writefile({ "changed on disk" }, root .. "/src/shared.py")
    notes = {}
    vim.cmd("NexusSessionSave")
    T.wait(20000, function()
      for _, n in ipairs(notes) do
        if n:find("changed on disk", 1, true) then return true end
      end
    end, "the conflict message")
    T.eq(vim.fn.readfile(root .. "/src/shared.py"), { "changed on disk" })
    vim.cmd("NexusSessionSave!")
    T.wait(20000, function() return vim.fn.readfile(root .. "/src/shared.py")[1] == "# burst 20" end, "the forced save")
  end)

  T.test("NexusJoin opens the room in a buffer of its own with the same text", function()
    local text = T.buffer_text(shared)
    vim.cmd("NexusJoin src/shared.py")
    local joined = vim.api.nvim_get_current_buf()
    T.ok(joined ~= shared)
    T.wait(20000, function() return T.buffer_text(joined) == text end, "the joined buffer to show the room")
    T.eq(vim.bo[joined].filetype, "python")
    collab.leave(joined)
    collab.leave(shared)
  end)
end
