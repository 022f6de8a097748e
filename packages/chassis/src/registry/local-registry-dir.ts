import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the local backend keeps its records unless `registry.local.dir` says otherwise: the user's
 * runtime directory (`$XDG_RUNTIME_DIR`, private to the user and emptied at logout), else the
 * user's cache directory (`$XDG_CACHE_HOME`, or `~/.cache`). Never the shared temp directory,
 * where whoever created the folder first would decide which instances every service discovers.
 */
export function defaultLocalRegistryDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'keelson-registry');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'keelson-registry');
}

/**
 * Creates the directory (mode 0700) when it is missing, then refuses, naming the fix, a directory
 * that another user owns or that group or others may write to: whoever can write there decides
 * which instances are discovered.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = statSync(dir);
  if (!stats.isDirectory()) throw new Error(`registry.local.dir ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid)
    throw new Error(
      `registry.local.dir ${dir} is owned by uid ${stats.uid}, not by this user (uid ${uid}): another user could decide which instances are discovered. Use a directory of your own (set registry.local.dir / REGISTRY_LOCAL_DIR).`,
    );
  if ((stats.mode & 0o022) !== 0)
    throw new Error(
      `registry.local.dir ${dir} is writable by group or others (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}): another user could decide which instances are discovered. Run chmod 700 ${dir}, or use another directory.`,
    );
}
