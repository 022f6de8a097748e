import { definePlugin } from '../core/index.js';
import { exceptionsConfigSchema } from './config-schema.js';
import type { ExceptionReporter } from './exception-event.js';
import { ExceptionTracker, type ExceptionTracking } from './exception-tracker.js';
import { describeError } from './fingerprint.js';
import { LogReporter } from './log-reporter.js';
import { ReporterRunner } from './reporter-runner.js';

declare module '../core/service-context.js' {
  interface ServiceCapabilities {
    /** Exception tracking: `ctx.exceptions.addReporter(reporter)` sends unhandled errors to a tracker. */
    exceptions: ExceptionTracking;
  }
}

export interface ExceptionsPluginOptions {
  /** Reporters set in code, besides the built-in one that `exceptions.reporter` selects. */
  reporters?: readonly ExceptionReporter[];
}

/**
 * Exception tracking, off unless `exceptions.enabled`: listens on the service's error channel,
 * fingerprints and counts every unhandled error and hands it to the reporters (the log, and those
 * added in code). When off, `ctx.exceptions` still exists, so plugins may add reporters
 * unconditionally; nothing listens and a report costs nothing.
 */
export function createExceptionsPlugin(options: ExceptionsPluginOptions = {}) {
  const reporters = [...(options.reporters ?? [])];
  for (const [index, reporter] of reporters.entries()) {
    if (reporter === null || typeof reporter !== 'object' || typeof reporter.report !== 'function')
      throw new TypeError(
        `reporters[${index}] is not an exception reporter: it needs a report(event) function`,
      );
  }
  return definePlugin({
    name: 'exceptions',
    dependencies: ['metrics'],
    config: exceptionsConfigSchema,
    register(ctx) {
      const settings = ctx.config.get('exceptions');
      if (!settings.enabled) {
        ctx.provide('exceptions', {
          enabled: false,
          addReporter: (reporter) => {
            if (typeof reporter?.report !== 'function')
              throw new TypeError('An exception reporter is an object with a report(event) function');
            return () => {};
          },
          fingerprint: (error) => describeError(error, settings.stackFrames).fingerprint,
          flush: () => Promise.resolve(),
        });
        return;
      }
      if (settings.reporterTimeoutMs < 1)
        throw new TypeError('exceptions.reporterTimeoutMs must be at least 1 ms');

      const runner = new ReporterRunner({
        timeoutMs: settings.reporterTimeoutMs,
        warnEveryMs: settings.logRepeatsEveryMs,
        failures: ctx.metrics.counter({
          name: 'exceptions_reporter_failures_total',
          help: 'Exception reports a reporter failed to take: it threw or rejected (error), overran exceptions.reporterTimeoutMs (timeout), or had too many reports in flight (overloaded).',
          labelNames: ['reporter', 'reason'],
        }),
        log: ctx.log,
      });
      const tracker = new ExceptionTracker({
        service: { name: ctx.name, version: ctx.version, instanceId: ctx.instanceId, env: ctx.env },
        maxFingerprints: settings.maxFingerprints,
        stackFrames: settings.stackFrames,
        reporters: runner,
        metrics: {
          exceptions: ctx.metrics.counter({
            name: 'exceptions_total',
            help: 'Unhandled errors, by fingerprint (a short hash; "other" beyond exceptions.maxFingerprints), source (http, consumer, task, process) and error name.',
            labelNames: ['fingerprint', 'source', 'name'],
          }),
          fingerprints: ctx.metrics.gauge({
            name: 'exceptions_fingerprints',
            help: 'Distinct error fingerprints tracked in this process (at most exceptions.maxFingerprints).',
          }),
        },
        onOverflow: (max) =>
          ctx.log.warn(
            { maxFingerprints: max },
            'more than %d distinct error fingerprints: new ones are counted and logged as "other"',
            max,
          ),
      });
      if (settings.reporter === 'log')
        runner.add(new LogReporter(ctx.log, { everyMs: settings.logRepeatsEveryMs }));
      for (const reporter of reporters) runner.add(reporter);

      ctx.provide('exceptions', tracker);
      ctx.errors.onReport((error, context) => tracker.handle(error, context));
      // Last phase: errors of the earlier phases are still reported, then everything is sent.
      ctx.onStop(() => tracker.flush(), { phase: 'telemetry' });
    },
  });
}

/** Exception tracking with the reporters chosen by config alone. */
export const exceptionsPlugin = createExceptionsPlugin();
