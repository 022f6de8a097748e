import { type FSWatcher, watch } from 'node:fs';

/**
 * Watches the config directory and calls `onChange` for changes that can affect the configuration:
 * JSON files, and the `..data` link Kubernetes swaps when a mounted ConfigMap is updated (the files
 * themselves are links into it and never change). Throws when the directory cannot be watched.
 */
export function watchConfigDir(
  dir: string,
  onChange: () => void,
  onError: (error: Error) => void,
): () => void {
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, filename) => {
    // Some platforms do not report the name: then any change counts.
    if (filename === null || filename.endsWith('.json') || filename.startsWith('..')) onChange();
  });
  watcher.on('error', onError);
  return () => watcher.close();
}
