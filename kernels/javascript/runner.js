// The Node.js side of Nexus' JavaScript and TypeScript kernels.
//
// Runs cells in this process' own realm (so every Node global, require and timers work), keeping state
// between cells. Requests arrive as JSON lines on stdin: {"id": n, "code": "..."}. Everything goes back
// as "\x1eNX{json}" lines on the protocol fd (NEXUS_PROTOCOL_FD): stream text, display data, the cell's
// value, errors, and {"type": "done"} after each cell. process.stdout/stderr writes are captured into
// that one ordered channel, so printed text and results stay in order.
//
// Re-running a notebook cell must not fail with "Identifier 'x' has already been declared", so
// declarations that start a line at column 0 (`const`, `let`, `class`) become `var`-like globals.
// Top-level `await` wraps the cell in an async function (Node's vm runs scripts, not modules); then
// column-0 declarations become global assignments and a last expression line becomes the cell value.
'use strict';
const vm = require('vm');
const util = require('util');
const fs = require('fs');
const path = require('path');
const Module = require('module');

const LANG = process.argv[2] || 'javascript';
const PROTO_FD = Number(process.env.NEXUS_PROTOCOL_FD || 3);
const MARK = '\x1eNX';
const MIME = Symbol.for('nexus.mime');

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function send(obj) {
  writeAll(PROTO_FD, MARK + JSON.stringify(obj) + '\n');
}

// --- captured stdout/stderr, batched: one message per 64 KB or 50 ms, order kept across streams ---
const pending = { stdout: '', stderr: '' };
let lastFlush = Date.now();
let flushTimer = null;

function flush() {
  for (const name of ['stdout', 'stderr']) {
    if (pending[name]) {
      const text = pending[name];
      pending[name] = '';
      send({ type: 'stream', name, text });
    }
  }
  lastFlush = Date.now();
}

function queueText(name, text) {
  const other = name === 'stdout' ? 'stderr' : 'stdout';
  if (pending[other]) flush();
  pending[name] += text;
  if (pending[name].length > 65536 || Date.now() - lastFlush > 50) flush();
  else if (flushTimer === null) {
    flushTimer = setTimeout(() => { flushTimer = null; flush(); }, 50);
    flushTimer.unref();
  }
}

function capture(stream, name) {
  stream.write = function write(chunk, encoding, cb) {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    const text = typeof chunk === 'string' ? chunk
      : Buffer.from(chunk).toString(encoding && encoding !== 'buffer' ? encoding : 'utf8');
    queueText(name, text);
    if (cb) process.nextTick(cb);
    return true;
  };
}
capture(process.stdout, 'stdout');
capture(process.stderr, 'stderr');

// --- values and display ---
function mimeBundle(value, mimeType) {
  if (mimeType) return { [mimeType]: value, 'text/plain': typeof value === 'string' ? value : util.inspect(value) };
  if (value !== null && typeof value === 'object' && value[MIME]) return value[MIME];
  return { 'text/plain': util.inspect(value, { depth: 4, colors: false, maxArrayLength: 200 }) };
}

globalThis.display = function display(value, mimeType) {
  flush();
  send({ type: 'display', data: mimeBundle(value, mimeType) });
};
globalThis.display.html = (html) => globalThis.display(String(html), 'text/html');
globalThis.display.markdown = (md) => globalThis.display(String(md), 'text/markdown');

// require() resolves from the working folder, like a script saved there
globalThis.require = Module.createRequire(path.join(process.cwd(), '__cell__.js'));
globalThis.module = { exports: {} };
globalThis.exports = globalThis.module.exports;
globalThis.__dirname = process.cwd();
globalThis.__filename = path.join(process.cwd(), '__cell__.js');

// --- TypeScript ---
let ts = null;
if (LANG === 'typescript') {
  ts = require(process.env.NEXUS_TYPESCRIPT || 'typescript');
}

function transpile(code, filename) {
  const out = ts.transpileModule(code, {
    fileName: filename + '.ts',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true,
      sourceMap: false, inlineSourceMap: false, removeComments: false,
    },
  });
  const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const lines = errors.map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (d.file && d.start !== undefined) {
        const pos = d.file.getLineAndCharacterOfPosition(d.start);
        return `${filename}:${pos.line + 1}:${pos.character + 1} - error TS${d.code}: ${text}`;
      }
      return `error TS${d.code}: ${text}`;
    });
    const first = errors[0];
    const err = new SyntaxError(`TS${first.code}: ${ts.flattenDiagnosticMessageText(first.messageText, '\n')}`);
    err.nexusTraceback = lines;
    throw err;
  }
  return out.outputText
    .replace(/^"use strict";\s*\n/, '')
    .replace(/^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);\s*\n/m, '');
}

// --- cell rewriting ---
const DECL = /^(const|let)(\s+)([A-Za-z_$][\w$]*)(\s*[=;]|\s*$)/;
const DECL_ANY = /^(const|let)(\s+)(?=[\[{A-Za-z_$])/;
const CLASS = /^class\s+([A-Za-z_$][\w$]*)/;
const FUNC = /^(async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/;
const NOT_EXPR = /^(const|let|var|function|async\s+function|class|if|for|while|do|switch|try|catch|finally|return|throw|import|export|else|case|default|break|continue|\}|\)|\]|\/\/|\/\*|\*)/;

function asScript(code) {
  return code.split('\n').map((line) => {
    if (DECL_ANY.test(line)) return line.replace(DECL_ANY, 'var$2');
    const cls = CLASS.exec(line);
    if (cls) return `var ${cls[1]} = ${line}`;
    return line;
  }).join('\n');
}

function asAsync(code, valueMode) {
  const lines = code.split('\n').map((line) => {
    const decl = DECL.exec(line);
    if (decl) return line.replace(DECL, (m, kw, sp, name, rest) => `${name}${rest.trim() === '' || rest.trim() === ';' ? ' = undefined' + rest : rest}`);
    if (DECL_ANY.test(line)) return line.replace(DECL_ANY, 'var$2');
    const cls = CLASS.exec(line);
    if (cls) return `globalThis.${cls[1]} = ${line}`;
    const fn = FUNC.exec(line);
    if (fn) return `globalThis.${fn[2]} = ${line}`;
    return line;
  });
  // valueMode 1: the whole last line is the value; 2: what follows its last `;`; 0: no value
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  const line = last >= 0 ? lines[last].replace(/;\s*$/, '') : '';
  if (valueMode === 1 && line && !/^\s/.test(line) && !NOT_EXPR.test(line)) {
    lines[last] = `return (${line});`;
  } else if (valueMode === 2 && line.lastIndexOf(';') > 0) {
    const cut = line.lastIndexOf(';');
    const tail = line.slice(cut + 1).trim();
    if (tail && !NOT_EXPR.test(tail)) lines[last] = `${line.slice(0, cut + 1)} return (${tail});`;
  }
  return `(async () => {\n${lines.join('\n')}\n})()`;
}

function compile(code, filename) {
  try {
    return { script: new vm.Script(asScript(code), { filename }), async: false };
  } catch (err) {
    if (!(err instanceof SyntaxError) || !/\bawait\b/.test(code)) throw err;
  }
  // top-level await: line numbers are shifted by one by the wrapper line
  const options = { filename, lineOffset: -1 };
  for (const mode of [1, 2]) {
    try {
      return { script: new vm.Script(asAsync(code, mode), options), async: true };
    } catch (err) {
      // try the next way of finding the value
    }
  }
  return { script: new vm.Script(asAsync(code, 0), options), async: true };
}

// --- running ---
let cellCount = 0;
let current = null;

function interruptError() {
  const err = new Error('Script execution interrupted.');
  err.name = 'KeyboardInterrupt';
  return err;
}

process.on('SIGINT', () => {
  if (current && current.reject) current.reject(interruptError());
});

function errorEvent(err) {
  if (err && err.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') err = interruptError();
  if (!(err instanceof Error) && !(err && typeof err === 'object' && 'stack' in err)) {
    return { type: 'error', ename: 'Uncaught', evalue: util.inspect(err), traceback: [`Uncaught ${util.inspect(err)}`] };
  }
  const ename = err.name || (err.constructor && err.constructor.name) || 'Error';
  let traceback = err.nexusTraceback;
  if (!traceback) {
    const stack = String(err.stack || `${ename}: ${err.message}`).split('\n');
    traceback = stack.filter((line) => !/runner\.js|node:internal\/|node:vm|^\s+at new Script|^\s+at Script\./.test(line));
  }
  return { type: 'error', ename, evalue: String(err.message || ''), traceback };
}

async function runCell(req) {
  cellCount += 1;
  const filename = `cell[${cellCount}]`;
  let code = req.code;
  try {
    if (ts) code = transpile(code, filename);
    const { script, async } = compile(code, filename);
    let value = script.runInThisContext({ breakOnSigint: true, displayErrors: false });
    if (value && typeof value.then === 'function') {
      value = await new Promise((resolve, reject) => {
        current = { reject };
        value.then(resolve, reject);
      });
    }
    flush();
    if (value !== undefined) send({ type: 'result', data: mimeBundle(value) });
    return 'ok';
  } catch (err) {
    flush();
    send(errorEvent(err));
    return 'error';
  } finally {
    current = null;
  }
}

process.on('uncaughtException', (err) => { flush(); send({ ...errorEvent(err), type: 'async_error' }); });
process.on('unhandledRejection', (err) => { flush(); send({ ...errorEvent(err), type: 'async_error' }); });

let queue = Promise.resolve();
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    queue = queue.then(async () => {
      const status = await runCell(req);
      flush();
      send({ type: 'done', id: req.id, status });
    });
  }
});
process.stdin.on('end', () => process.exit(0));

send({ type: 'ready', node: process.version, typescript: ts ? ts.version : null });
