/**
 * Where `nexus/run` output goes: the "Nexus Run" output channel, or a terminal-like panel (a
 * pseudoterminal, which keeps colours and shows output as it arrives) per `nexus.run.output`.
 */

import * as vscode from "vscode";

import type { RunOutput as RunOutputKind } from "./common/config";

export interface RunSink {
  begin(title: string): void;
  write(text: string): void;
  end(summary: string): void;
}

class ChannelSink implements RunSink {
  private readonly channel = vscode.window.createOutputChannel("Nexus Run");

  begin(title: string): void {
    this.channel.show(true);
    this.channel.appendLine(`▶ ${title}`);
  }

  write(text: string): void {
    this.channel.append(text);
  }

  end(summary: string): void {
    this.channel.appendLine(summary);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

class TerminalSink implements RunSink {
  private readonly emitter = new vscode.EventEmitter<string>();
  private terminal: vscode.Terminal | undefined;
  /** Output written before VS Code opened the terminal waits for it, in order. */
  private opened: Promise<void> = Promise.resolve();

  private ensure(): void {
    if (this.terminal && this.terminal.exitStatus === undefined) return;
    let markOpen: () => void = () => undefined;
    this.opened = new Promise((resolve) => (markOpen = resolve));
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.emitter.event,
      open: () => markOpen(),
      close: () => {
        this.terminal = undefined;
      },
    };
    this.terminal = vscode.window.createTerminal({ name: "Nexus Run", pty });
  }

  private fire(text: string): void {
    // A terminal needs CR LF; kernel output has bare LF.
    const chunk = text.replace(/\r?\n/g, "\r\n");
    void this.opened.then(() => this.emitter.fire(chunk));
  }

  begin(title: string): void {
    this.ensure();
    this.terminal?.show(true);
    this.fire(`\x1b[1m▶ ${title}\x1b[0m\n`);
  }

  write(text: string): void {
    this.fire(text);
  }

  end(summary: string): void {
    this.fire(`\x1b[2m${summary}\x1b[0m\n`);
  }

  dispose(): void {
    this.terminal?.dispose();
    this.emitter.dispose();
  }
}

export class RunOutputs implements vscode.Disposable {
  private channel: ChannelSink | undefined;
  private terminal: TerminalSink | undefined;

  sink(kind: RunOutputKind): RunSink {
    if (kind === "terminal") return (this.terminal ??= new TerminalSink());
    return (this.channel ??= new ChannelSink());
  }

  dispose(): void {
    this.channel?.dispose();
    this.terminal?.dispose();
  }
}
