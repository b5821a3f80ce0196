import { describe, expect, it, vi } from 'vitest';

import { clearRequestMemo, memoizeForRequest, runWithRequestMemo } from './request-memo.server';

describe('memoizeForRequest', () => {
  it('computes once per request and key', async () => {
    const request = new Request('http://localhost/');
    const compute = vi.fn(() => Promise.resolve(3));

    const results = await Promise.all([
      memoizeForRequest(request, 'count', compute),
      memoizeForRequest(request, 'count', compute),
    ]);

    expect(results).toEqual([3, 3]);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('computes again for another key', async () => {
    const request = new Request('http://localhost/');
    const compute = vi.fn(() => Promise.resolve(3));

    await memoizeForRequest(request, 'first', compute);
    await memoizeForRequest(request, 'second', compute);

    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('computes again for another request', async () => {
    const compute = vi.fn(() => Promise.resolve(3));

    await memoizeForRequest(new Request('http://localhost/'), 'count', compute);
    await memoizeForRequest(new Request('http://localhost/'), 'count', compute);

    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('shares a rejection', async () => {
    const request = new Request('http://localhost/');
    const compute = vi.fn(() => Promise.reject(new Error('database unavailable')));

    await expect(memoizeForRequest(request, 'count', compute)).rejects.toThrow('unavailable');
    await expect(memoizeForRequest(request, 'count', compute)).rejects.toThrow('unavailable');
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('shares results between copies of one request within its scope', async () => {
    const compute = vi.fn(() => Promise.resolve(3));

    await runWithRequestMemo(async () => {
      // React Router hands each loader its own copy of the request.
      await memoizeForRequest(new Request('http://localhost/'), 'count', compute);
      await memoizeForRequest(new Request('http://localhost/'), 'count', compute);
    });
    await runWithRequestMemo(() =>
      memoizeForRequest(new Request('http://localhost/'), 'count', compute),
    );

    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('computes again once the memo is cleared', async () => {
    const compute = vi.fn(() => Promise.resolve(3));

    await runWithRequestMemo(async () => {
      await memoizeForRequest(new Request('http://localhost/'), 'count', compute);
      clearRequestMemo();
      await memoizeForRequest(new Request('http://localhost/'), 'count', compute);
    });

    expect(compute).toHaveBeenCalledTimes(2);
  });
});
