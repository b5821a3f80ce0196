import { createContext, useContext } from 'react';

/**
 * The Content-Security-Policy nonce of the page being rendered. entry.server.tsx provides it.
 * In the browser it is empty: browsers hide a nonce from the page (the attribute reads as ""),
 * so hydration compares "" with "", and scripts added later need none ('strict-dynamic').
 */
export const NonceContext = createContext('');

export function useNonce(): string {
  return useContext(NonceContext);
}
