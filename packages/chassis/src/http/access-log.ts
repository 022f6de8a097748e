import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * fastify's request logging, trimmed to what an access log needs: one line per completed request
 * with method, route template, status and duration, tagged with the request id. Off unless
 * `http.accessLog` is on.
 */
export class AccessLogController extends LogController {
  constructor(enabled: boolean) {
    super({ requestIdLogLabel: 'requestId', disableRequestLogging: !enabled });
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = {
      method: request.method,
      route: request.routeOptions.url,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
