/** The status bar item: server state, indexing progress, provider in use, last error. */

import * as vscode from "vscode";

import { type StatusModel, statusView } from "./common/status";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("nexus.status", vscode.StatusBarAlignment.Left, 10);
  private model: StatusModel = { state: "starting" };

  constructor() {
    this.item.name = "Nexus";
    this.item.command = "nexus.showLogs";
    this.render();
    this.item.show();
  }

  update(change: Partial<StatusModel>): void {
    this.model = { ...this.model, ...change };
    this.render();
  }

  get current(): StatusModel {
    return this.model;
  }

  private render(): void {
    const view = statusView(this.model);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
