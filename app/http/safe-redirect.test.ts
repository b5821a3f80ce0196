import { describe, expect, it } from 'vitest';

import { safeRedirectPath } from './safe-redirect';

describe('safeRedirectPath', () => {
  it.each([
    ['/prescriptions', '/prescriptions'],
    ['/?tab=1', '/?tab=1'],
    ['https://evil.example.com', '/'],
    ['//evil.example.com', '/'],
    ['/\\evil.example.com', '/'],
    ['/.//evil.example.com/x', '/'],
    ['/..//evil.example.com', '/'],
    ['/%2e//evil.example.com', '/'],
    ['/a/..//evil.example.com', '/'],
    ['/.//prescriptions', '/'],
    ['/a/../prescriptions', '/prescriptions'],
    ['javascript:alert(1)', '/'],
    ['/ok\nSet-Cookie: x=1', '/'],
    [undefined, '/'],
    [42, '/'],
  ])('maps %j to %j', (target, expected) => {
    expect(safeRedirectPath(target)).toBe(expected);
  });
});

describe('safeRedirectPath encoding', () => {
  it.each([
    ['/\u3000', '/%E3%80%80'],
    ['/caf\u00e9?q=\u00e9', '/caf%C3%A9?q=%C3%A9'],
    ['/a b', '/a%20b'],
    ['/\u007f', '/'],
  ])('makes %j safe for a Location header', (target, expected) => {
    const path = safeRedirectPath(target);
    expect(path).toBe(expected);
    expect(() => new Headers({ location: path })).not.toThrow();
  });
});
