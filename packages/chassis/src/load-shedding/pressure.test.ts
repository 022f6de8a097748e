import { describe, expect, it } from 'vitest';
import { assessPressure, inFlightOverload, type PressureLimits } from './pressure.js';

const MIB = 1024 * 1024;
const calm = { eventLoopDelay: 3, eventLoopUtilized: 0.2, heapUsed: 50 * MIB, rssBytes: 120 * MIB };
const limits: PressureLimits = {
  maxEventLoopDelayMs: 200,
  maxEventLoopUtilization: 0.9,
  maxHeapUsedBytes: 512 * MIB,
  maxRssBytes: 1024 * MIB,
};

describe('assessPressure', () => {
  it('finds nothing below every limit', () => {
    expect(assessPressure(calm, limits)).toBeUndefined();
  });

  it('names the limit the process is over, with both figures', () => {
    expect(assessPressure({ ...calm, eventLoopDelay: 250.4 }, limits)).toEqual({
      reason: 'event_loop_delay',
      description: 'event loop delay 250 ms > 200 ms',
      value: 250.4,
    });
    expect(assessPressure({ ...calm, eventLoopDelay: Number.POSITIVE_INFINITY }, limits)?.description).toBe(
      'event loop delay blocked for a whole sample > 200 ms',
    );
    expect(assessPressure({ ...calm, eventLoopUtilized: 0.973 }, limits)?.description).toBe(
      'event loop utilization 0.97 > 0.9',
    );
    expect(assessPressure({ ...calm, heapUsed: 600 * MIB }, limits)).toMatchObject({
      reason: 'heap_used',
      description: 'heap used 600.0 MiB > 512.0 MiB',
    });
    expect(assessPressure({ ...calm, rssBytes: 1500 * MIB }, limits)).toMatchObject({
      reason: 'rss',
      description: 'resident set 1500.0 MiB > 1024.0 MiB',
    });
  });

  it('skips a check whose limit is 0', () => {
    const off = { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, maxHeapUsedBytes: 0, maxRssBytes: 0 };
    expect(
      assessPressure({ eventLoopDelay: 1e6, eventLoopUtilized: 1, heapUsed: 1e12, rssBytes: 1e12 }, off),
    ).toBeUndefined();
  });

  it('describes a reached in-flight limit', () => {
    expect(inFlightOverload(64, 64)).toEqual({
      reason: 'in_flight',
      description: '64 requests in flight, limit 64',
      value: 64,
    });
  });
});
