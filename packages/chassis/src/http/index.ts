export { httpConfigSchema } from './config-schema.js';
export { httpPlugin } from './http-plugin.js';
export {
  type FieldError,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  ProblemError,
  type ProblemInit,
  problem,
} from './problem-details.js';
export { HTTP_REJECTED_CHANNEL, type RejectedRequest } from './rejected-requests.js';
export { REQUEST_ID_HEADER } from './request-id.js';
