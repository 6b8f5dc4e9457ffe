-- nexus.nvim: commands and the attach hook; everything else loads on first use (lua/nexus/).
if vim.g.loaded_nexus or vim.fn.has("nvim-0.11") == 0 then
  return
end
vim.g.loaded_nexus = true

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, vim.tbl_extend("force", { force = true }, opts or {}))
end
cmd("NexusAsk", function(a) require("nexus").ask(a.args) end, { nargs = "*", desc = "Ask Nexus about your code" })
cmd("NexusExplain", function(a) require("nexus").explain(a.line1, a.line2) end, { range = true, desc = "Explain the selected lines" })
cmd("NexusRun", function(a)
  local scope = a.args ~= "" and a.args or nil
  require("nexus").run({ scope = scope, line1 = a.range > 0 and a.line1 or nil, line2 = a.range > 0 and a.line2 or nil })
end, { nargs = "?", range = true, complete = function() return { "file", "cell", "range" } end, desc = "Run the file, range or # %% cell" })
cmd("NexusSearch", function(a) require("nexus").search(a.args) end, { nargs = "+", desc = "Search the workspace (#symbol, /file)" })
cmd("NexusIndex", function() require("nexus").reindex() end, { desc = "Update the Nexus index" })
cmd("NexusStatus", function() require("nexus.index").status() end, { desc = "Show the Nexus index state" })
cmd("NexusLog", function() require("nexus").open_log() end, { desc = "Open the nexus.nvim log" })
cmd("NexusCommitMessage", function() require("nexus").commit_message() end, { desc = "Write a commit message for the staged changes" })
cmd("NexusShare", function() require("nexus.collab").share() end, { desc = "Share this file in a live session" })
cmd("NexusJoin", function(a) require("nexus.collab").join(a.args) end, { nargs = 1, desc = "Join a live session (room)" })
cmd("NexusSessionSave", function(a) require("nexus.collab").save(a.bang) end, { bang = true, desc = "Save the shared text to its file" })
cmd("NexusLeave", function() require("nexus.collab").leave() end, { desc = "Leave the live session" })

vim.api.nvim_create_autocmd("LspAttach", {
  group = vim.api.nvim_create_augroup("nexus.attach", { clear = true }),
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == "nexus" then
      require("nexus.inline").attach(args.buf, client)
    end
  end,
})
