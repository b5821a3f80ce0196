import { describe, expect, it } from 'vitest';

import { safeRedirectPath } from './safe-redirect';

describe('safeRedirectPath', () => {
  it.each([
    ['/prescriptions', '/prescriptions'],
    ['/?tab=1', '/?tab=1'],
    ['https://evil.example.com', '/'],
    ['//evil.example.com', '/'],
    ['/\\evil.example.com', '/'],
    ['javascript:alert(1)', '/'],
    ['/ok\nSet-Cookie: x=1', '/'],
    [undefined, '/'],
    [42, '/'],
  ])('maps %j to %j', (target, expected) => {
    expect(safeRedirectPath(target)).toBe(expected);
  });
});
