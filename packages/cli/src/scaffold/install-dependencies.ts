import { spawn } from 'node:child_process';
import type { PackageManager } from './package-managers.js';

/**
 * Runs `<pm> install` in the new service; `onProgress` hears the elapsed seconds every second
 * while it runs. Resolves when it succeeds; rejects with the tail of its output when it fails.
 */
export function installDependencies(
  dir: string,
  pm: PackageManager,
  env: NodeJS.ProcessEnv,
  onProgress: (seconds: number) => void,
): Promise<void> {
  const args = pm === 'npm' ? ['install', '--no-audit', '--no-fund', '--prefer-offline'] : ['install'];
  return new Promise((resolve, reject) => {
    const child = spawn(pm, args, {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const began = Date.now();
    const ticker = setInterval(() => onProgress(Math.round((Date.now() - began) / 1000)), 1000);
    child.on('error', (error) => {
      clearInterval(ticker);
      reject(new Error(`cannot run ${pm}: ${error.message}`));
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`${pm} install failed (exit ${code}):\n${output.trim()}`));
    });
  });
}
