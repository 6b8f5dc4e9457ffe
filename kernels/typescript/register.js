// `node -r register.js FILE.ts`: run TypeScript files the way `npx tsx FILE` does, with the `typescript`
// package Nexus already uses (NEXUS_TYPESCRIPT). Each .ts/.tsx/.cts module is transpiled on require
// (types stripped, not checked) to CommonJS with an inline source map, so `node --enable-source-maps`
// reports stack traces at the .ts lines. A syntax error is reported in tsc's own words
// (`main.ts:3:5 - error TS1005: ';' expected.`) and the run exits with status 1.
'use strict';
const fs = require('fs');
const Module = require('module');

const ts = require(process.env.NEXUS_TYPESCRIPT || 'typescript');

function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: filename,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      jsx: ts.JsxEmit.React,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    for (const d of errors) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (d.file && d.start !== undefined) {
        const pos = d.file.getLineAndCharacterOfPosition(d.start);
        process.stderr.write(`${filename}:${pos.line + 1}:${pos.character + 1} - error TS${d.code}: ${text}\n`);
      } else {
        process.stderr.write(`${filename} - error TS${d.code}: ${text}\n`);
      }
    }
    process.exit(1);
  }
  module._compile(out.outputText, filename);
}

for (const ext of ['.ts', '.tsx', '.cts']) {
  Module._extensions[ext] = compileTs;
}
