-- nexus language server for vim.lsp.config / vim.lsp.enable("nexus") (Neovim 0.11+).
-- Options come from require("nexus").setup(opts), or the defaults.
return require("nexus.server").config()
