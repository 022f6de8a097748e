import { spawnSync } from 'node:child_process';

export type PackageManager = 'npm' | 'pnpm' | 'yarn';
export const PACKAGE_MANAGERS: readonly PackageManager[] = ['npm', 'pnpm', 'yarn'];

/** The package managers that run here: each answers `--version` on the PATH of `env`. */
export function installedPackageManagers(env: NodeJS.ProcessEnv): PackageManager[] {
  return PACKAGE_MANAGERS.filter(
    (pm) =>
      spawnSync(pm, ['--version'], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
        shell: process.platform === 'win32',
        timeout: 10_000,
      }).status === 0,
  );
}
