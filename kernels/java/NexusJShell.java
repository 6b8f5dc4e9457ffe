// The JVM side of Nexus' Java kernel: evaluates cells with the JShell API (jdk.jshell), state kept.
//
// Requests arrive on stdin, one per line: "run <id> <base64 of the UTF-8 cell>". Replies go to the
// protocol file descriptor (NEXUS_PROTOCOL_FD) as "\u001eNX{json}" lines: stream text, the value of the
// last expression, errors (compiler diagnostics or the exception with its stack), then "done".
// User code runs in this JVM (the "local" execution engine: no second JVM to start), with System.out and
// System.err captured into that channel. SIGINT stops the running snippet through JShell.stop().
import java.io.ByteArrayOutputStream;
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

public final class NexusJShell {
    private static OutputStream protocol;
    private static volatile boolean stopped;

    static synchronized void send(String json) {
        try {
            protocol.write(("\u001eNX" + json + "\n").getBytes(StandardCharsets.UTF_8));
            protocol.flush();
        } catch (java.io.IOException e) {
            System.exit(3);
        }
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** Captured System.out / System.err: batched, flushed at 64 KB, every 50 ms of output, and per cell. */
    static final class Capture extends OutputStream {
        private final String name;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private long last = System.currentTimeMillis();
        static Capture other;

        Capture(String name) { this.name = name; }

        @Override public synchronized void write(int b) { buffer.write(b); maybeFlush(); }

        @Override public synchronized void write(byte[] b, int off, int len) { buffer.write(b, off, len); maybeFlush(); }

        private void maybeFlush() {
            if (buffer.size() > 65536 || System.currentTimeMillis() - last > 50) flush();
        }

        @Override public synchronized void flush() {
            last = System.currentTimeMillis();
            if (buffer.size() == 0) return;
            String text = buffer.toString(StandardCharsets.UTF_8);
            buffer.reset();
            send("{\"type\":\"stream\",\"name\":" + quote(name) + ",\"text\":" + quote(text) + "}");
        }
    }

    public static void main(String[] args) throws Exception {
        String fd = System.getenv("NEXUS_PROTOCOL_FD");
        protocol = new FileOutputStream("/dev/fd/" + (fd == null ? "3" : fd));
        Capture out = new Capture("stdout");
        Capture err = new Capture("stderr");
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        JShell shell = JShell.builder().executionEngine("local").out(System.out).err(System.err).build();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                stopped = true;
                shell.stop();
            });
        } catch (IllegalArgumentException e) {
            // no SIGINT on this platform: interrupts will fall back to a kernel restart
        }
        shell.eval("int __nexus_warmup = 0;");  // compile once now, so the first cell is not the slow one
        send("{\"type\":\"ready\",\"java\":" + quote(System.getProperty("java.version")) + "}");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split(" ", 3);
            if (parts.length < 3 || !parts[0].equals("run")) continue;
            String code = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
            stopped = false;
            String status = run(shell, code, out, err);
            System.out.flush();
            System.err.flush();
            out.flush();
            err.flush();
            send("{\"type\":\"done\",\"id\":" + quote(parts[1]) + ",\"status\":" + quote(status) + "}");
        }
        System.exit(0);
    }

    static String run(JShell shell, String code, Capture out, Capture err) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        String remaining = code;
        String lastValue = null;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            String source = info.source();
            if (info.completeness() == SourceCodeAnalysis.Completeness.DEFINITELY_INCOMPLETE
                    || info.completeness() == SourceCodeAnalysis.Completeness.CONSIDERED_INCOMPLETE && source == null) {
                source = remaining;
                remaining = "";
            } else if (source == null) {
                source = remaining;
                remaining = "";
            } else {
                remaining = info.remaining();
            }
            if (source.isBlank()) continue;
            List<SnippetEvent> events = shell.eval(source);
            System.out.flush();
            System.err.flush();
            if (stopped) {
                sendError("KeyboardInterrupt", "interrupted", List.of("KeyboardInterrupt: the cell was stopped"));
                return "error";
            }
            for (SnippetEvent event : events) {
                if (event.causeSnippet() != null) continue;  // updates of dependent snippets
                Snippet snippet = event.snippet();
                if (event.status() == Snippet.Status.REJECTED) {
                    List<String> lines = new ArrayList<>();
                    String first = null;
                    for (Diag d : (Iterable<Diag>) shell.diagnostics(snippet)::iterator) {
                        String message = d.getMessage(Locale.ROOT);
                        if (first == null) first = message;
                        long pos = d.getPosition();
                        lines.add((d.isError() ? "error: " : "warning: ") + message);
                        lines.addAll(pointAt(snippet.source(), pos));
                    }
                    if (first == null) first = "this code is not valid Java";
                    sendError("CompilationError", first, lines);
                    return "error";
                }
                JShellException exception = event.exception();
                if (exception != null) {
                    reportException(exception);
                    return "error";
                }
                if (event.status() == Snippet.Status.RECOVERABLE_DEFINED || event.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                    System.err.println("note: " + snippet.source().strip().split("\n")[0]
                            + " refers to something not defined yet; it can be used once that is declared");
                }
                if (snippet.kind() == Snippet.Kind.EXPRESSION
                        || snippet.kind() == Snippet.Kind.VAR && snippet.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND) {
                    lastValue = event.value();
                } else if (snippet.kind() != Snippet.Kind.ERRONEOUS) {
                    lastValue = null;
                }
            }
        }
        System.out.flush();
        System.err.flush();
        if (lastValue != null) {
            send("{\"type\":\"result\",\"data\":{\"text/plain\":" + quote(lastValue) + "}}");
        }
        return "ok";
    }

    static List<String> pointAt(String source, long pos) {
        List<String> out = new ArrayList<>();
        if (pos < 0 || pos > source.length()) return out;
        int start = source.lastIndexOf('\n', (int) Math.max(0, pos - 1)) + 1;
        if (pos == 0) start = 0;
        int end = source.indexOf('\n', (int) pos);
        if (end < 0) end = source.length();
        out.add("    " + source.substring(start, end));
        out.add("    " + " ".repeat((int) pos - start) + "^");
        return out;
    }

    static void reportException(JShellException exception) {
        String ename;
        String message = exception.getMessage() == null ? ""
                : exception.getMessage().replaceAll("REPL\\.\\$JShell\\$\\d+[A-Z]?\\.", "");
        if (exception instanceof EvalException) {
            ename = ((EvalException) exception).getExceptionClassName();
        } else if (exception instanceof UnresolvedReferenceException) {
            ename = "UnresolvedReference";
            message = "uses " + ((UnresolvedReferenceException) exception).getSnippet().source().strip()
                    + ", which refers to something not yet defined";
        } else {
            ename = exception.getClass().getName();
        }
        List<String> lines = new ArrayList<>();
        lines.add(ename + (message.isEmpty() ? "" : ": " + message));
        for (StackTraceElement frame : exception.getStackTrace()) {
            String text = frame.toString();
            if (text.startsWith("jdk.jshell.") || text.startsWith("java.base/jdk.internal.reflect")
                    || text.startsWith("java.base/java.lang.reflect") || text.startsWith("NexusJShell")) continue;
            String file = frame.getFileName();
            if (frame.getClassName().startsWith("REPL.") || file != null && file.startsWith("#")) {
                String method = frame.getMethodName();
                method = method.isEmpty() || method.equals("do_it$") ? "cell" : method;
                lines.add("\tat " + method + " (line " + frame.getLineNumber() + ")");
            } else {
                lines.add("\tat " + text);
            }
        }
        if (ename.equals("java.lang.OutOfMemoryError")) {
            sendError("MemoryLimitExceeded", "Java heap space: " + message, lines);
        } else if (ename.equals("jdk.jshell.spi.ExecutionControl$StoppedException") || ename.endsWith("ThreadDeath")) {
            sendError("KeyboardInterrupt", "interrupted", List.of("KeyboardInterrupt: the cell was stopped"));
        } else {
            sendError(ename.substring(ename.lastIndexOf('.') + 1), message, lines);
        }
    }

    static void sendError(String ename, String evalue, List<String> traceback) {
        StringBuilder tb = new StringBuilder("[");
        for (int i = 0; i < traceback.size(); i++) {
            if (i > 0) tb.append(',');
            tb.append(quote(traceback.get(i)));
        }
        tb.append(']');
        send("{\"type\":\"error\",\"ename\":" + quote(ename) + ",\"evalue\":" + quote(evalue) + ",\"traceback\":" + tb + "}");
    }
}
