/** Results by request, then by key. Entries go when React Router drops the Request. */
const memos = new WeakMap<Request, Map<string, Promise<unknown>>>();

/**
 * Returns the result of `compute` for `key`, running it at most once per request. React Router
 * 7.18 passes one Request object to every loader of a request, such as the root loader and the
 * page's loader, which run in parallel and both need the session. After an action the loaders
 * get a new Request, so nothing read before the action is reused after it. A rejected result is
 * shared like a resolved one.
 */
export function memoizeForRequest<T>(
  request: Request,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  let results = memos.get(request);
  if (!results) {
    results = new Map();
    memos.set(request, results);
  }

  let result = results.get(key) as Promise<T> | undefined;
  if (!result) {
    result = compute();
    results.set(key, result);
  }
  return result;
}
