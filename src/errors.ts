// Every error vxnet raises on purpose carries a stable code; only the HTTP
// error map and the CLI turn codes into statuses and exit codes.

export type ErrorCode =
  | 'BAD_REQUEST' // malformed JSON, wrong type, bad IP
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'POOL_EXHAUSTED' // no VTEP address or subnet left
  | 'CONFIG_INVALID'
  | 'RECONCILE_REFUSED' // stored state contradicts the config
  | 'STORE_UNAVAILABLE'
  | 'NOT_LEADER'
  | 'CONFLICT'
  | 'KERNEL' // a Linux command failed
  | 'CNI' // a CNI plugin failed
  | 'PRECONDITION'; // missing package, not root, ...

export class VxnetError extends Error {
  override readonly name = 'VxnetError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isVxnetError = (e: unknown): e is VxnetError => e instanceof VxnetError;
