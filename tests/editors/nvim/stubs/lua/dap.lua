-- A stand-in for nvim-dap's configuration API (`adapters`, `configurations`, `ABORT`), which is all
-- nexus.dap touches: nvim-dap itself cannot be installed here (no registry ships it). The adapter and
-- configurations registered into it are then run against the real `nexus dap` by the Python test.
return { adapters = {}, configurations = {}, ABORT = { "dap.ABORT" } }
