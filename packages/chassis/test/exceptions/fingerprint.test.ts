import { describe, expect, it } from 'vitest';
import { describeError, normaliseMessage, stackFrames } from '../../src/exceptions/fingerprint.js';

const CWD = '/srv/orders';

function stack(lines: string[]): string {
  return ['Error: order 1 not found', ...lines.map((l) => `    at ${l}`)].join('\n');
}

describe('normaliseMessage', () => {
  it('replaces numbers, uuids, hex and prefixed ids, and e-mail addresses', () => {
    expect(normaliseMessage('order 123 not found')).toBe('order <id> not found');
    expect(normaliseMessage('order 3f2504e0-4f89-11d3-9a0c-0305e82c3301 not found')).toBe(
      'order <id> not found',
    );
    expect(normaliseMessage('order abcdefab-abcd-abcd-abcd-abcdefabcdef not found')).toBe(
      'order <id> not found',
    );
    expect(normaliseMessage('doc 5f3a9c0e4b1d2a6f7e8d9c0b missing at 0x7ffe')).toBe(
      'doc <id> missing at <id>',
    );
    expect(normaliseMessage('charge ch_3MmlLrLkdIwHu7ix0snN0B15 failed')).toBe('charge <id> failed');
    expect(normaliseMessage('no account for ann@example.com')).toBe('no account for <email>');
    expect(normaliseMessage('timeout after 1.5 s')).toBe('timeout after <id>.<id> s');
  });

  it('keeps words without digits', () => {
    expect(normaliseMessage('cafe closed')).toBe('cafe closed');
    expect(normaliseMessage('relation "orders" does not exist')).toBe('relation "orders" does not exist');
  });
});

describe('stackFrames', () => {
  it('keeps in-app frames as file:function, without line and column, relative to the working directory', () => {
    const frames = stackFrames(
      stack([
        'findOrder (/srv/orders/src/orders.ts:10:5)',
        'async Object.<anonymous> (file:///srv/orders/src/routes.ts:22:3)',
        'process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
        'Array.map (<anonymous>)',
        '/srv/orders/src/main.ts:3:1',
      ]),
      5,
      { root: CWD },
    );
    expect(frames).toEqual([
      'src/orders.ts:findOrder',
      'src/routes.ts:Object.<anonymous>',
      'src/main.ts:<anonymous>',
    ]);
  });

  it('gives the same frames when code moves to other lines', () => {
    const before = stackFrames(stack(['findOrder (/srv/orders/src/orders.ts:10:5)']), 5, { root: CWD });
    const after = stackFrames(stack(['findOrder (/srv/orders/src/orders.ts:42:9)']), 5, { root: CWD });
    expect(after).toEqual(before);
  });

  it('skips library frames when there are in-app ones, and uses them (from the package on) otherwise', () => {
    const mixed = stack([
      'Parser.parse (/srv/orders/node_modules/pg-protocol/dist/parser.js:1:1)',
      'handler (/srv/orders/src/db.ts:5:5)',
    ]);
    expect(stackFrames(mixed, 5, { root: CWD })).toEqual(['src/db.ts:handler']);
    const libraryOnly = stack(['Parser.parse (/opt/app/node_modules/pg-protocol/dist/parser.js:1:1)']);
    expect(stackFrames(libraryOnly, 5, { root: CWD })).toEqual(['pg-protocol/dist/parser.js:Parser.parse']);
  });

  it("never counts the chassis's own frames as in-app, however it is installed", () => {
    // A workspace: the chassis linked from packages/chassis, not under node_modules.
    const workspace = { root: '/repo/examples/orders', chassisModules: '/repo/packages/chassis/dist/' };
    const linked = stack([
      'findOrder (/repo/examples/orders/src/orders.ts:10:5)',
      'Object.<anonymous> (/repo/packages/chassis/dist/audit/request-scope.js:40:7)',
      'handler (/repo/examples/orders/src/routes.ts:22:3)',
      'shared (/repo/packages/common/src/ids.ts:3:1)',
    ]);
    expect(stackFrames(linked, 5, workspace)).toEqual([
      'src/orders.ts:findOrder',
      'src/routes.ts:handler',
      '../../packages/common/src/ids.ts:shared',
    ]);
    // Installed: the same frames, whatever the plugins add in between.
    const installed = stack([
      'findOrder (/srv/orders/src/orders.ts:10:5)',
      'Object.<anonymous> (/srv/orders/node_modules/@keelson/chassis/dist/tracing/spans.js:1:1)',
      'handler (/srv/orders/src/routes.ts:22:3)',
    ]);
    expect(
      stackFrames(installed, 5, {
        root: CWD,
        chassisModules: '/srv/orders/node_modules/@keelson/chassis/dist/',
      }),
    ).toEqual(['src/orders.ts:findOrder', 'src/routes.ts:handler']);
    // Only chassis frames: named from the package on, the same in both layouts.
    const onlyChassis = (path: string) => stack([`Server.route (${path}/dist/http/server.js:5:1)`]);
    expect(stackFrames(onlyChassis('/repo/packages/chassis'), 5, workspace)).toEqual([
      '@keelson/chassis/dist/http/server.js:Server.route',
    ]);
    expect(stackFrames(onlyChassis('/srv/orders/node_modules/@keelson/chassis'), 5, { root: CWD })).toEqual([
      '@keelson/chassis/dist/http/server.js:Server.route',
    ]);
  });

  it('takes at most the given number of frames, none for 0 or no stack', () => {
    const many = stack(['a (/srv/orders/a.ts:1:1)', 'b (/srv/orders/b.ts:1:1)', 'c (/srv/orders/c.ts:1:1)']);
    expect(stackFrames(many, 2, { root: CWD })).toEqual(['a.ts:a', 'b.ts:b']);
    expect(stackFrames(many, 0, { root: CWD })).toEqual([]);
    expect(stackFrames(undefined, 5, { root: CWD })).toEqual([]);
    expect(stackFrames('not a stack at all', 5, { root: CWD })).toEqual([]);
  });
});

describe('describeError', () => {
  const thrownAt = (message: string) => new Error(message);

  it('gives one fingerprint to one throw site with different ids, another to a different error', () => {
    const a = describeError(thrownAt('order 123 not found'), 5);
    const b = describeError(thrownAt('order 456 not found'), 5);
    const c = describeError(new TypeError('order 123 not found'), 5);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(a.message).toBe('order 123 not found');
  });

  it('names subclasses that keep the inherited name after their class', () => {
    class OrderNotFound extends Error {}
    expect(describeError(new OrderNotFound('x'), 5).name).toBe('OrderNotFound');
    class Named extends Error {
      override name = 'PaymentDeclined';
    }
    expect(describeError(new Named('x'), 5).name).toBe('PaymentDeclined');
  });

  it('describes values that are not errors', () => {
    expect(describeError('plain text', 5)).toMatchObject({
      name: 'NonError',
      message: 'plain text',
      frames: [],
    });
    expect(describeError({ code: 42 }, 5)).toMatchObject({ name: 'NonError', message: '{ code: 42 }' });
    expect(describeError(undefined, 5)).toMatchObject({ name: 'NonError', message: 'undefined' });
    expect(describeError(null, 5).fingerprint).toMatch(/^[0-9a-f]{12}$/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular, 5).message).toContain('Circular');
  });

  it('survives errors whose properties throw', () => {
    const error = new Error('x');
    for (const key of ['stack', 'message', 'name', 'fingerprint'])
      Object.defineProperty(error, key, {
        get() {
          throw new Error(`no ${key}`);
        },
      });
    const described = describeError(error, 5);
    expect(described).toMatchObject({ name: 'Error', message: '', stack: undefined, frames: [] });
    expect(described.fingerprint).toMatch(/^[0-9a-f]{12}$/);
  });

  it('lets an error choose its group with a fingerprint property', () => {
    const a = Object.assign(new Error('upstream 1 failed'), { fingerprint: 'upstream' });
    const b = Object.assign(new Error('totally different'), { fingerprint: 'upstream' });
    expect(describeError(a, 5).fingerprint).toBe(describeError(b, 5).fingerprint);
  });
});
