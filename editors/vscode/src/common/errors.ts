/** Turning JSON-RPC failures into sentences for the user. */

import { ErrorCodes } from "./protocol";

export interface RpcErrorLike {
  code?: unknown;
  message?: unknown;
}

/** True when the server answered "method not found": the running server lacks the feature. */
export function isMethodNotFound(error: unknown): boolean {
  return (error as RpcErrorLike | undefined)?.code === ErrorCodes.MethodNotFound;
}

export function isCancellation(error: unknown): boolean {
  const code = (error as RpcErrorLike | undefined)?.code;
  return code === ErrorCodes.RequestCancelled || code === ErrorCodes.ServerCancelled;
}

export function describeError(feature: string, error: unknown): string {
  if (isMethodNotFound(error)) {
    return `${feature} is not available: this nexus server does not implement it (upgrade nexus-ide).`;
  }
  const message = (error as RpcErrorLike | undefined)?.message;
  const text = typeof message === "string" && message ? message : String(error);
  return `${feature} failed: ${text}`;
}
