/** What made the configuration load again. */
export type ReloadOrigin = 'file' | 'signal' | 'etcd';

export const RELOAD_ORIGINS: readonly ReloadOrigin[] = ['file', 'signal', 'etcd'];
