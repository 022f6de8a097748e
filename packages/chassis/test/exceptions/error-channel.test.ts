import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorChannel, type ErrorContext } from '../../src/core/index.js';
import { LogCapture } from '../../src/testing/index.js';

function channel() {
  const logs = new LogCapture();
  return { errors: new ErrorChannel(pino(logs)), logs };
}

describe('ErrorChannel (ctx.errors)', () => {
  it('tells the caller whether anyone listens', () => {
    const { errors } = channel();
    expect(errors.listening).toBe(false);
    expect(errors.report(new Error('x'), { source: 'http' })).toBe(false);
    const seen: [unknown, ErrorContext][] = [];
    const off = errors.onReport((error, context) => seen.push([error, context]));
    expect(errors.report('y', { source: 'task', task: 't' })).toBe(true);
    expect(seen).toEqual([['y', { source: 'task', task: 't' }]]);
    off();
    expect(errors.listening).toBe(false);
  });

  it('keeps a failing listener from the reporter and from the other listeners', () => {
    const { errors, logs } = channel();
    const seen: unknown[] = [];
    errors.onReport(() => {
      throw new Error('listener bug');
    });
    errors.onReport((error) => seen.push(error));
    expect(() => errors.report(new Error('x'), { source: 'http' })).not.toThrow();
    expect(seen).toHaveLength(1);
    expect(logs.find('an error listener failed')).toHaveLength(1);
  });

  it('ignores a report made from inside a listener', () => {
    const { errors } = channel();
    let calls = 0;
    errors.onReport((error, context) => {
      calls++;
      errors.report(error, context);
    });
    errors.report(new Error('x'), { source: 'process' });
    expect(calls).toBe(1);
  });

  it('logs a failed background task when nobody listens, and never rejects', async () => {
    const { errors, logs } = channel();
    await expect(errors.track(Promise.reject(new Error('sync failed')), 'sync')).resolves.toBeUndefined();
    const [line] = logs.find('background task "sync" failed');
    expect(line).toMatchObject({ level: 50, task: 'sync', err: { message: 'sync failed' } });
  });
});
