import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from './fast-histogram.js';

describe('FastHistogram', () => {
  it('renders cumulative buckets, +Inf, sum and count per series in the Prometheus text format', async () => {
    const histogram = new FastHistogram<'route'>('req_seconds', 'Request time.', [0.1, 1]);
    const registry = new Registry();
    registry.registerMetric(histogram.asMetric());
    for (const v of [0.05, 0.1, 0.5, 3]) histogram.observe('a', () => ({ route: '/a' }), v);
    histogram.observe('b', () => ({ route: '/b' }), 0.2);
    expect(await registry.metrics()).toBe(
      [
        '# HELP req_seconds Request time.',
        '# TYPE req_seconds histogram',
        'req_seconds_bucket{route="/a",le="0.1"} 2',
        'req_seconds_bucket{route="/a",le="1"} 3',
        'req_seconds_bucket{route="/a",le="+Inf"} 4',
        'req_seconds_sum{route="/a"} 3.65',
        'req_seconds_count{route="/a"} 4',
        'req_seconds_bucket{route="/b",le="0.1"} 0',
        'req_seconds_bucket{route="/b",le="1"} 1',
        'req_seconds_bucket{route="/b",le="+Inf"} 1',
        'req_seconds_sum{route="/b"} 0.2',
        'req_seconds_count{route="/b"} 1',
        '',
      ].join('\n'),
    );
    histogram.reset();
    expect(await registry.metrics()).toBe('# HELP req_seconds Request time.\n# TYPE req_seconds histogram\n');
  });
});
