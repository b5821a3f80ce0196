import { AsyncLocalStorage } from 'node:async_hooks';

import { singleton } from '~/utils/singleton.server';

type Memo = Map<string, Promise<unknown>>;

/** The memo of the request being served, while a phase of it (its action, its loaders) runs. */
interface RequestMemoScope {
  memo: Memo;
}

function scopeStorage(): AsyncLocalStorage<RequestMemoScope> {
  return singleton('request-memo-storage', () => new AsyncLocalStorage<RequestMemoScope>());
}

/** Memos of requests served outside a scope (unit tests), by Request object. */
const memosByRequest = new WeakMap<Request, Memo>();

/**
 * Runs `work`, one HTTP request to React Router, with a memo that every loader of the request
 * shares. React Router 7.18 gives each loader its own copy of the Request, so the Request object
 * cannot tell two loaders of one request apart from two requests.
 */
export function runWithRequestMemo<T>(work: () => T): T {
  return scopeStorage().run({ memo: new Map() }, work);
}

/**
 * Empties the memo of the current request. Called once its action has run, so the loaders that
 * follow read again what the action may have changed (an unread count, a revoked session).
 */
export function clearRequestMemo(): void {
  const scope = scopeStorage().getStore();
  if (scope) scope.memo = new Map();
}

/**
 * Returns the result of `compute` for `key`, running it at most once per request: the root loader
 * and the page's loader run in parallel, and both need the session. Within runWithRequestMemo,
 * the memo is the scope's. Outside it, the memo belongs to the Request object. A rejected result
 * is shared like a resolved one.
 */
export function memoizeForRequest<T>(
  request: Request,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  const memo = scopeStorage().getStore()?.memo ?? memoOfRequest(request);
  let result = memo.get(key) as Promise<T> | undefined;
  if (!result) {
    result = compute();
    memo.set(key, result);
  }
  return result;
}

function memoOfRequest(request: Request): Memo {
  let memo = memosByRequest.get(request);
  if (!memo) {
    memo = new Map();
    memosByRequest.set(request, memo);
  }
  return memo;
}
