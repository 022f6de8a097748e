// Process-wide by nature: one listener however many services live in the process. Installing it
// also replaces Node's default for SIGHUP (exit), so it is there only while some service wants it.
const handlers = new Set<() => void>();

function onSighup(): void {
  for (const handler of handlers) handler();
}

/** Calls the handler on every SIGHUP; returns a function that removes it (and the listener with the last one). */
export function listenForSighup(handler: () => void): () => void {
  if (handlers.size === 0) process.on('SIGHUP', onSighup);
  handlers.add(handler);
  return () => {
    if (!handlers.delete(handler) || handlers.size > 0) return;
    process.off('SIGHUP', onSighup);
  };
}
