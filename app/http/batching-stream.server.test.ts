import { setImmediate as nextTurn } from 'node:timers/promises';

import { describe, expect, it, vi } from 'vitest';

import { createBatchingStream } from './batching-stream.server';

function collect(stream: NodeJS.ReadableStream): string[] {
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return chunks;
}

describe('createBatchingStream', () => {
  it('joins chunks written in one turn', async () => {
    const stream = createBatchingStream(() => {});
    const chunks = collect(stream);

    stream.write('<html>');
    stream.write('<body>');
    stream.write('</body>');
    await nextTurn();

    expect(chunks).toEqual(['<html><body></body>']);
  });

  it('sends a later turn as its own chunk', async () => {
    const stream = createBatchingStream(() => {});
    const chunks = collect(stream);

    stream.write('shell');
    await nextTurn();
    await nextTurn();
    stream.write('boundary');
    await nextTurn();

    expect(chunks).toEqual(['shell', 'boundary']);
  });

  it('sends what is pending at the end and calls onEnd once', async () => {
    const onEnd = vi.fn();
    const stream = createBatchingStream(onEnd);
    const chunks = collect(stream);
    const ended = new Promise((resolve) => stream.on('end', resolve));

    stream.write('a');
    stream.end('b');
    await ended;

    expect(chunks).toEqual(['ab']);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });
});
