import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteJournal } from '../src/scaffold/write-journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('WriteJournal', () => {
  it('removes the parent folders it made for a new root, and nothing else', () => {
    const base = mkdtempSync(join(tmpdir(), 'keelson-journal-'));
    dirs.push(base);
    const root = join(base, 'a', 'b', 'service');
    const journal = new WriteJournal(root);
    journal.writeFile('src/main.ts', 'export {};\n');
    expect(existsSync(join(root, 'src', 'main.ts'))).toBe(true);
    journal.undo();
    expect(existsSync(join(base, 'a'))).toBe(false);
    expect(existsSync(base)).toBe(true);
  });

  it('in an existing root, removes only what it wrote', () => {
    const root = mkdtempSync(join(tmpdir(), 'keelson-journal-'));
    dirs.push(root);
    writeFileSync(join(root, 'notes.md'), 'mine\n');
    const journal = new WriteJournal(root);
    journal.writeFile('src/main.ts', 'export {};\n');
    journal.undo();
    expect(existsSync(join(root, 'src'))).toBe(false);
    expect(existsSync(join(root, 'notes.md'))).toBe(true);
  });
});
