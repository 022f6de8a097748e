import { definePlugin } from '@keelson/chassis';

/**
 * The __name__ plugin: its own config keys, a health indicator, and work that starts and stops with
 * the service. Built-in capabilities are plugins of exactly this shape.
 */
export const __nameCamel__Plugin = definePlugin({
  name: '__name__',
  dependencies: ['health'],
  config: {
    __nameCamel__: {
      enabled: { doc: 'Whether the __name__ plugin runs.', format: Boolean, default: true },
    },
  },
  register(ctx) {
    const settings = ctx.config.get('__nameCamel__');
    if (!settings.enabled) return;
    let started = false;
    ctx.health.add({
      name: '__name__',
      check: () => (started ? { status: 'pass' } : { status: 'fail', output: 'not started' }),
    });
    ctx.onStart(() => {
      started = true;
    });
    ctx.onStop(() => {
      started = false;
    });
  },
});
