/** Why a request was shed: the `reason` label of `load_shedding_rejected_total`. */
export type ShedReason = 'event_loop_delay' | 'event_loop_utilization' | 'heap_used' | 'rss' | 'in_flight';

/** A limit the process is over. */
export interface Overload {
  reason: ShedReason;
  /** For people: `event loop delay 250 ms > 200 ms`. */
  description: string;
  value: number;
}

/** The process limits; 0 turns a check off. */
export interface PressureLimits {
  maxEventLoopDelayMs: number;
  maxEventLoopUtilization: number;
  maxHeapUsedBytes: number;
  maxRssBytes: number;
}

/** The latest sample, in the shape of @fastify/under-pressure's `memoryUsage()`. */
export interface PressureSample {
  /** Mean event-loop delay in ms over the last sample interval; Infinity when it was blocked throughout. */
  eventLoopDelay: number;
  /** Share of the last sample interval the event loop was busy, 0 to 1. */
  eventLoopUtilized: number;
  heapUsed: number;
  rssBytes: number;
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** The first process limit the sample is over, or undefined. Allocates nothing when all is well. */
export function assessPressure(sample: PressureSample, limits: PressureLimits): Overload | undefined {
  const delay = sample.eventLoopDelay;
  if (limits.maxEventLoopDelayMs > 0 && delay > limits.maxEventLoopDelayMs) {
    const shown = Number.isFinite(delay) ? `${Math.round(delay)} ms` : 'blocked for a whole sample';
    return {
      reason: 'event_loop_delay',
      description: `event loop delay ${shown} > ${limits.maxEventLoopDelayMs} ms`,
      value: delay,
    };
  }
  const busy = sample.eventLoopUtilized;
  if (limits.maxEventLoopUtilization > 0 && busy > limits.maxEventLoopUtilization) {
    return {
      reason: 'event_loop_utilization',
      description: `event loop utilization ${busy.toFixed(2)} > ${limits.maxEventLoopUtilization}`,
      value: busy,
    };
  }
  if (limits.maxHeapUsedBytes > 0 && sample.heapUsed > limits.maxHeapUsedBytes) {
    return {
      reason: 'heap_used',
      description: `heap used ${mib(sample.heapUsed)} > ${mib(limits.maxHeapUsedBytes)}`,
      value: sample.heapUsed,
    };
  }
  if (limits.maxRssBytes > 0 && sample.rssBytes > limits.maxRssBytes) {
    return {
      reason: 'rss',
      description: `resident set ${mib(sample.rssBytes)} > ${mib(limits.maxRssBytes)}`,
      value: sample.rssBytes,
    };
  }
  return undefined;
}

/** The in-flight limit, reached: one more request would exceed it. */
export function inFlightOverload(inFlight: number, maxInFlight: number): Overload {
  return {
    reason: 'in_flight',
    description: `${inFlight} requests in flight, limit ${maxInFlight}`,
    value: inFlight,
  };
}
