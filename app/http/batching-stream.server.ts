import { Transform } from 'node:stream';

/**
 * Creates a pass-through stream that joins the chunks written to it within one turn of the event
 * loop into one chunk. React 19.2 writes a page's shell in one turn, in chunks of at most 2 KB
 * and one per long string, and @react-router/node 7.18 flushes the compression stream after every
 * chunk so that streamed parts reach the browser at once. Without joining, each chunk is
 * compressed, flushed and written to the socket on its own. A chunk written in a later turn, such
 * as a streamed Suspense boundary, still goes out when that turn ends. `onEnd` runs once
 * everything is written.
 */
export function createBatchingStream(onEnd: () => void): Transform {
  let pending: Buffer[] = [];
  let scheduled = false;

  const pushPending = () => {
    if (pending.length === 0) return;
    const joined = Buffer.concat(pending);
    pending = [];
    stream.push(joined);
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      pending.push(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          if (!stream.destroyed) pushPending();
        });
      }
      callback();
    },
    flush(callback) {
      pushPending();
      onEnd();
      callback();
    },
  });
  return stream;
}
