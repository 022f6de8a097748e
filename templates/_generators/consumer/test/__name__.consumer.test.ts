import type { IncomingMessage } from '@keelson/chassis';
import { describe, expect, it } from 'vitest';
import { type __Name__Payload, handle__Name__ } from '../src/handlers/__name__.js';

const message = (payload: __Name__Payload): IncomingMessage<__Name__Payload> => ({
  id: 'm-1',
  topic: '__topic__',
  payload,
  headers: {},
  timestamp: new Date(),
  source: 'test',
  attempt: 1,
  redelivered: false,
});

describe('__topic__ handler', () => {
  it('handles a message', async () => {
    expect(await handle__Name__(message({ id: 'a-1' }))).toBe('a-1');
  });

  it('rejects a payload without an id, so the message is retried and then dead-lettered', async () => {
    await expect(handle__Name__(message({} as __Name__Payload))).rejects.toThrow('no id');
  });
});
