import { constants, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Writes into a folder and remembers what it created, so that a failed `keelson new` can remove
 * exactly that: the files and folders it made (the folder itself when it made it), and what the
 * package manager added (node_modules, lock files) when those were not there before.
 */
export class WriteJournal {
  readonly #root: string;
  readonly #created: string[] = [];
  readonly #rootExisted: boolean;
  readonly #installOutputs: string[];

  constructor(root: string) {
    this.#root = root;
    this.#rootExisted = existsSync(root);
    this.#installOutputs = [
      'node_modules',
      'package-lock.json',
      'pnpm-lock.yaml',
      'yarn.lock',
      '.pnp.cjs',
      '.yarn',
    ]
      .map((f) => join(root, f))
      .filter((f) => !existsSync(f));
  }

  /** Writes a new file (never one that exists) at `path`, relative to the root. */
  writeFile(path: string, text: string): void {
    const target = this.#prepare(path);
    writeFileSync(target, text, { flag: 'wx' });
    this.#created.push(target);
  }

  /** Copies `source` to a new file at `path`, relative to the root. */
  copyFile(source: string, path: string): void {
    const target = this.#prepare(path);
    copyFileSync(source, target, constants.COPYFILE_EXCL);
    this.#created.push(target);
  }

  /** Removes what was created, newest first. */
  undo(): void {
    if (!this.#rootExisted) {
      // The first folder made is the top-most one: the root, or a parent of it (`new a/b/c`).
      const top =
        this.#created[0] !== undefined && this.#root.startsWith(this.#created[0])
          ? this.#created[0]
          : this.#root;
      rmSync(top, { recursive: true, force: true });
      return;
    }
    for (const path of [...this.#installOutputs, ...this.#created.reverse()])
      rmSync(path, { recursive: true, force: true });
  }

  #prepare(path: string): string {
    const target = join(this.#root, path);
    const made = mkdirSync(dirname(target), { recursive: true });
    if (made) this.#created.push(made);
    return target;
  }
}
