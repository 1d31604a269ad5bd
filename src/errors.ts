// Every error vxnet raises on purpose carries a stable code. The master's HTTP
// error map (src/master/http/error-map.ts) turns codes into statuses; the CLI
// (src/cli/) reports them and sets the exit code.

export type ErrorCode =
  | 'BAD_REQUEST' // malformed JSON, wrong type, bad IP
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED' // a known path, another method
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'POOL_EXHAUSTED' // no VTEP address or subnet left
  | 'CONFIG_INVALID'
  | 'RECONCILE_REFUSED' // stored state contradicts the config
  | 'STORE_UNAVAILABLE'
  | 'NOT_LEADER'
  | 'TOO_MANY_WATCHERS' // the cap on watch streams; retry later
  | 'CONFLICT'
  | 'STALE_EPOCH' // an agent's lease ran out or was replaced: it must register again
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
