import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('keelson', () => {
  it('prints help by default and with --help', () => {
    expect(run().out).toContain('Usage: keelson <command>');
    expect(run('--help')).toMatchObject({ code: 0 });
  });

  it('prints its version', () => {
    expect(run('--version').out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('names an unknown command and exits 2', () => {
    const result = run('frobnicate');
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown command "frobnicate"');
  });
});
