/**
 * Returns the one value stored under `name` for this process, creating it on first use.
 *
 * The value lives on `globalThis` because server.ts and the React Router server build load
 * separate copies of app modules (and Vite reloads them in development), yet the process must
 * keep one environment, one database pool and one token cache.
 */
export function singleton<T>(name: string, create: () => T): T {
  const holder = globalThis as typeof globalThis & { __portalSingletons?: Map<string, unknown> };
  holder.__portalSingletons ??= new Map<string, unknown>();

  if (!holder.__portalSingletons.has(name)) {
    holder.__portalSingletons.set(name, create());
  }
  return holder.__portalSingletons.get(name) as T;
}

/** Drops a stored value so the next `singleton` call creates it again; used by tests. */
export function resetSingleton(name: string): void {
  const holder = globalThis as typeof globalThis & { __portalSingletons?: Map<string, unknown> };
  holder.__portalSingletons?.delete(name);
}
